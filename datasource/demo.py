"""The demo factory: a seeded, reproducible order history and a live feed.

``generate`` builds about 90 days of history for a factory with two production lines and
an online shop (see ``datasource.demo_world`` for the cast): orders flow through the
pipeline's stages with lognormal stays around the SLAs, promised dates a few days to
weeks out (about one completed order in seven is late), rework after failed inspection,
cancellations, exceptions with opened/acknowledged/resolved times, and the orders still
open at ``end`` spread over the stages. The same seed and window give identical records.

The simulation is vectorised with numpy: every order follows one of three stage paths
(online, factory, factory with rework), so the whole history is a matrix of stays whose
cumulative sums are the stage entry times; only building the record objects is a Python
loop. ``seed_store`` writes the records through ``ingest`` in batches, and ``advance``
(``datasource.demo_feed``) keeps orders moving afterwards.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select

from datasource import demo_world as world
from datasource.demo_feed import advance
from datasource.ingest import EventRecord, ExceptionRecord, IngestResult, OrderRecord, ingest
from datasource.pipeline import Pipeline, default_pipeline
from datasource.schema import Order, StoreMeta
from datasource.store import utcnow

__all__ = [
    "DemoData", "generate", "seed_store", "advance", "is_demo_store", "store_is_empty",
    "mark_demo_store",
]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
REWORK_SHARE = 0.055  # of factory orders: about 5 % of all orders
CANCEL_SHARE = 0.02
AFTER_SALES_SHARE = 0.03
DEMO_MARK = "demo_seed"


@dataclass
class DemoData:
    """Records of a generated history, ready for ``ingest``."""

    orders: list[OrderRecord]
    events: list[EventRecord]
    exceptions: list[ExceptionRecord]
    seed: int = 7
    start: datetime | None = None
    end: datetime | None = None


def generate(
    seed: int = 7,
    n_orders: int = 3000,
    start: datetime | None = None,
    end: datetime | None = None,
    pipeline: Pipeline | None = None,
) -> DemoData:
    """A reproducible history of ``n_orders`` orders placed between ``start`` and ``end``.

    ``end`` defaults to now (UTC, rounded down to the minute), ``start`` to 90 days
    before ``end``. Both must be time-zone aware. Nothing happens after ``end``: an order
    whose next stage would begin later is still open at ``end``.
    """
    pipeline = pipeline or default_pipeline()
    end = end or utcnow().replace(second=0, microsecond=0)
    start = start or end - timedelta(days=90)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be time-zone aware")
    if not start < end:
        raise ValueError(f"start {start} is not before end {end}")
    with _collector_paused():
        return _generate(seed, int(n_orders), start, end, pipeline)


def _generate(seed: int, n: int, start: datetime, end: datetime, pipeline: Pipeline) -> DemoData:
    rng = np.random.default_rng(seed)
    end_us = _us(end)
    offset_us = int(ZoneInfo(pipeline.timezone).utcoffset(end.replace(tzinfo=None)).total_seconds()) * 1_000_000

    placed = _placed_times(rng, n, _us(start), end_us, offset_us)
    attrs = world.sample_attributes(rng, n)
    plan = _StayPlan.build(rng, pipeline, attrs)
    exc = _sample_exceptions(rng, pipeline, plan)
    enter = placed[:, None] + np.concatenate(
        [np.zeros((n, 1), np.int64), np.cumsum(plan.stay_us, axis=1)[:, :-1]], axis=1
    )
    cancel_col = rng.integers(0, min(4, len(pipeline.flow_stages)), n)
    cancel_at = enter[np.arange(n), cancel_col] + (
        rng.uniform(0.2, 0.9, n) * plan.stay_us[np.arange(n), cancel_col]
    ).astype(np.int64)
    cancelled = (rng.random(n) < CANCEL_SHARE) & (cancel_at <= end_us)
    cols = np.arange(plan.stage.shape[1])[None, :]
    valid = (plan.stage >= 0) & (enter <= end_us) & ~(cancelled[:, None] & (cols > cancel_col[:, None]))

    numbers = _order_numbers(placed, offset_us)
    lead = world.promise_lead_days(rng, plan.expected_hours, attrs["priority"])
    promised = ((placed + offset_us) // DAY_US + lead + 1) * DAY_US - offset_us - 1_000_000
    orders = _order_records(numbers, attrs, promised)
    events = _stage_events(rng, pipeline, plan, enter, valid, numbers)
    events += _cancel_events(pipeline, plan, numbers, cancelled, cancel_col, cancel_at)
    events += _after_sales_events(rng, pipeline, plan, enter, valid, numbers, end_us)
    exceptions, exc_events = _exception_records(rng, pipeline, exc, enter, numbers, end_us,
                                                cancelled, cancel_col, cancel_at)
    return DemoData(orders, events + exc_events, exceptions, seed, start, end)


# -- the stay matrix ------------------------------------------------------------------


@dataclass
class _StayPlan:
    """Per order and step: stage index (-1 = no step), stay in microseconds, rework flag."""

    stage: np.ndarray        # (n, L) int: index into pipeline.codes
    stay_us: np.ndarray      # (n, L) int64
    rework_col: np.ndarray   # (n,) int: column of the failed inspection, -1 without rework
    expected_hours: np.ndarray  # (n,) mean hours of the order's path without rework
    online: np.ndarray       # (n,) bool

    @classmethod
    def build(cls, rng: np.random.Generator, pipeline: Pipeline, attrs: dict) -> "_StayPlan":
        codes = list(pipeline.codes)
        n, online = attrs["online"].shape[0], attrs["online"]
        factory = list(world.order_path(pipeline, online=False))
        paths = [list(world.order_path(pipeline, online=True)), factory, factory]
        can_rework = world.REWORK_FROM in factory and world.REWORK_TO in factory
        fail_at = factory.index(world.REWORK_FROM) if can_rework else -1
        if can_rework:
            paths[2] = factory[: fail_at + 1] + [world.REWORK_TO, world.REWORK_FROM] + factory[fail_at + 1:]
        width = max(len(p) for p in paths)
        table = np.full((3, width), -1, np.int64)
        for k, path in enumerate(paths):
            table[k, : len(path)] = [codes.index(c) for c in path]
        rework = ~online & (rng.random(n) < REWORK_SHARE) & can_rework
        kind = np.where(online, 0, np.where(rework, 2, 1))
        stage = table[kind]

        median = np.zeros((2, len(codes)))
        sigma = np.zeros((2, len(codes)))
        for i, code in enumerate(codes):
            if code == pipeline.terminal or pipeline.stage(code).optional:
                continue
            for j, is_online in enumerate((False, True)):
                median[j, i], sigma[j, i] = world.stage_hours(pipeline, code, is_online)
        row = online.astype(np.int64)[:, None]
        safe = np.maximum(stage, 0)
        hours = median[row, safe] * np.exp(sigma[row, safe] * rng.standard_normal(stage.shape))
        line_b = np.array([world.production_line_of(p, False) == world.LINE_B
                           for p in range(len(world.PRODUCTS))])[attrs["product"]] & ~online
        if world.REWORK_TO in codes:
            hours[(stage == codes.index(world.REWORK_TO)) & line_b[:, None]] *= world.LINE_B_PRODUCTION_FACTOR
        rework_cells = np.zeros_like(stage, dtype=bool)
        if can_rework:
            rework_cells[rework, fail_at + 1: fail_at + 3] = True
        hours[rework_cells] *= world.REWORK_FACTOR
        hours[stage < 0] = 0.0
        mean = median * np.exp(sigma**2 / 2)
        base = np.where(rework_cells | (stage < 0), 0.0, mean[row, safe])
        return cls(
            stage=stage,
            stay_us=(hours * HOUR_US).astype(np.int64),
            rework_col=np.where(rework, fail_at, -1),
            expected_hours=base.sum(axis=1),
            online=online,
        )


@dataclass
class _Exceptions:
    order: np.ndarray    # (m,) order index
    col: np.ndarray      # (m,) step column
    kind: list[str]
    opened_us: np.ndarray  # (m,) offset from the step's entry
    resolve_us: np.ndarray  # (m,) offset from the step's entry


def _sample_exceptions(rng: np.random.Generator, pipeline: Pipeline, plan: _StayPlan) -> _Exceptions:
    """Pick the orders that hit an exception; the exception lengthens that stay."""
    codes = list(pipeline.codes)
    n = plan.stage.shape[0]
    parts: list[tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray]] = []
    for kind, (code, share, extra_h, _sev) in world.EXCEPTION_KINDS.items():
        hit = rng.random(n) < share
        extra = (rng.lognormal(np.log(extra_h), 0.6, n) * HOUR_US).astype(np.int64)
        at = rng.uniform(0.05, 0.8, n)
        fix = rng.uniform(0.6, 0.95, n)
        late_close = rng.random(n) < world.LATE_CLOSE_SHARE
        close_after = (rng.lognormal(np.log(world.LATE_CLOSE_MEDIAN_HOURS), 0.5, n) * HOUR_US).astype(np.int64)
        if code not in codes:
            continue
        is_stage = plan.stage == codes.index(code)
        col = np.argmax(is_stage, axis=1)
        hit &= is_stage.any(axis=1)
        if kind == "payment_overdue":
            hit &= ~plan.online  # online orders pay at checkout
        idx = np.nonzero(hit)[0]
        base = plan.stay_us[idx, col[idx]]
        opened = (at[idx] * base).astype(np.int64)
        plan.stay_us[idx, col[idx]] = base + extra[idx]
        closed = opened + np.where(late_close[idx], close_after[idx], (fix[idx] * extra[idx]).astype(np.int64))
        parts.append((idx, col[idx], kind, opened, closed))
    # A failed inspection: opened when QC fails, resolved when the re-inspection passes.
    idx = np.nonzero(plan.rework_col >= 0)[0]
    col = plan.rework_col[idx]
    stay = plan.stay_us[idx, col]
    later = plan.stay_us[idx, col + 1] + plan.stay_us[idx, col + 2]
    parts.append((idx, col, world.QUALITY_FAILURE, stay, stay + later))
    return _Exceptions(
        order=np.concatenate([p[0] for p in parts]),
        col=np.concatenate([p[1] for p in parts]),
        kind=[p[2] for p in parts for _ in range(len(p[0]))],
        opened_us=np.concatenate([p[3] for p in parts]),
        resolve_us=np.concatenate([p[4] for p in parts]),
    )


# -- placing orders -------------------------------------------------------------------

# Orders come in office hours, less on weekends (local time of the pipeline's zone).
_HOUR_WEIGHT = np.array([1, 1, 1, 1, 1, 2, 3, 6, 12, 16, 16, 14, 9, 12, 15, 15, 13, 10, 7, 6, 5, 4, 3, 2], float)
_WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3])  # Monday first


def _placed_times(rng: np.random.Generator, n: int, start_us: int, end_us: int, offset_us: int) -> np.ndarray:
    """n sorted placement times in [start, end], by rejection against the weekly profile."""
    out: list[np.ndarray] = []
    have = 0
    top = _HOUR_WEIGHT.max() * _WEEKDAY_WEIGHT.max()
    while have < n:
        t = rng.integers(start_us, end_us, max(3 * (n - have), 64), endpoint=True)
        local = t + offset_us
        weekday = ((local // DAY_US) + 3) % 7  # 1970-01-01 was a Thursday
        hour = (local % DAY_US) // HOUR_US
        keep = rng.random(t.shape[0]) * top < _HOUR_WEIGHT[hour] * _WEEKDAY_WEIGHT[weekday]
        out.append(t[keep])
        have += int(keep.sum())
    return np.sort(np.concatenate(out)[:n])


def _order_numbers(placed: np.ndarray, offset_us: int) -> list[str]:
    """SO + local date (yymmdd) + five-digit sequence of the day, in placement order."""
    day = (placed + offset_us) // DAY_US
    days, first = np.unique(day, return_index=True)
    first_of = dict(zip(days.tolist(), first.tolist()))
    prefix = {
        d: world.ORDER_PREFIX + (datetime(1970, 1, 1) + timedelta(days=d)).strftime("%y%m%d")
        for d in days.tolist()
    }
    return [f"{prefix[d]}{i - first_of[d] + 1:05d}" for i, d in enumerate(day.tolist())]


def _order_records(numbers: list[str], attrs: dict, promised_us: np.ndarray) -> list[OrderRecord]:
    product_names = list(world.PRODUCTS)
    promised = _datetimes(promised_us)
    rows = zip(numbers, attrs["customer"].tolist(), attrs["product"].tolist(),
               attrs["online"].tolist(), attrs["quantity"].tolist(), attrs["amount"].tolist(),
               attrs["priority"].tolist(), promised)
    return [
        OrderRecord(
            order_number=num,
            customer=world.CUSTOMERS[c].name,
            channel=world.CUSTOMERS[c].channel,
            production_line=world.production_line_of(p, online),
            product_line=product_names[p],
            owner=world.CUSTOMERS[c].owner,
            quantity=q,
            amount=a,
            priority=world.PRIORITIES[pr],
            promised_at=due,
            source="demo",
        )
        for num, c, p, online, q, a, pr, due in rows
    ]


# -- events ---------------------------------------------------------------------------


def _stage_events(rng, pipeline, plan, enter, valid, numbers) -> list[EventRecord]:
    codes = list(pipeline.codes)
    pools = [world.operators_for(pipeline, c) for c in codes]
    names = np.array([name for pool in pools for name in pool], dtype=object)
    offsets = np.cumsum([0] + [len(p) for p in pools[:-1]])
    sizes = np.array([len(p) for p in pools])
    pick = rng.random(plan.stage.shape)
    safe = np.maximum(plan.stage, 0)
    who = names[offsets[safe] + (pick * sizes[safe]).astype(np.int64)]
    rows, cols = np.nonzero(valid)
    stage_codes = [codes[s] for s in plan.stage[rows, cols].tolist()]
    times = _datetimes(enter[rows, cols])
    return [
        EventRecord(numbers[i], code, "enter", t, op, None, f"demo:{numbers[i]}:{j}", "demo")
        for i, j, code, t, op in zip(rows.tolist(), cols.tolist(), stage_codes, times,
                                     who[rows, cols].tolist())
    ]


def _cancel_events(pipeline, plan, numbers, cancelled, cancel_col, cancel_at) -> list[EventRecord]:
    codes = list(pipeline.codes)
    idx = np.nonzero(cancelled)[0]
    times = _datetimes(cancel_at[idx])
    return [
        EventRecord(numbers[i], codes[plan.stage[i, cancel_col[i]]], "cancel", t, "客服",
                    "客户取消订单 / cancelled by the customer", f"demo:{numbers[i]}:cancel", "demo")
        for i, t in zip(idx.tolist(), times)
    ]


def _after_sales_events(rng, pipeline, plan, enter, valid, numbers, end_us) -> list[EventRecord]:
    """A few received orders come back for after-sales service, when the pipeline has it."""
    n = plan.stage.shape[0]
    ask = rng.random(n) < AFTER_SALES_SHARE
    wait = (rng.lognormal(np.log(72), 0.6, n) * HOUR_US).astype(np.int64)
    work = (rng.lognormal(np.log(40), 0.6, n) * HOUR_US).astype(np.int64)
    later = [s for s in pipeline.stages if s.optional and s.position > pipeline.position(pipeline.terminal)]
    if not later:
        return []
    code = later[0].code
    terminal = plan.stage == pipeline.codes.index(pipeline.terminal)
    reached = (terminal & valid).any(axis=1)
    received = np.where(reached, enter[np.arange(n), np.argmax(terminal, axis=1)], end_us)
    begin, done = received + wait, received + wait + work
    out: list[EventRecord] = []
    for i in np.nonzero(ask & reached & (begin <= end_us))[0].tolist():
        number = numbers[i]
        out.append(EventRecord(number, code, "enter", _datetimes(begin[i:i + 1])[0], "邓颖",
                               "客户报修 / service request", f"demo:{number}:as", "demo"))
        if done[i] <= end_us:
            out.append(EventRecord(number, code, "complete", _datetimes(done[i:i + 1])[0], "邓颖",
                                   None, f"demo:{number}:as-done", "demo"))
    return out


def _exception_records(rng, pipeline, exc: _Exceptions, enter, numbers, end_us,
                       cancelled, cancel_col, cancel_at) -> tuple[list[ExceptionRecord], list[EventRecord]]:
    m = exc.order.shape[0]
    ack_delay = (rng.lognormal(np.log(1.5), 0.9, m) * HOUR_US).astype(np.int64)
    sev_pick = rng.random(m)
    who_pick = rng.random(m)
    step_in = enter[exc.order, exc.col]
    opened = step_in + exc.opened_us
    resolved = step_in + exc.resolve_us
    acked = np.minimum(opened + ack_delay, resolved)
    gone = cancelled[exc.order] & ((exc.col > cancel_col[exc.order]) | (opened > cancel_at[exc.order]))
    keep = np.nonzero((opened <= end_us) & ~gone)[0]
    when = {k: _datetimes(a[keep]) for k, a in (("o", opened), ("a", acked), ("r", resolved))}
    records: list[ExceptionRecord] = []
    events: list[EventRecord] = []
    for pos, k in enumerate(keep.tolist()):
        i, kind = int(exc.order[k]), exc.kind[k]
        number = numbers[i]
        stage = world.REWORK_FROM if kind == world.QUALITY_FAILURE else world.EXCEPTION_KINDS[kind][0]
        severities = ("high",) if kind == world.QUALITY_FAILURE else world.EXCEPTION_KINDS[kind][3]
        owners = world.operators_for(pipeline, stage)
        uid = f"demo:{number}:x:{kind}"
        ack = when["a"][pos] if acked[k] <= end_us else None
        res = when["r"][pos] if resolved[k] <= end_us else None
        note = world.EXCEPTION_NOTES[kind]
        records.append(ExceptionRecord(
            uid, number, stage, kind, when["o"][pos],
            severity=severities[int(sev_pick[k] * len(severities))],
            acknowledged_at=ack, resolved_at=res,
            owner=owners[int(who_pick[k] * len(owners))], note=note,
        ))
        events.append(EventRecord(number, stage, "exception", when["o"][pos], records[-1].owner,
                                  note, uid + ":open", "demo"))
        if res is not None:
            events.append(EventRecord(number, stage, "resolve", res, records[-1].owner,
                                      note, uid + ":resolve", "demo"))
    return records, events


# -- writing into a store -------------------------------------------------------------


def seed_store(
    engine: Engine,
    pipeline: Pipeline,
    data: DemoData,
    batch_orders: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Write a generated history through ``ingest``, one transaction per batch of orders.

    The store is marked as a demo store first (``is_demo_store``), so the demo command
    may later top it up and the live feed may write to it. ``progress`` is called with
    the number of orders written after each batch.
    """
    mark_demo_store(engine, data.seed)
    events_of: dict[str, list[EventRecord]] = defaultdict(list)
    for e in data.events:
        events_of[e.order_number].append(e)
    exceptions_of: dict[str, list[ExceptionRecord]] = defaultdict(list)
    for x in data.exceptions:
        exceptions_of[x.order_number].append(x)
    total = IngestResult()
    for lo in range(0, len(data.orders), batch_orders):
        batch = data.orders[lo: lo + batch_orders]
        result = ingest(
            engine, pipeline, batch,
            [e for o in batch for e in events_of.get(o.order_number, ())],
            [x for o in batch for x in exceptions_of.get(o.order_number, ())],
            actor="demo", target="demo history",
        )
        _add(total, result)
        if progress is not None:
            progress(len(batch))
    return total


def _add(total: IngestResult, part: IngestResult) -> None:
    for f in fields(IngestResult):
        if f.name == "warnings":
            total.warnings.extend(part.warnings)
        else:
            setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))


def mark_demo_store(engine: Engine, seed: int) -> None:
    """Record that this store holds demo data (idempotent)."""
    with engine.begin() as conn:
        if conn.execute(select(StoreMeta.value).where(StoreMeta.key == DEMO_MARK)).first() is None:
            conn.execute(insert(StoreMeta), [{"key": DEMO_MARK, "value": str(seed)}])


def is_demo_store(engine: Engine) -> bool:
    """True when the store was seeded by the demo (the live feed only writes to those)."""
    with engine.connect() as conn:
        return conn.execute(select(StoreMeta.value).where(StoreMeta.key == DEMO_MARK)).first() is not None


def store_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Order)).scalar_one() == 0


# -- helpers --------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of records are built: they are
    all kept, so its passes over them are wasted (a third of the time at 1M orders)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _us(moment: datetime) -> int:
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _datetimes(us: np.ndarray) -> list[datetime]:
    """UTC-aware datetimes, to the whole second, from microseconds since the epoch."""
    if us.shape[0] == 0:
        return []
    return list(pd.to_datetime(us // 1_000_000, unit="s", utc=True).to_pydatetime())

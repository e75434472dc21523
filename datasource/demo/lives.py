"""The drawn lives of a batch of demo orders, every moment of them, uncut.

``simulate`` is vectorised with numpy: every order follows one of three stage paths
(online, factory, factory with rework after a failed inspection), so a batch is a matrix
of lognormal stays around the SLAs whose cumulative sums are the stage entry times.
Exceptions lengthen the stay they happen in and are acknowledged and resolved later; a
few orders are cancelled (later steps then never happen) or come back for after-sales
service. The draws are made in one fixed order from the generator given, so the same
generator state gives the same lives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasource.demo import world
from datasource.pipeline import Pipeline

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
REWORK_SHARE = 0.055  # of factory orders: about 5 % of all orders
CANCEL_SHARE = 0.02
AFTER_SALES_SHARE = 0.03


@dataclass
class Lifecycles:
    """The whole drawn life of a batch of orders, every moment in microseconds UTC.

    Per order (n) and step of its path (L columns): ``stage`` (index into the pipeline's
    codes, -1 = no step), ``enter`` (when the step begins) and ``happens`` (the step is
    taken: it exists and comes before any cancellation).
    """

    numbers: list[str]
    placed: np.ndarray          # (n,)
    attrs: dict[str, np.ndarray]
    promised: np.ndarray        # (n,)
    stage: np.ndarray           # (n, L)
    enter: np.ndarray           # (n, L)
    happens: np.ndarray         # (n, L) bool
    operator: np.ndarray        # (n, L) object: who records each step
    cancelled: np.ndarray       # (n,) bool: the order will be cancelled ...
    cancel_col: np.ndarray      # (n,) ... during this step ...
    cancel_at: np.ndarray       # (n,) ... at this moment
    service_code: str | None    # the optional after-sales stage, if the pipeline has one
    service: np.ndarray         # (n,) bool: the received order comes back for service
    service_begin: np.ndarray   # (n,)
    service_done: np.ndarray    # (n,)
    exc_order: np.ndarray       # (m,) order index of each exception
    exc_kind: list[str]
    exc_stage: list[str]
    exc_severity: list[str]
    exc_owner: list[str]
    exc_opened: np.ndarray      # (m,)
    exc_acked: np.ndarray       # (m,)
    exc_resolved: np.ndarray    # (m,)
    exc_happens: np.ndarray     # (m,) bool: not dropped by a cancellation

    @property
    def last_us(self) -> int:
        """The latest moment at which anything happens to these orders."""
        parts = [self.placed, self.enter[self.happens], self.cancel_at[self.cancelled],
                 self.service_done[self.service], self.exc_resolved[self.exc_happens]]
        return int(max((p.max() for p in parts if p.shape[0]), default=-1))


def simulate(rng: np.random.Generator, placed: np.ndarray, numbers: list[str], offset_us: int,
             pipeline: Pipeline) -> Lifecycles:
    """Draw the lives of orders placed at ``placed`` (sorted microseconds UTC)."""
    n = int(placed.shape[0])
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
    cancelled = rng.random(n) < CANCEL_SHARE
    cols = np.arange(plan.stage.shape[1])[None, :]
    happens = (plan.stage >= 0) & ~(cancelled[:, None] & (cols > cancel_col[:, None]))
    lead = world.promise_lead_days(rng, plan.expected_hours, attrs["priority"])
    promised = ((placed + offset_us) // DAY_US + lead + 1) * DAY_US - offset_us - 1_000_000
    operator = _operators(rng, pipeline, plan.stage)
    service_code, service, begin, done = _after_sales(rng, pipeline, plan, enter, happens)
    return Lifecycles(
        numbers=numbers, placed=placed, attrs=attrs, promised=promised, stage=plan.stage,
        enter=enter, happens=happens, operator=operator, cancelled=cancelled,
        cancel_col=cancel_col, cancel_at=cancel_at, service_code=service_code,
        service=service, service_begin=begin, service_done=done,
        **_settle_exceptions(rng, pipeline, exc, enter, cancelled, cancel_col, cancel_at),
    )


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
    n = int(plan.stage.shape[0])
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


def _operators(rng: np.random.Generator, pipeline: Pipeline, stage: np.ndarray) -> np.ndarray:
    """Who records each step: one of the stage department's people."""
    pools = [world.operators_for(pipeline, c) for c in pipeline.codes]
    names = np.array([name for pool in pools for name in pool], dtype=object)
    offsets = np.cumsum([0] + [len(p) for p in pools[:-1]])
    sizes = np.array([len(p) for p in pools])
    pick = rng.random(stage.shape)
    safe = np.maximum(stage, 0)
    return names[offsets[safe] + (pick * sizes[safe]).astype(np.int64)]


def _after_sales(rng, pipeline: Pipeline, plan: _StayPlan, enter: np.ndarray, happens: np.ndarray
                 ) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
    """A few received orders come back for after-sales service, when the pipeline has it."""
    n = int(plan.stage.shape[0])
    ask = rng.random(n) < AFTER_SALES_SHARE
    wait = (rng.lognormal(np.log(72), 0.6, n) * HOUR_US).astype(np.int64)
    work = (rng.lognormal(np.log(40), 0.6, n) * HOUR_US).astype(np.int64)
    end_code = world.order_path(pipeline, online=False)[-1]  # the terminal stage
    later = [s for s in pipeline.stages if s.optional and s.position > pipeline.position(end_code)]
    terminal = plan.stage == pipeline.codes.index(end_code)
    reached = (terminal & happens).any(axis=1)
    received = enter[np.arange(n), np.argmax(terminal, axis=1)]
    code = later[0].code if later else None
    return code, ask & reached & (code is not None), received + wait, received + wait + work


def _settle_exceptions(rng: np.random.Generator, pipeline: Pipeline, exc: _Exceptions, enter: np.ndarray,
                       cancelled: np.ndarray, cancel_col: np.ndarray, cancel_at: np.ndarray) -> dict:
    """The ``exc_*`` fields of ``Lifecycles``: moments, stage, severity and owner of each
    exception; those of a step the order never takes (cancelled before) do not happen."""
    m = int(exc.order.shape[0])
    ack_delay = (rng.lognormal(np.log(1.5), 0.9, m) * HOUR_US).astype(np.int64)
    sev_pick = rng.random(m)
    who_pick = rng.random(m)
    step_in = enter[exc.order, exc.col]
    opened = step_in + exc.opened_us
    resolved = step_in + exc.resolve_us
    order = exc.order
    gone = cancelled[order] & ((exc.col > cancel_col[order]) | (opened > cancel_at[order]))
    stages = [world.REWORK_FROM if k == world.QUALITY_FAILURE else world.EXCEPTION_KINDS[k][0]
              for k in exc.kind]
    severity_sets = [("high",) if k == world.QUALITY_FAILURE else world.EXCEPTION_KINDS[k][3]
                     for k in exc.kind]
    owner_sets = [world.operators_for(pipeline, s) for s in stages]
    return {
        "exc_order": order,
        "exc_kind": exc.kind,
        "exc_stage": stages,
        "exc_severity": [s[int(p * len(s))] for s, p in zip(severity_sets, sev_pick.tolist())],
        "exc_owner": [o[int(p * len(o))] for o, p in zip(owner_sets, who_pick.tolist())],
        "exc_opened": opened,
        "exc_acked": np.minimum(opened + ack_delay, resolved),
        "exc_resolved": resolved,
        "exc_happens": ~gone,
    }

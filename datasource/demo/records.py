"""What happens to the demo's orders in a time window, as records for ``ingest``.

``records_between(lives, pipeline, lo, hi)`` is the one place where drawn lives
(``datasource.demo.lives.Lifecycles``) become orders, events and exceptions: those of
the window (lo, hi], in microseconds UTC. The history is the window up to its end; each
step of the live feed is the window since the previous step. Every record carries a
stable id derived from the order and what happened, so the same moment sent twice is
harmless, and cutting time into windows differently gives the same store:

- an order is created when it is placed;
- an event is sent when it occurs (events come in time order);
- an exception is sent whenever it opens, is acknowledged or is resolved within the
  window, as it stands at the window's end (``ingest`` only moves an exception forward).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import pandas as pd

from datasource.demo import world
from datasource.demo.lives import Lifecycles
from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord
from datasource.pipeline import Pipeline

SOURCE = "demo"
CANCEL_NOTE = "客户取消订单 / cancelled by the customer"


@dataclass
class Records:
    orders: list[OrderRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    exceptions: list[ExceptionRecord] = field(default_factory=list)

    def extend(self, other: "Records") -> None:
        self.orders += other.orders
        self.events += other.events
        self.exceptions += other.exceptions

    def __bool__(self) -> bool:
        return bool(self.orders or self.events or self.exceptions)


def records_between(life: Lifecycles, pipeline: Pipeline, lo_us: int, hi_us: int) -> Records:
    """The orders placed, events that occur and exceptions that change in (lo, hi]."""
    def inside(moments: np.ndarray) -> np.ndarray:
        return (moments > lo_us) & (moments <= hi_us)

    events = (
        _stage_events(life, pipeline, life.happens & inside(life.enter))
        + _cancel_events(life, pipeline, life.cancelled & inside(life.cancel_at))
        + _service_events(life, inside)
    )
    exceptions, exception_events = _exceptions(life, inside, hi_us)
    events += exception_events
    events.sort(key=attrgetter("occurred_at"))  # stable: ties keep the order above
    return Records(_orders(life, np.nonzero(inside(life.placed))[0]), events, exceptions)


def _orders(life: Lifecycles, idx: np.ndarray) -> list[OrderRecord]:
    a = life.attrs
    product_names = list(world.PRODUCTS)
    promised = datetimes(life.promised[idx])
    rows = zip(idx.tolist(), a["customer"][idx].tolist(), a["product"][idx].tolist(),
               a["online"][idx].tolist(), a["quantity"][idx].tolist(), a["amount"][idx].tolist(),
               a["priority"][idx].tolist(), promised)
    return [
        OrderRecord(
            order_number=life.numbers[i],
            customer=world.CUSTOMERS[c].name,
            channel=world.CUSTOMERS[c].channel,
            production_line=world.production_line_of(p, online),
            product_line=product_names[p],
            owner=world.CUSTOMERS[c].owner,
            quantity=q,
            amount=amount,
            priority=world.PRIORITIES[pr],
            promised_at=due,
            source=SOURCE,
        )
        for i, c, p, online, q, amount, pr, due in rows
    ]


def _stage_events(life: Lifecycles, pipeline: Pipeline, mask: np.ndarray) -> list[EventRecord]:
    codes = pipeline.codes
    rows, cols = np.nonzero(mask)
    stage_codes = [codes[s] for s in life.stage[rows, cols].tolist()]
    times = datetimes(life.enter[rows, cols])
    numbers = life.numbers
    return [
        EventRecord(numbers[i], code, "enter", t, op, None, f"demo:{numbers[i]}:{j}", SOURCE)
        for i, j, code, t, op in zip(rows.tolist(), cols.tolist(), stage_codes, times,
                                     life.operator[rows, cols].tolist())
    ]


def _cancel_events(life: Lifecycles, pipeline: Pipeline, mask: np.ndarray) -> list[EventRecord]:
    idx = np.nonzero(mask)[0]
    times = datetimes(life.cancel_at[idx])
    return [
        EventRecord(life.numbers[i], pipeline.codes[life.stage[i, life.cancel_col[i]]], "cancel", t,
                    "客服", CANCEL_NOTE, f"demo:{life.numbers[i]}:cancel", SOURCE)
        for i, t in zip(idx.tolist(), times)
    ]


def _service_events(life: Lifecycles, inside) -> list[EventRecord]:
    """After-sales: the service request (enter) and its end (complete)."""
    code = life.service_code
    if code is None:
        return []
    out: list[EventRecord] = []
    for moments, kind, note, tag in ((life.service_begin, "enter", "客户报修 / service request", "as"),
                                     (life.service_done, "complete", None, "as-done")):
        idx = np.nonzero(life.service & inside(moments))[0]
        out += [EventRecord(life.numbers[i], code, kind, t, "邓颖", note, f"demo:{life.numbers[i]}:{tag}", SOURCE)
                for i, t in zip(idx.tolist(), datetimes(moments[idx]))]
    return out


def _exceptions(life: Lifecycles, inside, hi_us: int) -> tuple[list[ExceptionRecord], list[EventRecord]]:
    opened, acked, resolved = life.exc_opened, life.exc_acked, life.exc_resolved
    changed = inside(opened) | inside(acked) | inside(resolved)
    keep = np.nonzero(life.exc_happens & (opened <= hi_us) & changed)[0]
    when = {k: datetimes(a[keep]) for k, a in (("o", opened), ("a", acked), ("r", resolved))}
    records: list[ExceptionRecord] = []
    events: list[EventRecord] = []
    for pos, k in enumerate(keep.tolist()):
        number, kind, stage = life.numbers[int(life.exc_order[k])], life.exc_kind[k], life.exc_stage[k]
        uid = f"demo:{number}:x:{kind}"
        note = world.EXCEPTION_NOTES[kind]
        owner = life.exc_owner[k]
        records.append(ExceptionRecord(
            uid, number, stage, kind, when["o"][pos], severity=life.exc_severity[k],
            acknowledged_at=when["a"][pos] if acked[k] <= hi_us else None,
            resolved_at=when["r"][pos] if resolved[k] <= hi_us else None,
            owner=owner, note=note,
        ))
        if inside(opened[k:k + 1])[0]:
            events.append(EventRecord(number, stage, "exception", when["o"][pos], owner, note,
                                      uid + ":open", SOURCE))
        if inside(resolved[k:k + 1])[0]:
            events.append(EventRecord(number, stage, "resolve", when["r"][pos], owner, note,
                                      uid + ":resolve", SOURCE))
    return records, events


def datetimes(us: np.ndarray) -> list:
    """UTC-aware datetimes, to the whole second, from microseconds since the epoch."""
    if us.shape[0] == 0:
        return []
    return list(pd.to_datetime(us // 1_000_000, unit="s", utc=True).to_pydatetime())

"""One batch of parsed rows on its way into ``ingest``, with "first value wins" merging.

When a file says two different things about one order, the first thing said is kept
and the other becomes a warning on the later row:

- within a batch: attributes and milestone times are merged here (the later row only
  fills what is still empty);
- across batches and against earlier imports: the stored value is kept. ``ingest``
  does this for attributes; for milestones ``drop_stored_conflicts`` does it, because a
  second ``enter`` of the same stage at another time would otherwise read as rework.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from datasource.importers.attributes import OrderFields
from datasource.ingest import ATTRIBUTES, EventRecord, FindingRecord, OrderRecord, chunks
from datasource.schema import Order, OrderEvent


@dataclass(frozen=True)
class Note:
    """A warning about a stored row: its line (None if unknown), order and message."""

    line: int | None
    order_number: str | None
    message: str


@dataclass
class PendingOrder:
    line: int
    attributes: dict[str, Any]
    cancelled: bool
    milestones: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Batch:
    """Rows parsed but not yet stored."""

    source: str | None
    orders: dict[str, PendingOrder] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    rows: int = 0

    def add_order(self, line: int, fields: OrderFields, notes: list[Note]) -> None:
        number = fields.order_number
        pending = self.orders.get(number)
        if pending is None:
            self.orders[number] = PendingOrder(line, dict(fields.attributes), fields.cancelled)
            return
        pending.cancelled = pending.cancelled or fields.cancelled
        if fields.attributes == pending.attributes:  # the usual repeat: nothing to merge
            return
        for name, value in fields.attributes.items():
            old = pending.attributes.get(name)
            if value is None or value == old:
                continue
            if old is None:
                pending.attributes[name] = value
            else:
                notes.append(Note(line, number, f"{name} is {_show(old)} on line {pending.line}, "
                                               f"{_show(value)} here; the first is kept"))

    def add_milestones(self, line: int, number: str, times: dict[str, datetime],
                       notes: list[Note]) -> None:
        pending = self.orders[number]
        for stage, instant in times.items():
            old = pending.milestones.get(stage)
            if old is None:
                pending.milestones[stage] = instant
            elif old != instant:
                notes.append(Note(line, number, f"{stage} is {old.isoformat()} on line "
                                               f"{pending.line}, {instant.isoformat()} here; "
                                               "the first is kept"))

    def order_records(self) -> list[OrderRecord]:
        return [
            OrderRecord(number, **{a: p.attributes.get(a) for a in ATTRIBUTES},
                        cancelled=p.cancelled, source=self.source)
            for number, p in self.orders.items()
        ]

    def milestone_events(self) -> list[EventRecord]:
        return [
            EventRecord(number, stage, "enter", instant, source=self.source)
            for number, p in self.orders.items()
            for stage, instant in p.milestones.items()
        ]

    def line_of(self, number: str) -> int | None:
        pending = self.orders.get(number)
        return pending.line if pending else None


def drop_stored_conflicts(engine: Engine, batch: Batch, notes: list[Note]) -> None:
    """Remove from the batch each milestone whose order already has an ``enter`` of that
    stage stored at a different time, with a warning; the stored one is kept.

    This reads before ``ingest`` writes, in its own transaction: two imports of
    conflicting files running at the same moment could both store their value.
    """
    numbers = [n for n, p in batch.orders.items() if p.milestones]
    stored: dict[tuple[str, str], set[datetime]] = defaultdict(set)
    with engine.connect() as conn:
        for part in chunks(numbers):
            rows = conn.execute(
                select(Order.order_number, OrderEvent.stage_code, OrderEvent.occurred_at)
                .join(Order, Order.id == OrderEvent.order_id)
                .where(Order.order_number.in_(part), OrderEvent.event_type == "enter")
            )
            for number, stage, occurred_at in rows:
                stored[(number, stage)].add(occurred_at)
    if not stored:
        return
    for number in numbers:
        pending = batch.orders[number]
        for stage, instant in list(pending.milestones.items()):
            before = stored.get((number, stage))
            if before and instant not in before:
                kept = ", ".join(sorted(t.isoformat() for t in before))
                notes.append(Note(pending.line, number,
                                  f"{stage} is {kept} in the store, {instant.isoformat()} "
                                  "here; the stored one is kept"))
                del pending.milestones[stage]


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)

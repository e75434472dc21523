"""One batch of parsed rows on its way into ``ingest``, and what a later file may change.

When a file says two different things about one order, the first thing said is kept and
the other becomes a warning on the later row, in the file's terms (its column and the
cell as written). A later row only fills what is still empty.

Against the store, a ledger is a living document: the file's values replace the stored
ones (``ingest`` with ``update``), each change recorded. For milestones,
``stored_milestones`` turns a stage whose one stored ``enter`` is at another time into a
``MilestoneMove`` (a second ``enter`` at the new time would read as rework); a stage
entered several times (rework from an event log) is not guessed at: the stored visits
stay, with a warning. A value the file leaves empty never deletes one: a warning says
the stored one is kept.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from collections.abc import Set
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from datasource.importers.attributes import OrderFields, text
from datasource.importers.mapping import Mapping
from datasource.ingest import ATTRIBUTES, EventRecord, FindingRecord, MilestoneMove, OrderRecord, chunks
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
    values: list[Any] = field(default_factory=list, repr=False)  # its first row's cells
    raw: dict[str, Any] = field(default_factory=dict)  # cells of values later rows filled
    milestones: dict[str, datetime] = field(default_factory=dict)
    milestone_raw: dict[str, Any] = field(default_factory=dict)
    #: field -> line, for values a later row than ``line`` gave (filled a gap)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RowSeen:
    """What one stored row brought: its order, its event (events shape) and whether it
    added anything to what the batch had from earlier rows."""

    line: int
    order_number: str
    event: EventRecord | None
    added: bool


@dataclass
class Batch:
    """Rows parsed but not yet stored."""

    source: str | None
    mapping: Mapping
    #: mapped field -> its position in a row
    positions: dict[str, int] = field(default_factory=dict)
    orders: dict[str, PendingOrder] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    seen: list[RowSeen] = field(default_factory=list)
    rows: int = 0
    #: order number -> first line in the file, of every order read so far (the orders
    #: whose first line is before this batch's were stored by an earlier batch)
    earlier: dict[str, int] = field(default_factory=dict)

    def add_order(self, line: int, fields: OrderFields, notes: list[Note]) -> bool:
        """Merge a row's order fields; True when it is the order's first row or filled
        an empty value."""
        number = fields.order_number
        pending = self.orders.get(number)
        if pending is None:
            self.orders[number] = PendingOrder(line, dict(fields.attributes), fields.cancelled,
                                               fields.values)
            return True
        added = fields.cancelled and not pending.cancelled
        pending.cancelled = pending.cancelled or fields.cancelled
        if fields.attributes == pending.attributes:  # the usual repeat: nothing to merge
            return added
        for name, value in fields.attributes.items():
            old = pending.attributes.get(name)
            if value is None or value == old:
                continue
            if old is None:
                pending.attributes[name] = value
                pending.raw[name] = self.cell(fields.values, name, value)
                pending.lines[name] = line
                added = True
            else:
                notes.append(Note(line, number, (
                    f"{self.column(name)} is {shown(self.raw(pending, name))} on line "
                    f"{pending.lines.get(name, pending.line)}, "
                    f"{shown(self.cell(fields.values, name, value))} here; the first is kept")))
        return added

    def add_milestones(self, line: int, number: str, times: dict[str, datetime],
                       raw: dict[str, Any], notes: list[Note]) -> bool:
        pending = self.orders[number]
        added = False
        for stage, instant in times.items():
            old = pending.milestones.get(stage)
            if old is None:
                pending.milestones[stage] = instant
                pending.milestone_raw[stage] = raw.get(stage, instant)
                if line != pending.line:
                    pending.lines[f"enter:{stage}"] = line
                added = True
            elif old != instant:
                first = pending.lines.get(f"enter:{stage}", pending.line)
                notes.append(Note(line, number, (
                    f"{self.mapping.milestones[stage]} is {shown(pending.milestone_raw[stage])} on "
                    f"line {first}, {shown(raw.get(stage, instant))} here; the first is kept")))
        return added

    def cell(self, values: list[Any], attribute: str, default: Any = None) -> Any:
        """The cell of a row that gives an attribute, as written (or its constant)."""
        name = "promised" if attribute == "promised_at" else attribute
        position = self.positions.get(name)
        if position is not None and position < len(values):
            return values[position]
        return self.mapping.constants.get(name, default)

    def raw(self, pending: PendingOrder, attribute: str) -> Any:
        """An order's attribute as the file wrote it."""
        if attribute in pending.raw:
            return pending.raw[attribute]
        return self.cell(pending.values, attribute, pending.attributes.get(attribute))

    def column(self, attribute: str) -> str:
        """The file's name for an attribute: its column, or the constant that gives it."""
        name = "promised" if attribute == "promised_at" else attribute
        if name in self.mapping.columns:
            return self.mapping.columns[name]
        return f"[constants] {name}" if name in self.mapping.constants else name

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

    def change_lines(self) -> dict[tuple[str, str], int]:
        return {(number, name): line for number, p in self.orders.items()
                for name, line in p.lines.items()}

    def line_of(self, number: str) -> int | None:
        pending = self.orders.get(number)
        return pending.line if pending else None


def given_attributes(mapping: Mapping) -> frozenset[str]:
    """The stored attributes a mapping gives (a column or a constant): those a re-import
    may change."""
    names = {*mapping.columns, *mapping.constants}
    return frozenset(a for a in ATTRIBUTES if ("promised" if a == "promised_at" else a) in names)


def stored_milestones(engine: Engine, batch: Batch, zone: ZoneInfo, notes: list[Note],
                      earlier: Set[str] = frozenset()) -> list[MilestoneMove]:
    """Compare the batch's milestones with the stored ``enter`` events of its orders (see
    the module docstring): returns the moves, and takes them (and the stages that cannot
    be moved) out of the batch, so that ``ingest`` adds only milestones that are new.
    The orders in ``earlier`` were stored by an earlier batch of the same file: their
    stored milestones are the file's own first values, kept.

    This reads before ``ingest`` writes, in its own transaction; imports of one store
    run one at a time (``importers.lock``), and a move applies only if the stored event
    is still where it was read."""
    numbers = list(batch.orders)
    stored: dict[tuple[str, str | None], list[datetime]] = defaultdict(list)
    with engine.connect() as conn:
        for part in chunks(numbers):
            rows = conn.execute(
                select(Order.order_number, OrderEvent.stage_code, OrderEvent.occurred_at)
                .join(Order, Order.id == OrderEvent.order_id)
                .where(Order.order_number.in_(part), OrderEvent.event_type == "enter")
            )
            for number, stage, occurred_at in rows:
                stored[(number, stage)].append(occurred_at)
    moves: list[MilestoneMove] = []
    if not stored:
        return moves
    for number in numbers:
        pending = batch.orders[number]
        for stage, column in batch.mapping.milestones.items():
            before = stored.get((number, stage))
            if not before:
                continue
            instant = pending.milestones.get(stage)
            if number in earlier:
                if instant is not None and instant not in before:
                    del pending.milestones[stage]
                    notes.append(Note(pending.lines.get(f"enter:{stage}", pending.line), number, (
                        f"{column} is '{local(before[0], zone)}' on line {batch.earlier[number]}, "
                        f"{shown(pending.milestone_raw.get(stage, instant))} here; the first is kept")))
                continue
            if instant is None:
                notes.append(Note(pending.line, number, (
                    f"{column} is empty here; '{local(before[-1], zone)}' in the store is kept")))
                continue
            if instant in before:
                continue
            del pending.milestones[stage]
            line = pending.lines.get(f"enter:{stage}", pending.line)
            if len(before) == 1:
                moves.append(MilestoneMove(number, stage, before[0], instant, line))
            else:
                kept = ", ".join(local(t, zone) for t in sorted(before))
                notes.append(Note(line, number, (
                    f"{column} is {shown(pending.milestone_raw.get(stage, instant))} here, but the "
                    f"store has {stage} {len(before)} times ({kept}); they are kept")))
    return moves


def stored_shown(attribute: str, stored: Any, zone: ZoneInfo) -> str:
    """A stored value as the file's user would write it: local time in the file's zone; a
    promised date (stored as the end of its day) as that day."""
    if not isinstance(stored, datetime):
        return shown(stored)
    value = stored.astimezone(zone)
    if attribute == "promised_at" and (value.hour, value.minute, value.second) == (0, 0, 0):
        return f"'{(value - timedelta(days=1)).date().isoformat()}'"
    return f"'{local(stored, zone)}'"


def vanished_note(batch: Batch, number: str, attribute: str, stored: Any, zone: ZoneInfo) -> Note:
    value = stored_shown(attribute, stored, zone)
    return Note(batch.line_of(number), number,
                f"{batch.column(attribute)} is empty here; {value} in the store is kept")


def kept_note(batch: Batch, number: str, attribute: str, stored: Any, zone: ZoneInfo) -> Note:
    """A value an earlier row of the file stored (an earlier batch) and this row contradicts."""
    pending = batch.orders[number]
    value = stored_shown(attribute, stored, zone)
    new = shown(batch.raw(pending, attribute))
    return Note(pending.lines.get(attribute, pending.line), number,
                f"{batch.column(attribute)} is {value} on line {batch.earlier[number]}, {new} "
                "here; the first is kept")


def local(instant: datetime, zone: ZoneInfo) -> str:
    """An instant as a user of the file's zone writes it: ``2026-11-10 16:00``."""
    value = instant.astimezone(zone)
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


def shown(raw: Any) -> str:
    """A cell as the user wrote it, quoted: ``'2026/11/3 9:00'``, ``'华东机电'``, ``'3'``."""
    if isinstance(raw, datetime):
        value = raw.strftime("%Y-%m-%d %H:%M:%S" if raw.second else "%Y-%m-%d %H:%M")
    elif isinstance(raw, date):
        value = raw.isoformat()
    else:
        value = text(raw) or ""
    return f"'{value}'"

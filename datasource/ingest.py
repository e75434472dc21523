"""Writing orders, events, exceptions and findings into the store, idempotently.

One call is one transaction: either everything in the batch is stored or nothing is.
Re-sending an event (same stable id) or re-importing a file changes nothing. The derived
``stage_visits`` and the order's status/current stage are recomputed for every order
that received new events.

A stored value and a different one sent later:

- by default (the demo feed, events from scanners) the stored value is kept and the
  difference is returned as a warning; an empty stored value is filled.
- with ``update`` (imports of ledgers, which are living documents: a promise moved, a
  customer corrected), the attributes named in it take the new value, and each change
  is recorded in ``order_changes`` (old value, new value, source and line from
  ``origins``, time). A value the source leaves empty is never a deletion: the stored
  one stays and is returned in ``IngestResult.vanished``. ``moves`` change the time of
  a stored milestone (``enter`` event) the same way.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import NamedTuple, cast

from sqlalchemy import Engine, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from datasource.bulk import insert_rows
from datasource.idle import idle_cutoff, remember_newest_event
from datasource.pipeline import Pipeline
from datasource.schema import (
    EVENT_TYPES,
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderChange,
    OrderEvent,
    OrderException,
    StageVisit,
)
from datasource.store import bump_data_version, utcnow
from datasource.visits import OUT_OF_ORDER, Derived, EventFact, Visit, derive_order

CHUNK = 5000
ATTRIBUTES = (
    "customer", "channel", "production_line", "product_line", "owner",
    "quantity", "amount", "priority", "promised_at",
)


@dataclass(frozen=True)
class OrderRecord:
    order_number: str
    customer: str | None = None
    channel: str | None = None
    production_line: str | None = None
    product_line: str | None = None
    owner: str | None = None
    quantity: int | None = None
    amount: float | None = None
    priority: str | None = None
    promised_at: datetime | None = None
    cancelled: bool = False
    source: str | None = None


class EventRecord(NamedTuple):
    """One event as sent (a named tuple: bulk imports make hundreds of thousands)."""

    order_number: str
    stage_code: str | None
    event_type: str
    occurred_at: datetime
    operator: str | None = None
    note: str | None = None
    uid: str | None = None
    source: str | None = None

    def stable_uid(self) -> str:
        """The sender's id, or one derived from what the event says happened
        (``derived_uid``)."""
        return self.uid or derived_uid(self.order_number, self.stage_code, self.event_type,
                                       self.occurred_at.isoformat(), self.note)

    def uid_forms(self) -> list[str]:
        """``stable_uid``, and the id a store written before event ids were natural
        keys has for the same event, when that differs (``hashed_uid``)."""
        uid = self.stable_uid()
        if not uid.startswith(NATURAL) or self.uid:
            return [uid]
        return [uid, hashed_uid(self.order_number, self.stage_code, self.event_type,
                                self.occurred_at.isoformat(), self.note)]


# Derived event ids. Natural: ``k:`` + order number, stage, type and UTC instant (ISO
# 8601) joined by ``|``: they sort with their order, so a bulk load adds to the unique
# index of event ids where the order's other events are instead of all over it, and
# nothing is hashed. Hashed (the only form before): ``h:`` + the SHA-1 of the same text
# and the note, for an event with a note or whose natural id would not fit the column.
NATURAL, HASHED = "k:", "h:"
UID_LIMIT = int(cast(String, OrderEvent.__table__.c.event_uid.type).length or 128)


def natural_uid(order_number: str, stage_code: str | None, event_type: str, instant: str) -> str:
    """The readable id of an event without a note (it may be too long for the column)."""
    return f"{NATURAL}{order_number}|{stage_code or ''}|{event_type}|{instant}"


def derived_uid(order_number: str, stage_code: str | None, event_type: str, instant: str,
                note: str | None) -> str:
    """The id of an event that came without one (``instant``: its UTC ``isoformat``)."""
    if not note:
        natural = natural_uid(order_number, stage_code, event_type, instant)
        if len(natural) <= UID_LIMIT:
            return natural
    return hashed_uid(order_number, stage_code, event_type, instant, note)


def hashed_uid(order_number: str, stage_code: str | None, event_type: str, instant: str,
               note: str | None) -> str:
    key = f"{order_number}|{stage_code or ''}|{event_type}|{instant}|{note or ''}"
    return HASHED + hashlib.sha1(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ExceptionRecord:
    uid: str
    order_number: str
    stage_code: str | None
    kind: str
    opened_at: datetime
    severity: str = "medium"
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    owner: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FindingRecord:
    order_number: str | None
    kind: str
    detail: str
    source: str | None = None
    line: int | None = None

    @property
    def uid(self) -> str:
        return finding_uid(self.kind, self.order_number, self.detail)


def finding_uid(kind: str, order_number: str | None, detail: str) -> str:
    """A finding's stable id: what it says about which order (cut to the column)."""
    return f"{kind}:{order_number or ''}:{detail}"[:160]


@dataclass(frozen=True)
class MilestoneMove:
    """A stored milestone (the one ``enter`` of ``stage``, at ``old``) that a source
    now gives at ``new``; ``line`` is where the source says so."""

    order_number: str
    stage: str
    old: datetime
    new: datetime
    line: int | None = None


@dataclass(frozen=True)
class ChangeRecord:
    order_number: str
    field: str
    old: object
    new: object
    source: str | None = None
    line: int | None = None


@dataclass
class IngestResult:
    orders_created: int = 0
    orders_updated: int = 0
    events_added: int = 0
    events_duplicate: int = 0
    exceptions_added: int = 0
    exceptions_updated: int = 0
    findings_added: int = 0
    warnings: list[str] = field(default_factory=list)
    #: findings derived from the events of the orders this batch touched (out of
    #: pipeline order...), whether or not the store had them already
    derived_findings: list[FindingRecord] = field(default_factory=list)
    #: values changed in stored orders (``update`` and ``moves``), as recorded
    changes: list[ChangeRecord] = field(default_factory=list)
    #: ``(order number, attribute, stored value)`` the source left empty (``update``)
    vanished: list[tuple[str, str, object]] = field(default_factory=list)
    #: ``(order number, attribute, stored value, value sent)`` kept for orders in ``keep``
    kept: list[tuple[str, str, object, object]] = field(default_factory=list)
    #: order numbers created by this batch, and stored orders it changed (attributes,
    #: milestones moved, new events); lists, so that results add up (``+``)
    created: list[str] = field(default_factory=list)
    changed_orders: list[str] = field(default_factory=list)
    #: the events of the batch that were stored (the objects sent; of several with one
    #: stable id, the first)
    new_events: list[EventRecord] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.orders_created or self.orders_updated or self.events_added
            or self.exceptions_added or self.exceptions_updated or self.findings_added
            or self.changes
        )


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ingest(
    engine: Engine,
    pipeline: Pipeline,
    orders: Iterable[OrderRecord] = (),
    events: Iterable[EventRecord] = (),
    exceptions: Iterable[ExceptionRecord] = (),
    findings: Iterable[FindingRecord] = (),
    actor: str = "ingest",
    target: str | None = None,
    origins: Mapping[str, tuple[str | None, int | None]] | None = None,
    update: frozenset[str] | None = None,
    moves: Iterable[MilestoneMove] = (),
    change_lines: dict[tuple[str, str], int] | None = None,
    keep: Collection[str] = (),
) -> IngestResult:
    """Store a batch in one transaction and keep derived visits current.

    ``origins``: order number -> (source, line) where the batch's rows about it came
    from, written on the findings derived from its events and on recorded changes (an
    importer knows them; ``change_lines`` gives the line of one field when another row
    than the order's first gave it). ``update``: the attributes the source gives, which
    replace stored values (see the module docstring), except for the orders in ``keep``
    (an importer's orders that earlier batches of the same file stored: within one file
    the first value is kept), whose differences come back in ``kept``; ``moves``:
    milestones to move."""
    orders, events = list(orders), list(events)
    exceptions, findings = list(exceptions), list(findings)
    for e in events:
        if e.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {e.event_type!r} (one of {EVENT_TYPES})")
        if e.stage_code is not None and e.stage_code not in pipeline.positions:
            raise ValueError(f"unknown stage {e.stage_code!r} for order {e.order_number}")
        if e.occurred_at.tzinfo is None:
            raise ValueError(f"naive datetime {e.occurred_at} for order {e.order_number}: "
                             "convert to UTC before ingesting")
    result = IngestResult()
    now = utcnow()
    newest = max((e.occurred_at for e in events), default=None)
    numbers = list(dict.fromkeys(
        [o.order_number for o in orders] + [e.order_number for e in events]
        + [x.order_number for x in exceptions]
    ))
    # Stored form of every instant written in this transaction, converted once (an
    # event's time is also a visit's start, the previous visit's end, an order's
    # placed_at...). It holds the objects, so their ids stay theirs until it is dropped.
    memo: dict = {}
    with engine.begin() as conn:
        cutoff = idle_cutoff(conn, pipeline, now, newest)
        stored = _stored_orders(conn, numbers)
        ids = {number: row["id"] for number, row in stored.items()}
        new_events = _new_events(conn, events, ids, result)
        changes = _Changes(origins or {}, change_lines or {})
        touched = _fill_stored(conn, [o for o in orders if o.order_number in stored], stored,
                               result, now, update, changes, keep)
        touched |= _move_milestones(conn, list(moves), ids, changes, now)
        derived = _DerivedFindings(origins)
        created = _write_orders(conn, pipeline, orders, new_events, numbers, ids, now, result,
                                memo, cutoff, derived)
        added_to = _insert_events(conn, new_events, ids, result, now, memo) - created
        touched |= added_to
        _upsert_exceptions(conn, exceptions, ids, result)
        if cutoff is not None:
            touched |= idle_candidates(conn, cutoff) - created
        _refresh_orders(conn, pipeline, touched, now, cutoff, derived)
        _insert_findings(conn, [*findings, *derived], result, now)
        result.derived_findings = list(derived)
        _insert_changes(conn, changes, ids, result, now)
        result.new_events = list(new_events.values())
        result.created = [n for n in numbers if n not in stored and n in ids]
        by_id = {i: n for n, i in ids.items()}
        result.changed_orders = sorted({c.order_number for c in changes} | {
            by_id[i] for i in added_to if i in by_id})
        if result.events_added and newest is not None:
            remember_newest_event(conn, newest)
        if result.changed:
            bump_data_version(conn)
            conn.execute(insert(AuditEntry), [{
                "at": now, "actor": actor, "action": "ingest", "target": target,
                "detail": summary(result),
            }])
    return result


def summary(r: IngestResult) -> str:
    """The audit log's detail of an ingest: every count of the result."""
    d = {f.name: getattr(r, f.name) for f in fields(r)}
    d["warnings"] = len(r.warnings)
    d["derived_findings"] = len(r.derived_findings)
    for name in ("changes", "vanished", "kept", "created", "changed_orders", "new_events"):
        d[name] = len(d[name])
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _order_ids(conn: Connection, numbers: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in chunks(numbers):
        rows = conn.execute(
            select(Order.order_number, Order.id).where(Order.order_number.in_(part))
        )
        ids.update((n, i) for n, i in rows)
    return ids


def _new_events(conn, events, stored_orders: dict[str, int], result) -> dict[str, EventRecord]:
    """The batch's events by stable id, without repeats and without those stored.

    An id derived from the event (``stable_uid``) names its order, so it can only be
    stored if the order is: only those of stored orders, and ids given by the sender,
    are looked up.
    """
    by_uid: dict[str, EventRecord] = {}
    for e in events:
        by_uid.setdefault(e.stable_uid(), e)
    result.events_duplicate += len(events) - len(by_uid)
    # each id that may be stored, under each form it may be stored as -> the event's id
    forms = {form: uid for uid, e in by_uid.items() if e.uid or e.order_number in stored_orders
             for form in e.uid_forms()}
    for part in chunks(list(forms)):
        for found in conn.execute(
            select(OrderEvent.event_uid).where(OrderEvent.event_uid.in_(part))
        ).scalars():
            if by_uid.pop(forms[found], None) is not None:
                result.events_duplicate += 1
    return by_uid


def _write_orders(conn, pipeline, orders, new_events, numbers, ids, now, result, memo,
                  cutoff, derived: _DerivedFindings) -> set[int]:
    """Create the batch's orders that are not stored; returns their ids, which ``ids``
    (order number -> id of the stored orders) gains too.

    A new order is written with its visits and status at once: its events are exactly
    the batch's new events for it (nothing else can refer to an order before it exists),
    so nothing is read back or rewritten. Its derived findings go to ``derived``.
    """
    by_number = {o.order_number: o for o in orders}
    facts: dict[str, list[EventFact]] = {n: [] for n in numbers if n not in ids}
    for e in new_events.values():
        if e.order_number in facts:
            facts[e.order_number].append(EventFact(e.stage_code, e.event_type, e.occurred_at,
                                                   e.operator))
    order_rows, visits = [], {}
    for number, known in facts.items():
        rec = by_number.get(number, OrderRecord(number))
        d = derive_order(known, pipeline, rec.cancelled, cutoff)
        visits[number] = d.visits
        derived.add(number, d)
        row = {a: getattr(rec, a) for a in ATTRIBUTES}
        row.update(order_number=number, cancelled_flag=rec.cancelled, source=rec.source,
                   updated_at=now, **d.state._asdict())
        order_rows.append(row)
    if not order_rows:
        return set()
    for part in chunks(order_rows):
        insert_rows(conn, Order.__table__, part, memo)
    result.orders_created += len(order_rows)
    ids.update(_order_ids(conn, list(facts)))
    visit_rows = [_visit_row(ids[number], v) for number, vs in visits.items() for v in vs]
    for part in chunks(visit_rows):
        insert_rows(conn, StageVisit.__table__, part, memo)
    return {ids[number] for number in facts}


def _fill_stored(conn, records: list[OrderRecord], existing: dict[str, dict], result, now,
                 replace: frozenset[str] | None = None, changes: _Changes | None = None,
                 keep: Collection[str] = ()) -> set[int]:
    """Write the attributes of stored orders (``existing``: their stored rows by number):
    fill the empty ones; a different stored value is kept and warned about, or, for the
    attributes in ``replace``, replaced and recorded in ``changes`` (see the module
    docstring). Returns the ids of those whose cancelled flag was just set."""
    touched: set[int] = set()
    for rec in records:
        stored = existing[rec.order_number]
        kept = rec.order_number in keep
        fill = {}
        for a in ATTRIBUTES:
            new, old = getattr(rec, a), stored[a]
            if new == old or (new is None and old is None):
                continue
            if new is None:
                if replace is not None and a in replace and not kept:
                    result.vanished.append((rec.order_number, a, old))
                continue
            if old is None or (replace is not None and a in replace and not kept):
                fill[a] = new
                if replace is not None and changes is not None:
                    changes.add(rec.order_number, a, old, new)
            elif replace is not None:
                result.kept.append((rec.order_number, a, old, new))
            else:
                result.warnings.append(
                    f"order {rec.order_number}: {a} is {old!r} in the store, source says "
                    f"{new!r}; the stored value is kept"
                )
        if rec.cancelled and not stored["cancelled_flag"]:
            fill["cancelled_flag"] = True
            touched.add(stored["id"])
            if replace is not None and changes is not None:
                changes.add(rec.order_number, "cancelled", False, True)
        if fill:
            fill["updated_at"] = now
            conn.execute(update(Order).where(Order.id == stored["id"]).values(**fill))
            result.orders_updated += 1
    return touched


class _Changes(list):
    """The changes of one batch, labelled with where the source said so."""

    def __init__(self, origins: Mapping[str, tuple[str | None, int | None]],
                 lines: dict[tuple[str, str], int]) -> None:
        super().__init__()
        self.origins, self.lines = origins, lines

    def add(self, number: str, name: str, old: object, new: object, line: int | None = None) -> None:
        source, first = self.origins.get(number, (None, None))
        line = line if line is not None else self.lines.get((number, name), first)
        self.append(ChangeRecord(number, name, old, new, source, line))


def _move_milestones(conn, moves: list[MilestoneMove], ids: dict[str, int], changes: _Changes,
                     now) -> set[int]:
    """Move each stored milestone that is still where the batch saw it (the one ``enter``
    of its stage at ``old``) to its new time and stable id; returns the orders moved."""
    touched: set[int] = set()
    for m in moves:
        oid = ids.get(m.order_number)
        if oid is None:
            continue
        moved_to = EventRecord(m.order_number, m.stage, "enter", m.new)
        uid = moved_to.stable_uid()
        if conn.execute(select(OrderEvent.id)
                        .where(OrderEvent.event_uid.in_(moved_to.uid_forms()))).first():
            continue  # the new time is stored already (another import got there first)
        moved = conn.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == oid, OrderEvent.stage_code == m.stage,
                   OrderEvent.event_type == "enter", OrderEvent.occurred_at == m.old)
            .values(occurred_at=m.new, event_uid=uid, recorded_at=now)
        ).rowcount
        if moved == 1:
            touched.add(oid)
            changes.add(m.order_number, f"enter:{m.stage}", m.old, m.new, m.line)
    return touched


def _insert_changes(conn, changes: _Changes, ids: dict[str, int], result: IngestResult, now) -> None:
    rows = [
        {"order_id": ids[c.order_number], "field": c.field, "old_value": change_text(c.old),
         "new_value": change_text(c.new), "source": c.source, "line": c.line, "changed_at": now}
        for c in changes
    ]
    for part in chunks(rows):
        insert_rows(conn, OrderChange.__table__, part)
    result.changes = list(changes)


def change_text(value: object) -> str | None:
    """How a changed value is stored: ISO 8601 UTC for instants, ``str`` otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stored_orders(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    """The stored orders among ``numbers`` (id, cancelled flag, attributes), by number."""
    cols = [Order.id, Order.order_number, Order.cancelled_flag] + [
        getattr(Order, a) for a in ATTRIBUTES
    ]
    out: dict[str, dict] = {}
    for part in chunks(list(dict.fromkeys(numbers))):
        for row in conn.execute(select(*cols).where(Order.order_number.in_(part))):
            out[row.order_number] = row._asdict()
    return out


def _insert_events(conn, new_events: dict[str, EventRecord], ids, result, now, memo
                   ) -> set[int]:
    """Insert the new events; returns the ids of their orders."""
    rows = [
        {
            "event_uid": uid, "order_id": ids[e.order_number], "stage_code": e.stage_code,
            "event_type": e.event_type, "occurred_at": e.occurred_at, "operator": e.operator,
            "note": e.note, "source": e.source, "recorded_at": now,
        }
        for uid, e in new_events.items()
    ]
    for part in chunks(rows):
        insert_rows(conn, OrderEvent.__table__, part, memo)
    result.events_added += len(rows)
    return {r["order_id"] for r in rows}


def _upsert_exceptions(conn, exceptions, ids, result) -> None:
    if not exceptions:
        return
    stored: dict[str, dict] = {}
    for part in chunks([x.uid for x in exceptions]):
        rows = conn.execute(
            select(OrderException.id, OrderException.exception_uid,
                   OrderException.acknowledged_at, OrderException.resolved_at)
            .where(OrderException.exception_uid.in_(part))
        )
        stored.update({r.exception_uid: r._asdict() for r in rows})
    new_rows = []
    for x in exceptions:
        old = stored.get(x.uid)
        if old is None:
            new_rows.append({
                "exception_uid": x.uid, "order_id": ids[x.order_number],
                "stage_code": x.stage_code, "kind": x.kind, "severity": x.severity,
                "opened_at": x.opened_at, "acknowledged_at": x.acknowledged_at,
                "resolved_at": x.resolved_at, "owner": x.owner, "note": x.note,
            })
            stored[x.uid] = {"acknowledged_at": x.acknowledged_at, "resolved_at": x.resolved_at}
            continue
        # An exception moves forward (acknowledged, then resolved); it never moves back.
        progress = {
            k: getattr(x, k) for k in ("acknowledged_at", "resolved_at")
            if getattr(x, k) is not None and old[k] is None
        }
        if progress:
            conn.execute(update(OrderException).where(OrderException.id == old["id"])
                         .values(**progress))
            result.exceptions_updated += 1
    for part in chunks(new_rows):
        insert_rows(conn, OrderException.__table__, part)
    result.exceptions_added += len(new_rows)


def _insert_findings(conn, findings, result, now) -> None:
    if not findings:
        return
    by_uid = {f.uid: f for f in findings}
    stored: set[str] = set()
    for part in chunks(list(by_uid)):
        stored.update(conn.execute(
            select(DataQualityFinding.finding_uid)
            .where(DataQualityFinding.finding_uid.in_(part))
        ).scalars())
    rows = [
        {"finding_uid": uid, "order_number": f.order_number, "kind": f.kind,
         "detail": f.detail, "source": f.source, "line": f.line, "found_at": now}
        for uid, f in by_uid.items() if uid not in stored
    ]
    for part in chunks(rows):
        insert_rows(conn, DataQualityFinding.__table__, part)
    result.findings_added += len(rows)


class _DerivedFindings(list):
    """Findings derived from orders' events (out of pipeline order...), labelled with
    where the batch's rows about the order came from."""

    def __init__(self, origins: Mapping[str, tuple[str | None, int | None]] | None = None) -> None:
        super().__init__()
        self.origins = origins or {}

    def add(self, number: str, d: Derived) -> None:
        source, line = self.origins.get(number, (None, None))
        self.extend(FindingRecord(number, f.kind, f.detail, source, line) for f in d.findings)


def idle_candidates(conn: Connection, cutoff: datetime) -> set[int]:
    """Open orders whose last visit began before the idle cut-off: they may have been
    idle long enough to complete (their events decide)."""
    return set(conn.execute(
        select(Order.id).where(Order.status == "open", Order.current_since < cutoff)
    ).scalars())


def _visit_row(order_id: int, v: Visit) -> dict:
    return {"order_id": order_id, "stage_code": v.stage_code, "visit_no": v.visit_no,
            "is_rework": v.is_rework, "entered_at": v.entered_at, "left_at": v.left_at,
            "duration_s": v.duration_s, "operator": v.operator}


def _refresh_orders(conn: Connection, pipeline: Pipeline, order_ids: set[int], now,
                    cutoff: datetime | None, derived: _DerivedFindings) -> int:
    """Rebuild visits, status and derived findings of these stored orders from all their
    stored events, read in arrival order (the order ties in time keep). Returns how many
    of them are completed."""
    completed = 0
    for part in chunks(sorted(order_ids)):
        facts: dict[int, list[EventFact]] = defaultdict(list)
        rows = conn.execute(
            select(OrderEvent.order_id, OrderEvent.stage_code, OrderEvent.event_type,
                   OrderEvent.occurred_at, OrderEvent.operator)
            .where(OrderEvent.order_id.in_(part))
            .order_by(OrderEvent.order_id, OrderEvent.id)
        )
        for r in rows:
            facts[r.order_id].append(EventFact(r.stage_code, r.event_type, r.occurred_at,
                                               r.operator))
        conn.execute(delete(StageVisit).where(StageVisit.order_id.in_(part)))
        known = {r.id: r for r in conn.execute(
            select(Order.id, Order.order_number, Order.cancelled_flag).where(Order.id.in_(part))
        )}
        numbers = [known[oid].order_number for oid in part if oid in known]
        found_before = len(derived)
        visit_rows: list[dict] = []
        state_rows: list[dict] = []
        for oid in part:
            row = known.get(oid)
            d = derive_order(facts[oid], pipeline, bool(row and row.cancelled_flag), cutoff)
            if row is not None:
                derived.add(row.order_number, d)
            visit_rows.extend(_visit_row(oid, v) for v in d.visits)
            state_rows.append({"b_id": oid, **d.state._asdict(), "updated_at": now})
            completed += d.state.status == "completed"
        insert_rows(conn, StageVisit.__table__, visit_rows)
        _update_states(conn, state_rows)
        _drop_stale_findings(conn, numbers, {f.uid for f in derived[found_before:]})
    return completed


def _drop_stale_findings(conn: Connection, numbers: list[str], current: set[str]) -> None:
    """Delete the derived findings of these orders that their events no longer give (a
    late event can put a stage back in order). The others stay as stored, with the source
    and line they were first found at; new ones are inserted by the caller."""
    f = DataQualityFinding
    stale = [uid for uid in conn.execute(
        select(f.finding_uid).where(f.kind == OUT_OF_ORDER, f.order_number.in_(numbers))
    ).scalars() if uid not in current]
    for piece in chunks(stale):
        conn.execute(delete(f).where(f.finding_uid.in_(piece)))


def _update_states(conn: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    table = Order.__table__
    assert isinstance(table, Table)
    columns = [k for k in rows[0] if k != "b_id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({k: bindparam(f"v_{k}") for k in columns})
    )
    conn.execute(stmt, [{"b_id": r["b_id"], **{f"v_{k}": r[k] for k in columns}} for r in rows])


def complete_idle_orders(engine: Engine, pipeline: Pipeline, now: datetime | None = None) -> int:
    """Apply the pipeline's idle-completion rule to the stored open orders as of ``now``
    (a scheduled job: time passing, not new events, makes a case idle). Returns how many
    orders completed."""
    now = now or utcnow()
    with engine.begin() as conn:
        cutoff = idle_cutoff(conn, pipeline, now)
        if cutoff is None:
            return 0
        candidates = idle_candidates(conn, cutoff)
        if not candidates:
            return 0
        derived = _DerivedFindings()
        completed = _refresh_orders(conn, pipeline, candidates, now, cutoff, derived)
        _insert_findings(conn, derived, IngestResult(), now)
        if completed:  # orders still open gave the same visits again: nothing changed
            bump_data_version(conn)
    return completed

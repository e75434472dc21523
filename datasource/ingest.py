"""Writing orders, events, exceptions and findings into the store, idempotently.

One call is one transaction: either everything in the batch is stored or nothing is.
Re-sending an event (same stable id) or re-importing a file changes nothing. A value
already stored is never overwritten by a different one: the stored value is kept and
the difference is returned as a warning. The derived ``stage_visits`` and the order's
status/current stage are recomputed for every order that received new events.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from datasource.pipeline import Pipeline
from datasource.schema import (
    EVENT_TYPES,
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderEvent,
    OrderException,
    StageVisit,
)
from datasource.store import bump_data_version, utcnow
from datasource.visits import EventFact, build_visits, order_state

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


@dataclass(frozen=True)
class EventRecord:
    order_number: str
    stage_code: str | None
    event_type: str
    occurred_at: datetime
    operator: str | None = None
    note: str | None = None
    uid: str | None = None
    source: str | None = None

    def stable_uid(self) -> str:
        """The sender's id, or one derived from what the event says happened."""
        if self.uid:
            return self.uid
        key = "|".join(
            [self.order_number, self.stage_code or "", self.event_type,
             self.occurred_at.isoformat(), self.note or ""]
        )
        return "h:" + hashlib.sha1(key.encode("utf-8")).hexdigest()


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
        return f"{self.kind}:{self.order_number or ''}:{self.detail}"[:160]


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

    @property
    def changed(self) -> bool:
        return bool(
            self.orders_created or self.orders_updated or self.events_added
            or self.exceptions_added or self.exceptions_updated or self.findings_added
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
) -> IngestResult:
    """Store a batch in one transaction and keep derived visits current."""
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
    with engine.begin() as conn:
        ids, touched, created = _upsert_orders(conn, orders, events, exceptions, result, now)
        inserted = _insert_events(conn, events, ids, result, now)
        touched |= {r["order_id"] for r in inserted}
        _upsert_exceptions(conn, exceptions, ids, result)
        _insert_findings(conn, findings, ids, result, now)
        # Stored orders whose flag was just set are in ``touched``; new ones need a status.
        cancelled = {ids[o.order_number] for o in orders if o.cancelled and o.order_number in created}
        _refresh_orders(conn, pipeline, touched | cancelled, now,
                        _facts_of_new_orders(inserted, {ids[n] for n in created}))
        if result.changed:
            bump_data_version(conn)
            conn.execute(insert(AuditEntry), [{
                "at": now, "actor": actor, "action": "ingest", "target": target,
                "detail": _summary(result),
            }])
    return result


def _summary(r: IngestResult) -> str:
    d = asdict(r)
    d["warnings"] = len(r.warnings)
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _order_ids(conn: Connection, numbers: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in chunks(numbers):
        rows = conn.execute(
            select(Order.order_number, Order.id).where(Order.order_number.in_(part))
        )
        ids.update({n: i for n, i in rows})
    return ids


def _upsert_orders(conn, orders, events, exceptions, result, now
                   ) -> tuple[dict[str, int], set[int], set[str]]:
    """Create missing orders, fill empty attributes of stored ones. Returns the ids of all
    orders of the batch, the stored orders whose cancelled flag was set, and the order
    numbers this call created."""
    numbers = list(dict.fromkeys(
        [o.order_number for o in orders] + [e.order_number for e in events]
        + [x.order_number for x in exceptions]
    ))
    existing = _stored_orders(conn, [o.order_number for o in orders])
    new_rows, seen = [], set()
    by_number = {o.order_number: o for o in orders}
    for number in numbers:
        if number in existing or number in seen:
            continue
        seen.add(number)
        rec = by_number.get(number, OrderRecord(number))
        row = {a: getattr(rec, a) for a in ATTRIBUTES}
        row.update(order_number=number, status="open", cancelled_flag=rec.cancelled,
                   source=rec.source, updated_at=now)
        new_rows.append(row)
    if new_rows:
        exists_now = _order_ids(conn, [r["order_number"] for r in new_rows])
        new_rows = [r for r in new_rows if r["order_number"] not in exists_now]
        for part in chunks(new_rows):
            conn.execute(insert(Order), list(part))
        result.orders_created += len(new_rows)
    touched: set[int] = set()
    for rec in orders:
        stored = existing.get(rec.order_number)
        if stored is None:
            continue
        fill = {}
        for a in ATTRIBUTES:
            new, old = getattr(rec, a), stored[a]
            if new is None or new == old:
                continue
            if old is None:
                fill[a] = new
            else:
                result.warnings.append(
                    f"order {rec.order_number}: {a} is {old!r} in the store, source says "
                    f"{new!r}; the stored value is kept"
                )
        if rec.cancelled and not stored["cancelled_flag"]:
            fill["cancelled_flag"] = True
            touched.add(stored["id"])
        if fill:
            fill["updated_at"] = now
            conn.execute(update(Order).where(Order.id == stored["id"]).values(**fill))
            result.orders_updated += 1
    return _order_ids(conn, numbers), touched, {r["order_number"] for r in new_rows}


def _stored_orders(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    cols = [Order.id, Order.order_number, Order.cancelled_flag] + [
        getattr(Order, a) for a in ATTRIBUTES
    ]
    out: dict[str, dict] = {}
    for part in chunks(list(dict.fromkeys(numbers))):
        for row in conn.execute(select(*cols).where(Order.order_number.in_(part))):
            out[row.order_number] = row._asdict()
    return out


def _insert_events(conn, events, ids, result, now) -> list[dict]:
    """Insert the events not stored yet (by stable id); returns the inserted rows."""
    by_uid: dict[str, EventRecord] = {}
    for e in events:
        by_uid.setdefault(e.stable_uid(), e)
    result.events_duplicate += len(events) - len(by_uid)
    uids = list(by_uid)
    stored: set[str] = set()
    for part in chunks(uids):
        stored.update(conn.execute(
            select(OrderEvent.event_uid).where(OrderEvent.event_uid.in_(part))
        ).scalars())
    result.events_duplicate += len(stored)
    rows = [
        {
            "event_uid": uid, "order_id": ids[e.order_number], "stage_code": e.stage_code,
            "event_type": e.event_type, "occurred_at": e.occurred_at, "operator": e.operator,
            "note": e.note, "source": e.source, "recorded_at": now,
        }
        for uid, e in by_uid.items()
        if uid not in stored
    ]
    for part in chunks(rows):
        conn.execute(insert(OrderEvent), list(part))
    result.events_added += len(rows)
    return rows


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
        conn.execute(insert(OrderException), list(part))
    result.exceptions_added += len(new_rows)


def _insert_findings(conn, findings, ids, result, now) -> None:
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
        conn.execute(insert(DataQualityFinding), list(part))
    result.findings_added += len(rows)


def _facts_of_new_orders(inserted: list[dict], new_ids: set[int]) -> dict[int, list[EventFact]]:
    """The events of orders created in this transaction: exactly the rows just inserted
    for them (nothing else can reference an order before it is committed)."""
    facts: dict[int, list[EventFact]] = {oid: [] for oid in new_ids}
    for r in inserted:
        if r["order_id"] in facts:
            facts[r["order_id"]].append(
                EventFact(r["stage_code"], r["event_type"], r["occurred_at"], r["operator"]))
    return facts


def _refresh_orders(conn: Connection, pipeline: Pipeline, order_ids: set[int], now,
                    known: dict[int, list[EventFact]] | None = None) -> None:
    """Rebuild visits and status of these orders from all their stored events.

    ``known`` holds the complete event facts of orders created in this transaction, so
    they are not read back and have no old visits to delete (a bulk import's new orders
    are most of its orders).
    """
    if not order_ids:
        return
    known = known or {}
    positions = pipeline.positions
    ordered = sorted(order_ids)
    for part in chunks(ordered):
        facts: dict[int, list[EventFact]] = defaultdict(list)
        stored = [oid for oid in part if oid not in known]
        if stored:
            rows = conn.execute(
                select(OrderEvent.order_id, OrderEvent.stage_code, OrderEvent.event_type,
                       OrderEvent.occurred_at, OrderEvent.operator)
                .where(OrderEvent.order_id.in_(stored))
            )
            for r in rows:
                facts[r.order_id].append(EventFact(r.stage_code, r.event_type, r.occurred_at,
                                                   r.operator))
            conn.execute(delete(StageVisit).where(StageVisit.order_id.in_(stored)))
        for oid in part:
            if oid in known:
                facts[oid] = known[oid]
        flags = dict(conn.execute(
            select(Order.id, Order.cancelled_flag).where(Order.id.in_(part))
        ).all())
        visit_rows, state_rows = [], []
        for oid in part:
            visits = build_visits(facts[oid], positions)
            state = order_state(visits, facts[oid], pipeline.first.code, pipeline.terminal,
                                bool(flags.get(oid)))
            visit_rows.extend(
                {"order_id": oid, "stage_code": v.stage_code, "visit_no": v.visit_no,
                 "is_rework": v.is_rework, "entered_at": v.entered_at, "left_at": v.left_at,
                 "duration_s": v.duration_s, "operator": v.operator}
                for v in visits
            )
            state_rows.append({"b_id": oid, **state.__dict__, "updated_at": now})
        if visit_rows:
            conn.execute(insert(StageVisit), visit_rows)
        _update_states(conn, state_rows)


def _update_states(conn: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    table = Order.__table__
    columns = [k for k in rows[0] if k != "b_id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({k: bindparam(f"v_{k}") for k in columns})
    )
    conn.execute(stmt, [{"b_id": r["b_id"], **{f"v_{k}": r[k] for k in columns}} for r in rows])

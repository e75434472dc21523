"""Alert state in the store: instances and their transitions, who was told (notices),
the delivery log, group timers and acknowledgements (DESIGN.md section 5a; silences are
in ``datasource.alert_silences``).

Everything the alert worker knows lives here, so a restart neither resends nor forgets.
Writes of one evaluation are one transaction: a store that fails half-way keeps the
states it had.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from datasource.queries import raw, read_frame
from datasource.schema import (
    AlertDelivery,
    AlertGroup,
    AlertInstance,
    AlertNotice,
    OrderException,
    StoreMeta,
)
from datasource.store import bump_data_version

instances = cast(Table, AlertInstance.__table__)
notices = cast(Table, AlertNotice.__table__)
deliveries = cast(Table, AlertDelivery.__table__)
groups = cast(Table, AlertGroup.__table__)
ACTIVE = ("pending", "firing")
FIRING_KINDS = ("firing", "repeat")
LINK_SECRET_KEY = "alert_link_secret"
meta = cast(Table, StoreMeta.__table__)
EVALUATED_KEY = "alerts_evaluated_at"  # store_meta: when the last evaluation was written (ISO 8601)


@dataclass
class Plan:
    """What one evaluation of one rule changes: rows to insert (pending or firing),
    updates by id (promotions, new values), ids to resolve, pending ids to drop."""

    rule: str
    rule_kind: str
    inserts: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    resolve: list[int] = field(default_factory=list)
    drop: list[int] = field(default_factory=list)


Bind = Engine | Connection


@contextmanager
def reading(bind: Bind) -> Iterator[Connection]:
    """A connection: ``bind`` itself when it is one (a dry run inside a transaction)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


@contextmanager
def writing(bind: Bind) -> Iterator[Connection]:
    """A transaction, or ``bind`` itself when it is a connection (its caller's transaction)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.begin() as conn:
            yield conn


def active_instances(engine: Bind, rules: Sequence[str]) -> dict[str, dict[str, dict]]:
    """{rule: {key: row}} of the pending and firing instances of ``rules``."""
    i = instances.c
    out: dict[str, dict[str, dict]] = {r: {} for r in rules}
    stmt = select(i.id, i.rule, i.key, i.state, i.severity, i.started_at, i.fired_at).where(
        i.rule.in_(list(rules)), i.state.in_(ACTIVE))
    with reading(engine) as conn:
        for row in conn.execute(stmt).mappings():
            out[row["rule"]][row["key"]] = dict(row)
    return out


def apply_plans(engine: Bind, plans: Iterable[Plan], now: datetime) -> None:
    """Write the transitions of every rule in one transaction, and when it was evaluated
    (``store_meta`` ``alerts_evaluated_at``: screens say how fresh their alerts are)."""
    i = instances.c
    with writing(engine) as conn:
        for plan in plans:
            if plan.inserts:
                conn.execute(insert(instances), [
                    {**row, "rule": plan.rule, "rule_kind": plan.rule_kind, "labels": _json(row["labels"]),
                     "evaluated_at": now, "escalated": 0} for row in plan.inserts])
            if plan.updates:
                _update_by_id(conn, plan.updates)
            for chunk in _chunks(plan.resolve):
                conn.execute(update(instances).where(i.id.in_(chunk)).values(
                    state="resolved", resolved_at=now, evaluated_at=now))
            for chunk in _chunks(plan.drop):
                conn.execute(delete(instances).where(i.id.in_(chunk)))
        put_meta(conn, EVALUATED_KEY, now.isoformat())


def _upsert(conn: Connection):
    """The dialect's INSERT with ON CONFLICT (PostgreSQL and SQLite both have it)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    return upsert


def put_meta(conn: Connection, key: str, value: str) -> None:
    """Set one ``store_meta`` value (inserted or replaced in one statement, so two
    processes writing it at once do not collide)."""
    stmt = _upsert(conn)(meta).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": stmt.excluded.value}))


# "The store is unavailable" notices (orderboard.alerts.outage): one store_meta row per
# channel told, "alert_outage:<channel>" = "<told at, ISO 8601> <channel>".
OUTAGE_PREFIX = "alert_outage:"


def _outage_key(channel: str) -> str:
    key = OUTAGE_PREFIX + channel
    return key if len(key) <= 64 else OUTAGE_PREFIX + hashlib.sha1(channel.encode()).hexdigest()


def claim_outage_notice(bind: Bind, channel: str, now: datetime) -> bool:
    """Record that ``channel`` is told of the outage; False when another process (or an
    earlier run) already did. One atomic INSERT ... ON CONFLICT DO NOTHING (its RETURNING
    says whether the row was inserted: psycopg's rowcount does not)."""
    with writing(bind) as conn:
        stmt = _upsert(conn)(meta).values(key=_outage_key(channel), value=f"{now.isoformat()} {channel}"[:256])
        stmt = stmt.on_conflict_do_nothing(index_elements=[meta.c.key]).returning(meta.c.key)
        return conn.execute(stmt).first() is not None


def drop_outage_notice(bind: Bind, channel: str) -> None:
    with writing(bind) as conn:
        conn.execute(delete(meta).where(meta.c.key == _outage_key(channel)))


def restore_outage_notice(bind: Bind, channel: str, told_at: datetime) -> None:
    claim_outage_notice(bind, channel, told_at)


def take_outage_notices(bind: Bind) -> dict[str, datetime]:
    """Every channel told of the outage, and when, removed in one DELETE ... RETURNING:
    of two processes taking them at once, each row goes to one. Reads only when there
    are none (every run of a healthy store)."""
    k = meta.c.key
    with reading(bind) as conn:
        if conn.execute(select(k).where(k.startswith(OUTAGE_PREFIX, autoescape=True)).limit(1)).first() is None:
            return {}
    with writing(bind) as conn:
        values = conn.execute(delete(meta).where(k.startswith(OUTAGE_PREFIX, autoescape=True))
                              .returning(meta.c.value)).scalars().all()
    taken = {}
    for value in values:
        at, _, channel = value.partition(" ")
        taken[channel] = datetime.fromisoformat(at)
    return taken


def _update_by_id(conn: Connection, rows: list[dict]) -> None:
    """One executemany per set of columns (promotions and value refreshes differ)."""

    by_columns: dict[tuple, list[dict]] = {}
    for row in rows:
        row = {k: (_json(v) if k == "labels" else v) for k, v in row.items()}
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for columns, batch in by_columns.items():
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns if c != "id"}
        stmt = update(instances).where(instances.c.id == bindparam("v_id")).values(**values)
        conn.execute(stmt, [{f"v_{k}": v for k, v in row.items()} for row in batch])


def _json(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterable[list[int]]:
    for n in range(0, len(ids), size):
        yield [int(x) for x in ids[n: n + size]]


def firing_to_tell(engine: Bind, rule: str, channel: str) -> list[dict]:
    """Firing instances of ``rule`` with the last time ``channel`` was told of each
    (``told_at``, None when never)."""
    i, n = instances.c, notices.c
    # Per instance, one lookup in ix_alert_notices_instance: whatever the planner knows
    # (a join to the notices grouped by instance was rescanned for every instance by
    # PostgreSQL on fresh tables: 0.2 s per rule for 4,000 alerts).
    told = (select(func.max(n.at)).where(n.instance_id == i.id, n.channel == channel, n.kind.in_(FIRING_KINDS))
            .scalar_subquery().label("told_at"))
    stmt = select(*_instance_columns(), told).where(i.rule == rule, i.state == "firing")
    return _rows(engine, stmt)


def resolved_to_tell(engine: Bind, rule: str, channel: str) -> list[dict]:
    """Resolved instances of ``rule`` that ``channel`` was told of as firing and not yet
    as resolved."""
    i, n = instances.c, notices.c
    stmt = select(*_instance_columns()).where(
        i.rule == rule, i.state == "resolved",
        exists().where(n.instance_id == i.id, n.channel == channel, n.kind.in_(FIRING_KINDS)),
        ~exists().where(n.instance_id == i.id, n.channel == channel, n.kind == "resolved"),
    )
    return _rows(engine, stmt)


def _instance_columns():
    i = instances.c
    return [i.id, i.rule, i.rule_kind, i.key, i.state, i.severity, i.value, i.summary, i.labels,
            i.started_at, i.fired_at, i.resolved_at, i.acknowledged_at, i.acknowledged_by, i.escalated]


def _rows(engine: Bind, stmt) -> list[dict]:
    with reading(engine) as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for row in rows:
        row["labels"] = json.loads(row["labels"] or "{}")
    return rows


def group_timers(engine: Bind, keys: Sequence[str]) -> dict[str, dict]:
    g = groups.c
    out: dict[str, dict] = {}
    with reading(engine) as conn:
        for n in range(0, len(keys), 1000):
            stmt = select(groups).where(g.group_key.in_(list(keys[n: n + 1000])))
            out.update({r["group_key"]: dict(r) for r in conn.execute(stmt).mappings()})
    return out


@dataclass(frozen=True)
class Delivery:
    channel: str
    kind: str
    group_keys: tuple[str, ...]
    alerts: int
    status: str  # sent | failed
    attempts: int
    http_status: int | None
    error_code: str | None
    error: str | None
    recipients: str
    at: datetime
    # (instance id, notice kind, recipients) told by this delivery (sent only).
    told: tuple[tuple[int, str, str], ...] = ()
    retry_after_s: float = 0.0


def record_delivery(engine: Bind, d: Delivery) -> int:
    """Log a delivery; when sent, the notices it gave and its groups' last send; when
    failed, the groups' retry time. One transaction."""
    with writing(engine) as conn:
        delivery_id = conn.execute(insert(deliveries).values(
            channel=d.channel, kind=d.kind, group_key=",".join(d.group_keys)[:300], alerts=d.alerts,
            status=d.status, attempts=d.attempts, http_status=d.http_status, error_code=d.error_code,
            error=(d.error or None) and d.error[:2000], recipients=d.recipients, at=d.at,
        ).returning(deliveries.c.id)).scalar_one()
        if d.told:
            conn.execute(insert(notices), [
                {"instance_id": iid, "delivery_id": delivery_id, "channel": d.channel, "kind": kind,
                 "recipients": who, "at": d.at} for iid, kind, who in d.told])
        _update_groups(conn, list(dict.fromkeys(d.group_keys)), d)
    return int(delivery_id)


def _update_groups(conn: Connection, keys: list[str], d: Delivery) -> None:
    """The groups' timers after a delivery, in a few statements however many groups."""
    g = groups.c
    existing: set[str] = set()
    for n in range(0, len(keys), 1000):
        existing |= set(conn.execute(select(g.group_key).where(g.group_key.in_(keys[n: n + 1000]))).scalars())
    if d.status == "sent":
        values = {"last_sent_at": d.at, "failures": 0, "retry_at": None}
        fresh = values
    else:
        values = {"failures": g.failures + 1, "retry_at": d.at + timedelta(seconds=d.retry_after_s)}
        fresh = {"last_sent_at": None, "failures": 1, "retry_at": values["retry_at"]}
    missing = [k for k in keys if k not in existing]
    if missing:
        conn.execute(insert(groups), [{"group_key": k, **fresh} for k in missing])
    present = [k for k in keys if k in existing]
    for n in range(0, len(present), 1000):
        conn.execute(update(groups).where(g.group_key.in_(present[n: n + 1000])).values(**values))


def sent_since(engine: Bind, channel: str, since: datetime) -> list[datetime]:
    """When messages went to ``channel`` (sent or tried: a refused try also counts
    against a robot's limit) at or after ``since``, oldest first."""
    d = deliveries.c
    stmt = select(d.at).where(d.channel == channel, d.at >= since).order_by(d.at)
    with reading(engine) as conn:
        return [r[0] for r in conn.execute(stmt)]


def mark_escalated(engine: Bind, ids: Sequence[int], step: int) -> None:
    with writing(engine) as conn:
        for chunk in _chunks(ids):
            conn.execute(update(instances).where(instances.c.id.in_(chunk)).values(escalated=step))


def acknowledge(engine: Bind, instance_id: int, by: str, now: datetime) -> dict | None:
    """Acknowledge an alert (first acknowledgement wins). An exception's alert also
    sets the exception's ``acknowledged_at`` when it has none, so the exception response
    time measures this response. Returns the instance, None when there is none."""
    i = instances.c
    with writing(engine) as conn:
        found = conn.execute(select(*_instance_columns()).where(i.id == instance_id)).mappings().first()
        if found is None:
            return None
        row = dict(found)
        if row["acknowledged_at"] is None:
            conn.execute(update(instances).where(i.id == instance_id, i.acknowledged_at.is_(None))
                         .values(acknowledged_at=now, acknowledged_by=(by or "—")[:64]))
            row.update(acknowledged_at=now, acknowledged_by=by)
            if row["key"].startswith("exception:"):
                exceptions = cast(Table, OrderException.__table__)
                x = exceptions.c
                exception_id = int(row["key"].split(":", 1)[1])
                changed = conn.execute(update(exceptions).where(
                    x.id == exception_id, x.acknowledged_at.is_(None)).values(acknowledged_at=now))
                if changed.rowcount:
                    bump_data_version(conn)
    return row


def instance(engine: Bind, instance_id: int) -> dict | None:
    rows = _rows(engine, select(*_instance_columns()).where(instances.c.id == instance_id))
    return rows[0] if rows else None


def link_secret(engine: Bind, configured: str | None) -> str:
    """The key that signs acknowledge links: the configured one, else a random key made
    once and kept in the store (so the worker and every web worker agree)."""
    if configured:
        return configured
    m = cast(Table, StoreMeta.__table__)
    with writing(engine) as conn:
        found = conn.execute(select(m.c.value).where(m.c.key == LINK_SECRET_KEY)).scalar_one_or_none()
        if found:
            return found
        value = secrets.token_hex(32)
        conn.execute(insert(m).values(key=LINK_SECRET_KEY, value=value))
        return value


ALERT_LIST_STATES = ("firing", "acknowledged", "resolved")


def alert_list(engine: Bind, states: Sequence[str] = ALERT_LIST_STATES, since: datetime | None = None,
               limit: int | None = None) -> pd.DataFrame:
    """Alerts for the ``/alerts`` page, newest first: firing (not acknowledged),
    acknowledged (still firing) and resolved (since ``since``), with who was told
    (channels and people), the first time anyone was, and the response times.

    Columns: id, rule, rule_kind, key, status, severity, value, summary, labels (dict),
    fired_at, acknowledged_at, acknowledged_by, resolved_at, told_at, told (text),
    ack_after_h (acknowledged - fired), resolved_after_h (resolved - fired)."""
    i, n = instances.c, notices.c
    wanted = []
    if "firing" in states:
        wanted.append(and_(i.state == "firing", i.acknowledged_at.is_(None)))
    if "acknowledged" in states:
        wanted.append(and_(i.state == "firing", i.acknowledged_at.is_not(None)))
    if "resolved" in states:
        wanted.append(and_(i.state == "resolved", i.resolved_at >= since) if since is not None
                      else i.state == "resolved")
    if not wanted:
        return pd.DataFrame()
    from sqlalchemy import or_

    stmt = (select(i.id, i.rule, i.rule_kind, i.key, i.state, i.severity, i.value, i.summary, i.labels,
                   raw(i.fired_at), raw(i.acknowledged_at), i.acknowledged_by, raw(i.resolved_at))
            .where(i.state != "pending", or_(*wanted)).order_by(i.fired_at.desc(), i.id.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = read_frame(engine, stmt)
    for column in ("fired_at", "acknowledged_at", "resolved_at"):
        rows[column] = pd.to_datetime(rows[column], utc=True, format="ISO8601")
    told_rows: list = []
    ids = rows["id"].astype(int).tolist()
    with reading(engine) as conn:
        for chunk in _chunks(ids):
            told_rows += conn.execute(select(n.instance_id, n.channel, n.recipients, n.at)
                                      .where(n.instance_id.in_(chunk), n.kind.in_(FIRING_KINDS + ("escalation",)))
                                      .order_by(n.at)).all()
    told: dict[int, list[str]] = {}
    first: dict[int, datetime] = {}
    for iid, channel, who, at in told_rows:
        entry = f"{channel}" + (f" ({who})" if who else "")
        if entry not in told.setdefault(iid, []):
            told[iid].append(entry)
        first.setdefault(iid, at)
    rows["status"] = [("acknowledged" if pd.notna(a) else "firing") if s == "firing" else s
                      for s, a in zip(rows["state"], rows["acknowledged_at"], strict=True)]
    rows["labels"] = [json.loads(t or "{}") for t in rows["labels"]]
    rows["told"] = [", ".join(told.get(int(x), [])) for x in rows["id"]]
    rows["told_at"] = pd.to_datetime([first.get(int(x)) for x in rows["id"]], utc=True)
    rows["ack_after_h"] = (rows["acknowledged_at"] - rows["fired_at"]).dt.total_seconds() / 3600
    rows["resolved_after_h"] = (rows["resolved_at"] - rows["fired_at"]).dt.total_seconds() / 3600
    return rows.drop(columns=["state"])


def recent_deliveries(engine: Bind, limit: int = 50) -> pd.DataFrame:
    d = deliveries.c
    stmt = select(d.id, d.channel, d.kind, d.alerts, d.status, d.attempts, d.http_status, d.error_code,
                  d.error, d.recipients, raw(d.at)).order_by(d.at.desc(), d.id.desc()).limit(limit)
    return read_frame(engine, stmt)

"""One order in full: its row, stage visits, events, exceptions and audit trail
(entries are written by ``datasource.audit``).

Plain selects by the order's indexed columns; frames come back with tz-aware UTC
datetimes (``queries.read_frame``). No Dash here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from datasource.queries import FilterMap, filter_conditions, raw, read_frame, to_utc
from datasource.schema import (
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderChange,
    OrderEvent,
    OrderException,
    StageVisit,
)

orders = Order.__table__
visits_t = StageVisit.__table__
events_t = OrderEvent.__table__
exceptions_t = OrderException.__table__
audit_t = AuditEntry.__table__

ORDER_FIELDS = (
    "id", "order_number", "customer", "channel", "production_line", "product_line", "owner",
    "quantity", "amount", "priority", "status", "current_stage", "current_since", "placed_at",
    "promised_at", "completed_at", "cancelled_at",
)


HISTORY_COLUMNS = ["changed_at", "field", "old_value", "new_value", "source", "line"]


@dataclass(frozen=True)
class OrderDetail:
    """Everything the order page shows. ``visits`` in entry order (entered_at, visit id);
    ``events`` in occurrence order; ``exceptions`` by opened_at; ``audit`` newest first;
    ``findings``: the order's data-quality findings (kind, detail, source, line);
    ``history``: values later imports changed, newest first (``order_history``)."""

    order: dict
    visits: pd.DataFrame
    events: pd.DataFrame
    exceptions: pd.DataFrame
    audit: pd.DataFrame
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["kind", "detail", "source", "line"]))
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HISTORY_COLUMNS))




def find_order(engine: Engine, number: str, filters: FilterMap | None = None) -> dict | None:
    """The order row (``ORDER_FIELDS``) of an order number, or None; also None when the
    order is outside ``filters`` (a viewer's scope: ``datasource.scope``)."""
    o = orders.c
    frame = read_frame(engine, select(*(raw(o[f]) if f.endswith("_at") or f == "current_since"
                                        else o[f] for f in ORDER_FIELDS))
                       .where(o.order_number == number, *filter_conditions(filters)))
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    return {k: (None if v is pd.NaT or (not isinstance(v, str) and pd.isna(v)) else v)
            for k, v in row.items()}


def order_visits(engine: Engine, order_id: int) -> pd.DataFrame:
    """Stage visits: stage_code, visit_no, is_rework, entered_at, left_at, duration_s, operator."""
    v = visits_t.c
    frame = read_frame(engine, select(
        v.id, v.stage_code, v.visit_no, v.is_rework, raw(v.entered_at), raw(v.left_at),
        v.duration_s, v.operator,
    ).where(v.order_id == order_id).order_by(v.entered_at, v.id))
    frame["is_rework"] = frame["is_rework"].astype(bool)
    return frame


def order_events(engine: Engine, order_id: int) -> pd.DataFrame:
    """Events: occurred_at, stage_code, event_type, operator, note, source."""
    e = events_t.c
    frame = read_frame(engine, select(
        e.id, raw(e.occurred_at), e.stage_code, e.event_type, e.operator, e.note, e.source,
    ).where(e.order_id == order_id).order_by(e.occurred_at, e.id))
    frame["occurred_at"] = to_utc(frame["occurred_at"])  # not one of read_frame's columns
    return frame


def order_exceptions(engine: Engine, order_id: int) -> pd.DataFrame:
    """Exceptions: stage_code, kind, severity, opened/acknowledged/resolved_at, owner, note."""
    x = exceptions_t.c
    return read_frame(engine, select(
        x.id, x.stage_code, x.kind, x.severity, raw(x.opened_at), raw(x.acknowledged_at),
        raw(x.resolved_at), x.owner, x.note,
    ).where(x.order_id == order_id).order_by(x.opened_at, x.id))


def audit_trail(engine: Engine, number: str, limit: int = 200) -> pd.DataFrame:
    """Audit entries whose target mentions the order number (newest first):
    at, actor, action, target, detail."""
    a = audit_t.c
    pattern = number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (select(a.id, a.at.label("at_"), a.actor, a.action, a.target, a.detail)
            .where(a.target.like(f"%{pattern}%", escape="\\"))
            .order_by(a.at.desc(), a.id.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=["id", "at_", "actor", "action", "target", "detail"])
    frame = frame.rename(columns={"at_": "at"})
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def order_findings(engine: Engine, number: str) -> pd.DataFrame:
    """The order's data-quality findings (out of pipeline order, ...): kind, detail,
    source, line, in the order they were found."""
    f = DataQualityFinding.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(f.kind, f.detail, f.source, f.line)
                            .where(f.order_number == number).order_by(f.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["kind", "detail", "source", "line"])


def order_history(engine: Engine, order_id: int) -> pd.DataFrame:
    """Values of the order that later imports changed, newest first: changed_at (UTC),
    field (``promised_at``, ``customer``, ``enter:<stage>``...), old_value, new_value
    (text; instants in ISO 8601 UTC), source, line."""
    c = OrderChange.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.changed_at, c.field, c.old_value, c.new_value, c.source, c.line)
                            .where(c.order_id == order_id)
                            .order_by(c.changed_at.desc(), c.id.desc())).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=HISTORY_COLUMNS)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame


def order_detail(engine: Engine, number: str, filters: FilterMap | None = None) -> OrderDetail | None:
    """The whole order page's data, or None for an unknown number or an order outside
    ``filters``."""
    order = find_order(engine, number, filters)
    if order is None:
        return None
    oid = int(order["id"])
    return OrderDetail(order, order_visits(engine, oid), order_events(engine, oid),
                       order_exceptions(engine, oid), audit_trail(engine, number),
                       order_findings(engine, number), order_history(engine, oid))

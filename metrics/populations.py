"""The populations behind the metrics, as SQL predicates (DESIGN.md section 4).

One condition per rule (completed in W, late, WIP now, open exception, SLA breach) and
``drill_statement``, which lists the rows behind any number of the catalog
(``metrics.catalog``: each metric names its population). The summary's frames
(``metrics.frames``) select with the same conditions, so a number and its list agree.
Conditions are written so the indexes of ``datasource.schema`` carry them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.sql import ColumnElement, Select

from datasource.queries import FilterMap, exceptions, filter_conditions, order_columns, orders, raw, visits

def completed_conditions(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    o = orders.c
    return [o.status != "cancelled", o.completed_at >= start, o.completed_at < end]


def late_conditions() -> list[ColumnElement[bool]]:
    o = orders.c
    return [o.promised_at.is_not(None), o.completed_at > o.promised_at]


def wip_conditions(now: datetime, flow_codes: Sequence[str]) -> list[ColumnElement[bool]]:
    o = orders.c
    return [o.status == "open", o.placed_at <= now, o.current_stage.in_(list(flow_codes))]


def open_exception_conditions(now: datetime) -> list[ColumnElement[bool]]:
    x = exceptions.c
    return [x.opened_at <= now, or_(x.resolved_at.is_(None), x.resolved_at > now)]


def breach_condition(sla_seconds: Mapping[str, float]) -> ColumnElement[bool]:
    """The visit lasted longer than its stage's SLA."""
    v = visits.c
    return or_(false(), *(
        and_(v.stage_code == code, v.duration_s > sla) for code, sla in sla_seconds.items()
    ))


ORDER_KINDS = ("placed_today", "completed", "late", "no_promise", "wip", "stage_wip",
               "overdue_now", "stage_open_breaches", "stage_delayed")


VISIT_KINDS = ("stage_visits", "stage_breaches", "stage_rework", "anomalies")


EXCEPTION_KINDS = ("open_exceptions", "exceptions_opened")


SQL_KINDS = ORDER_KINDS + VISIT_KINDS + EXCEPTION_KINDS


def _sla(sla_seconds: Mapping[str, float], stage: str | None) -> float:
    if stage is None:
        raise ValueError("a stage's population needs the stage")
    return sla_seconds[stage]


def drill_statement(
    what: str,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    filters: FilterMap | None,
    flow_codes: Sequence[str],
    sla_seconds: Mapping[str, float],
    today_start: datetime,
    stage: str | None = None,
) -> Select:
    """The rows behind one number, as a statement (no ORDER BY, no paging).

    Order kinds give one row per order, visit kinds one row per stage visit (visit_id,
    stage_code, visit_no, is_rework, entered_at, left_at, duration_s added), exception
    kinds one row per exception (exception_id, exception_stage, kind, severity,
    opened_at, acknowledged_at, resolved_at added); ``stage_delayed`` adds
    contribution_s. The conditions are those of the summary (see ``metrics``).
    """
    if what not in SQL_KINDS:
        raise ValueError(f"unknown drill-down {what!r} (one of {SQL_KINDS})")
    o, v, x = orders.c, visits.c, exceptions.c
    where = filter_conditions(filters)
    needs_stage = what.startswith("stage_")
    if needs_stage and stage is None:
        raise ValueError(f"{what} needs a stage")
    if what in ORDER_KINDS:
        stmt = select(*order_columns()).select_from(orders)
        if what == "placed_today":
            where += [o.placed_at >= today_start, o.placed_at <= now]
        elif what in ("completed", "late", "no_promise"):
            where += completed_conditions(start, end)
            if what == "late":
                where += late_conditions()
            elif what == "no_promise":
                where.append(o.promised_at.is_(None))
        elif what == "stage_delayed":
            excess = (v.duration_s - _sla(sla_seconds, stage))
            per_order = (
                select(v.order_id, func.sum(excess).label("contribution_s"))
                .where(v.stage_code == stage, v.duration_s > _sla(sla_seconds, stage))
                .group_by(v.order_id)
                .subquery()
            )
            stmt = (select(*order_columns(), per_order.c.contribution_s)
                    .select_from(orders).join(per_order, per_order.c.order_id == o.id))
            where += completed_conditions(start, end) + late_conditions()
        else:
            where += wip_conditions(now, flow_codes)
            if what == "overdue_now":
                where.append(o.promised_at < now)
            if stage is not None:
                where.append(o.current_stage == stage)
            if what == "stage_open_breaches":
                where.append(o.current_since < now - timedelta(seconds=_sla(sla_seconds, stage)))
        return stmt.where(*where)
    if what in VISIT_KINDS:
        stmt = select(
            *order_columns(), v.id.label("visit_id"), v.stage_code, v.visit_no, v.is_rework,
            raw(v.entered_at), raw(v.left_at), v.duration_s,
        ).select_from(visits).join(orders, o.id == v.order_id)
        where += [v.left_at >= start, v.left_at < end]
        if stage is not None:
            where.append(v.stage_code == stage)
        if what == "anomalies":
            where.append(v.duration_s < 0)
        else:
            where.append(v.duration_s >= 0)
        if what == "stage_breaches":
            where.append(v.duration_s > _sla(sla_seconds, stage))
        elif what == "stage_rework":
            where.append(v.is_rework.is_(True))
        return stmt.where(*where)
    stmt = select(
        *order_columns(), x.id.label("exception_id"), x.stage_code.label("exception_stage"),
        x.kind, x.severity, raw(x.opened_at), raw(x.acknowledged_at), raw(x.resolved_at),
    ).select_from(exceptions).join(orders, o.id == x.order_id)
    if what == "open_exceptions":
        where += open_exception_conditions(now)
    else:
        where += [x.opened_at >= start, x.opened_at < end]
    if stage is not None:
        where.append(x.stage_code == stage)
    return stmt.where(*where)

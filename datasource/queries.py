"""The SQL that selects the frames metrics are computed from (read-only, indexed).

Every function takes plain parameters (UTC instants, a ``{column: value}`` filter
mapping, stage codes) so this layer never imports ``metrics``. Frames come back with
tz-aware UTC datetimes. Conditions are written so the indexes of ``datasource.schema``
carry them: ranges on ``orders.completed_at`` / ``placed_at``, ``status`` equality,
``(stage_code, left_at)`` on visits with the stage list as an IN, ``opened_at`` on
exceptions. Counts and group-bys that SQL does cheaply are done in SQL.

Timestamps are selected without the ``UTCDateTime`` result processing (one Python call
per value) and converted by pandas in one vectorised step; comparisons keep the typed
columns so bound values are stored-format UTC on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    String,
    and_,
    false,
    func,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement, Select

from datasource.schema import Order, OrderException, StageVisit

FilterMap = Mapping[str, str | tuple[str, ...]]

orders = Order.__table__
visits = StageVisit.__table__
exceptions = OrderException.__table__

ORDER_COLUMNS = (
    "order_number", "customer", "channel", "production_line", "product_line", "owner",
    "priority", "status", "current_stage", "current_since", "placed_at", "promised_at",
    "completed_at", "cancelled_at",
)
DATETIME_COLUMNS = frozenset({
    "current_since", "placed_at", "promised_at", "completed_at", "cancelled_at",
    "entered_at", "left_at", "opened_at", "acknowledged_at", "resolved_at",
})
FILTERABLE = ("production_line", "customer", "channel", "product_line", "owner")


def raw(column: ColumnElement, name: str | None = None) -> ColumnElement:
    """``column`` without result processing (datetimes are converted by ``to_utc``)."""
    return type_coerce(column, String()).label(name or column.name)


def to_utc(values: pd.Series) -> pd.Series:
    """Naive-UTC values as read from either backend -> ``datetime64[us, UTC]``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC")
    return pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[us, UTC]")


def read_frame(engine: Engine, stmt: Select) -> pd.DataFrame:
    """Run ``stmt`` and return its rows with datetime columns as tz-aware UTC.

    SQLAlchemy Core compiles the statement and processes the bound values; the rows are
    then fetched from the DBAPI cursor as plain tuples. That skips building one Row
    object per row (what ``pandas.read_sql`` goes through), which was a third of the
    time of the summary on a million orders; every selected column is already
    unprocessed (``raw``), so nothing is lost.
    """
    with engine.connect() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
    frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)
    for name in frame.columns:
        if name in DATETIME_COLUMNS:
            frame[name] = to_utc(frame[name])
    return frame


def scalar(engine: Engine, stmt: Select) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def filter_conditions(filters: FilterMap | None) -> list[ColumnElement[bool]]:
    """One condition on ``orders`` per active filter (a tuple means any of its values)."""
    conditions = []
    for name, value in (filters or {}).items():
        if name not in FILTERABLE:
            raise ValueError(f"unknown filter {name!r} (one of {FILTERABLE})")
        column = orders.c[name]
        conditions.append(column.in_(value) if isinstance(value, tuple) else column == value)
    return conditions


def with_order_filters(stmt: Select, order_id: ColumnElement, filters: FilterMap | None) -> Select:
    """Join ``orders`` into a statement over visits/exceptions when filters are active."""
    conditions = filter_conditions(filters)
    if not conditions:
        return stmt
    return stmt.join(orders, orders.c.id == order_id).where(*conditions)


# -- frames of the summary ------------------------------------------------------------

def window_orders(engine: Engine, start: datetime, end: datetime, filters: FilterMap | None) -> pd.DataFrame:
    """Every order that can matter to ``[start, end)``: open, cancelled at or after
    ``start``, completed at or after ``start``, or placed in the window. This holds the
    orders completed, placed or cancelled in W, the open orders now, and every order in
    WIP at some instant of W (a cancelled order with an unknown or earlier-than-placed
    cancel time counts as cancelled when placed: it is among those placed in W).

    Columns: id, status, current_stage, current_since, placed_at, completed_at,
    cancelled_at, promised_at. For windows ending near now this is small (the recent
    completions plus the open orders); a window far in the past reads every order
    completed since its start.
    """
    o = orders.c
    stmt = select(
        o.id, o.status, o.current_stage, raw(o.current_since), raw(o.placed_at),
        raw(o.completed_at), raw(o.cancelled_at), raw(o.promised_at),
    ).where(o.id.in_(window_order_ids(start, end)), *filter_conditions(filters))
    return read_frame(engine, stmt)


def window_order_ids(start: datetime, end: datetime):
    """The ids of ``window_orders`` as a UNION of four index range scans (status,
    cancelled_at, completed_at, placed_at), so no planner statistics are needed to avoid
    a full scan."""
    o = orders.c
    return union(
        select(o.id).where(o.status == "open"),
        select(o.id).where(o.cancelled_at >= start),
        select(o.id).where(o.completed_at >= start),
        select(o.id).where(o.placed_at >= start, o.placed_at < end),
    )


def visits_ended(
    engine: Engine, start: datetime, end: datetime, stage_codes: Sequence[str],
    filters: FilterMap | None,
) -> pd.DataFrame:
    """Visits of ``stage_codes`` that ended (left_at) in ``[start, end)``, negative
    durations included. Columns: stage_code (categorical), duration_s, is_rework.

    One index-only range scan per stage (``ix_visits_stage_left`` covers the columns);
    the rows are numbers only, read straight into numpy, which keeps millions of visits
    (a 90-day window of a big store) cheap to load.
    """
    v = visits.c
    parts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    with engine.connect() as conn:
        for i, code in enumerate(stage_codes):
            stmt = select(v.duration_s, v.is_rework).where(
                v.stage_code == code, v.left_at >= start, v.left_at < end,
            )
            result = conn.execute(with_order_filters(stmt, v.order_id, filters))
            rows = result.cursor.fetchall()
            result.close()
            array = np.array(rows, dtype="float64").reshape(-1, 2)
            parts.append(array)
            codes.append(np.full(len(array), i, dtype="int32"))
    data = np.concatenate(parts) if parts else np.empty((0, 2))
    stage = pd.Categorical.from_codes(np.concatenate(codes) if codes else [], categories=list(stage_codes))
    return pd.DataFrame({
        "stage_code": stage,
        "duration_s": data[:, 0],
        "is_rework": data[:, 1].astype(bool),
    })


def late_order_visits(
    engine: Engine, start: datetime, end: datetime, filters: FilterMap | None,
    sla_seconds: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Visits of the late orders completed in ``[start, end)`` (completed_at >
    promised_at, not cancelled). With ``sla_seconds`` ({stage: SLA}), only the visits of
    those stages that lasted longer than their SLA (the only ones that contribute to
    delay). Columns: order_id, stage_code, duration_s."""
    v, o = visits.c, orders.c
    stmt = (
        select(v.order_id, v.stage_code, v.duration_s)
        .join(orders, o.id == v.order_id)
        .where(*completed_conditions(start, end), *late_conditions(), *filter_conditions(filters))
    )
    if sla_seconds is not None:
        stmt = stmt.where(breach_condition(sla_seconds))
    return read_frame(engine, stmt)


def exceptions_opened(engine: Engine, start: datetime, end: datetime, filters: FilterMap | None) -> pd.DataFrame:
    """Exceptions opened in ``[start, end)``. Columns: id, order_id, stage_code, kind,
    severity, opened_at, acknowledged_at, resolved_at."""
    x = exceptions.c
    stmt = select(
        x.id, x.order_id, x.stage_code, x.kind, x.severity, raw(x.opened_at),
        raw(x.acknowledged_at), raw(x.resolved_at),
    ).where(x.opened_at >= start, x.opened_at < end)
    return read_frame(engine, with_order_filters(stmt, x.order_id, filters))


def count_open_exceptions(engine: Engine, now: datetime, filters: FilterMap | None) -> int:
    """Exceptions opened at or before ``now`` and not resolved by then."""
    x = exceptions.c
    stmt = select(func.count()).select_from(exceptions).where(*open_exception_conditions(now))
    return scalar(engine, with_order_filters(stmt, x.order_id, filters))


def count_placed(engine: Engine, since: datetime, until: datetime, filters: FilterMap | None) -> int:
    """Orders (any status) placed in ``[since, until]`` (both ends included)."""
    o = orders.c
    stmt = select(func.count()).select_from(orders).where(
        o.placed_at >= since, o.placed_at <= until, *filter_conditions(filters)
    )
    return scalar(engine, stmt)


# -- shared conditions ----------------------------------------------------------------

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


# -- the orders behind each number (drill-down) ---------------------------------------

ORDER_KINDS = ("placed_today", "completed", "late", "no_promise", "wip", "stage_wip",
               "overdue_now", "stage_open_breaches", "stage_delayed")
VISIT_KINDS = ("stage_visits", "stage_breaches", "stage_rework", "anomalies")
EXCEPTION_KINDS = ("open_exceptions", "exceptions_opened")
SQL_KINDS = ORDER_KINDS + VISIT_KINDS + EXCEPTION_KINDS


def _order_columns() -> list[ColumnElement]:
    o = orders.c
    return [o.id.label("order_id")] + [
        raw(o[name]) if name in DATETIME_COLUMNS else o[name] for name in ORDER_COLUMNS
    ]


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
        stmt = select(*_order_columns()).select_from(orders)
        if what == "placed_today":
            where += [o.placed_at >= today_start, o.placed_at <= now]
        elif what in ("completed", "late", "no_promise"):
            where += completed_conditions(start, end)
            if what == "late":
                where += late_conditions()
            elif what == "no_promise":
                where.append(o.promised_at.is_(None))
        elif what == "stage_delayed":
            excess = (v.duration_s - sla_seconds[stage])
            per_order = (
                select(v.order_id, func.sum(excess).label("contribution_s"))
                .where(v.stage_code == stage, v.duration_s > sla_seconds[stage])
                .group_by(v.order_id)
                .subquery()
            )
            stmt = (select(*_order_columns(), per_order.c.contribution_s)
                    .select_from(orders).join(per_order, per_order.c.order_id == o.id))
            where += completed_conditions(start, end) + late_conditions()
        else:
            where += wip_conditions(now, flow_codes)
            if what == "overdue_now":
                where.append(o.promised_at < now)
            if stage is not None:
                where.append(o.current_stage == stage)
            if what == "stage_open_breaches":
                where.append(o.current_since < now - timedelta(seconds=sla_seconds[stage]))
        return stmt.where(*where)
    if what in VISIT_KINDS:
        stmt = select(
            *_order_columns(), v.id.label("visit_id"), v.stage_code, v.visit_no, v.is_rework,
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
            where.append(v.duration_s > sla_seconds[stage])
        elif what == "stage_rework":
            where.append(v.is_rework.is_(True))
        return stmt.where(*where)
    stmt = select(
        *_order_columns(), x.id.label("exception_id"), x.stage_code.label("exception_stage"),
        x.kind, x.severity, raw(x.opened_at), raw(x.acknowledged_at), raw(x.resolved_at),
    ).select_from(exceptions).join(orders, o.id == x.order_id)
    if what == "open_exceptions":
        where += open_exception_conditions(now)
    else:
        where += [x.opened_at >= start, x.opened_at < end]
    if stage is not None:
        where.append(x.stage_code == stage)
    return stmt.where(*where)


SEARCH_COLUMNS = ("order_number", "customer", "owner")


def read_page(
    engine: Engine, stmt: Select, order_by: Sequence[tuple[str, bool]], offset: int, limit: int | None,
    contains: Mapping[str, str] | None = None, search: str | None = None,
    search_columns: Sequence[str] = SEARCH_COLUMNS,
) -> tuple[pd.DataFrame, int]:
    """One sorted page of ``stmt`` and the total row count, both computed in SQL.

    ``order_by``: (output column name, descending) pairs; NULLs sort last either way.
    ``contains``: {output column: text} kept rows contain each text (case-insensitive);
    ``search``: kept rows contain it in one of ``search_columns``.
    """
    sub = stmt.subquery()
    where = text_conditions(sub, contains, search, search_columns)
    keys = []
    for name, descending in order_by:
        column = sub.c[name]
        keys.append((column.desc() if descending else column.asc()).nulls_last())
    page = select(sub).where(*where).order_by(*keys).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    total = scalar(engine, select(func.count()).select_from(sub).where(*where))
    return read_frame(engine, page), total



def _contains(column: ColumnElement, text: str) -> ColumnElement[bool]:
    return func.lower(column).contains(text.lower(), autoescape=True)


def text_conditions(
    sub, contains: Mapping[str, str] | None, search: str | None, search_columns: Sequence[str],
) -> list[ColumnElement[bool]]:
    """Case-insensitive substring conditions on the columns of a subquery (LIKE
    wildcards in the texts are matched literally)."""
    where = []
    for name, text in (contains or {}).items():
        if name not in sub.c:
            raise ValueError(f"cannot filter by {name!r}")
        if text:
            where.append(_contains(sub.c[name], text))
    if search:
        where.append(or_(*(_contains(sub.c[name], search) for name in search_columns)))
    return where


def orders_by_ids(engine: Engine, ids: Sequence[int]) -> pd.DataFrame:
    """Order detail rows (as in ``drill_statement``'s order kinds) for these order ids."""
    frames = []
    for i in range(0, len(ids), 5000):
        part = [int(n) for n in ids[i : i + 5000]]
        frames.append(read_frame(engine, select(*_order_columns()).where(orders.c.id.in_(part))))
    if not frames:
        return read_frame(engine, select(*_order_columns()).where(false()))
    return pd.concat(frames, ignore_index=True)


def open_orders(engine: Engine, now: datetime, flow_codes: Sequence[str], filters: FilterMap | None) -> pd.DataFrame:
    """The WIP now: id, status, current_stage, current_since, placed_at, promised_at."""
    o = orders.c
    stmt = select(
        o.id, o.status, o.current_stage, raw(o.current_since), raw(o.placed_at), raw(o.promised_at),
    ).where(*wip_conditions(now, flow_codes), *filter_conditions(filters))
    return read_frame(engine, stmt)


# -- manager pages: filter choices, breakdowns, per-order counts ----------------------

def distinct_values(engine: Engine, column: str, limit: int = 1000) -> list[str]:
    """The distinct non-empty values of an orders filter column, sorted (for dropdowns)."""
    if column not in FILTERABLE:
        raise ValueError(f"unknown filter {column!r} (one of {FILTERABLE})")
    c = orders.c[column]
    stmt = select(c).where(c.is_not(None), c != "").group_by(c).order_by(c).limit(limit)
    with engine.connect() as conn:
        return [str(v) for v in conn.execute(stmt).scalars()]


def count_wip_by(
    engine: Engine, column: str, now: datetime, flow_codes: Sequence[str],
    filters: FilterMap | None, stage: str | None = None,
) -> dict[str, int]:
    """WIP now (as ``wip_conditions``) per value of an orders filter column (None -> "")."""
    if column not in FILTERABLE:
        raise ValueError(f"unknown filter {column!r} (one of {FILTERABLE})")
    o = orders.c
    where = wip_conditions(now, flow_codes) + filter_conditions(filters)
    if stage is not None:
        where.append(o.current_stage == stage)
    stmt = select(o[column], func.count()).where(*where).group_by(o[column])
    with engine.connect() as conn:
        return {("" if k is None else str(k)): int(n) for k, n in conn.execute(stmt).all()}


def open_exception_counts(engine: Engine, order_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Open exceptions now (as ``open_exception_conditions``) per order id, for these ids
    (orders without any are absent)."""
    x = exceptions.c
    out: dict[int, int] = {}
    ids = [int(i) for i in order_ids]
    for i in range(0, len(ids), 5000):
        stmt = (select(x.order_id, func.count()).where(x.order_id.in_(ids[i : i + 5000]),
                *open_exception_conditions(now)).group_by(x.order_id))
        with engine.connect() as conn:
            out.update({int(k): int(n) for k, n in conn.execute(stmt).all()})
    return out

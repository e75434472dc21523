"""The frames the summary is computed from, selected with the populations' conditions.

Counts and group-bys that SQL does cheaply are done in SQL; ranges use the indexes of
``datasource.schema``: ``orders.completed_at`` / ``placed_at``, ``status`` equality,
``(stage_code, left_at)`` on visits with the stage list as an IN, ``opened_at`` on
exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, union
from sqlalchemy.engine import Engine

from datasource.queries import (
    FILTERABLE,
    FilterMap,
    exceptions,
    filter_conditions,
    orders,
    raw,
    read_frame,
    scalar,
    visits,
    with_order_filters,
)
from metrics.populations import (
    breach_condition,
    completed_conditions,
    late_conditions,
    open_exception_conditions,
    wip_conditions,
)

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


def open_orders(engine: Engine, now: datetime, flow_codes: Sequence[str], filters: FilterMap | None) -> pd.DataFrame:
    """The WIP now: id, status, current_stage, current_since, placed_at, promised_at."""
    o = orders.c
    stmt = select(
        o.id, o.status, o.current_stage, raw(o.current_since), raw(o.placed_at), raw(o.promised_at),
    ).where(*wip_conditions(now, flow_codes), *filter_conditions(filters))
    return read_frame(engine, stmt)


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

"""Firing alerts as screens count and list them: the open-alerts count (catalog metric
``open_alerts``) and the wall's list, both under the screen's order filters.

*Open* means firing and not acknowledged (``open_condition``, the one definition).

Filters (``{orders column: value}``, as everywhere) apply to alerts through what they are
about: an alert about an order or an exception (label ``order``) passes when its order
passes the filters (read from ``orders`` now, through ``queries.filter_conditions``); an
alert about a stage or a scope (metric rules) passes when its rule's scope is exactly the
filters (label ``scope``, ``scope_text``), so a Line A screen shows Line A's metric alerts
and not the whole flow's. Without filters every firing alert counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import pandas as pd
from sqlalchemy import Table, case, func, select
from sqlalchemy.sql import ColumnElement

from datasource.alert_store import EVALUATED_KEY, Bind, reading
from datasource.queries import FilterMap, filter_conditions, orders, raw, to_utc
from datasource.schema import AlertInstance, StoreMeta

instances = cast(Table, AlertInstance.__table__)
LIST_COLUMNS = ("id", "rule", "rule_kind", "key", "severity", "value", "summary", "labels", "started_at",
                "fired_at", "acknowledged_at", "acknowledged_by")
ORDER_CHUNK = 1000


def open_condition() -> ColumnElement[bool]:
    """An open alert: state firing, not acknowledged."""
    i = instances.c
    return (i.state == "firing") & i.acknowledged_at.is_(None)


def scope_text(scope: FilterMap | None) -> str:
    """How a rule's scope is named in its alerts' ``scope`` label: ``production_line=Line A``
    (sorted, comma-separated; a tuple's values joined by ``|``), ``all`` without one."""
    parts = [f"{k}={'|'.join(v) if isinstance(v, tuple) else v}" for k, v in sorted((scope or {}).items())]
    return ",".join(parts) or "all"


def open_alert_count(bind: Bind, filters: FilterMap | None = None) -> int:
    """How many alerts are open (firing, not acknowledged) under ``filters``."""
    if not filters:
        stmt = select(func.count()).select_from(instances).where(open_condition())
        with reading(bind) as conn:
            return int(conn.execute(stmt).scalar() or 0)
    return int(_matching(bind, _firing(bind, open_only=True), filters)["open"].sum())


@dataclass(frozen=True)
class FiringAlerts:
    """The first ``rows`` of the firing alerts under some filters (open ones first, then
    critical before warning, then the longest firing first), and the totals: ``firing``
    (acknowledged or not) and ``open`` (not acknowledged); ``evaluated_at``: when the
    alert rules were last evaluated (None: never)."""

    rows: pd.DataFrame = field(repr=False)
    firing: int
    open: int
    evaluated_at: datetime | None


def firing_alerts(bind: Bind, filters: FilterMap | None = None, limit: int = 10) -> FiringAlerts:
    with reading(bind) as conn:
        evaluated = conn.execute(select(StoreMeta.value).where(StoreMeta.key == EVALUATED_KEY)).scalar()
        if filters:
            rows = _matching(conn, _firing(conn), filters)
            rows = rows.sort_values(["open", "critical", "started_at", "id"], ascending=[False, False, True, True],
                                    kind="stable")
            firing, open_ = len(rows), int(rows["open"].sum())
            rows = rows.head(limit)
        else:
            firing, open_ = _totals(conn)
            rows = _firing(conn, limit=limit)
    return FiringAlerts(rows.drop(columns=["open", "critical"]).reset_index(drop=True), firing, open_,
                        datetime.fromisoformat(evaluated) if evaluated else None)


def _totals(conn) -> tuple[int, int]:
    i = instances.c
    stmt = select(func.count(), func.sum(case((i.acknowledged_at.is_(None), 1), else_=0))).where(i.state == "firing")
    firing, open_ = conn.execute(stmt).one()
    return int(firing or 0), int(open_ or 0)


def _firing(bind: Bind, open_only: bool = False, limit: int | None = None) -> pd.DataFrame:
    """Firing instances, in list order, with ``labels`` parsed and the flags ``open`` and
    ``critical``."""
    i = instances.c
    opened = case((i.acknowledged_at.is_(None), 1), else_=0)
    critical = case((i.severity == "critical", 1), else_=0)
    stmt = (select(i.id, i.rule, i.rule_kind, i.key, i.severity, i.value, i.summary, i.labels,
                   raw(i.started_at), raw(i.fired_at), raw(i.acknowledged_at), i.acknowledged_by,
                   opened.label("open"), critical.label("critical"))
            .where(open_condition() if open_only else i.state == "firing")
            .order_by(opened.desc(), critical.desc(), i.started_at, i.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    with reading(bind) as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
    if frame.empty:
        frame = pd.DataFrame(columns=[*LIST_COLUMNS, "open", "critical"])
    for column in ("started_at", "fired_at", "acknowledged_at"):
        frame[column] = to_utc(frame[column].astype(object))
    frame["labels"] = [json.loads(t or "{}") for t in frame["labels"]]
    return frame


def matching(bind: Bind, rows: pd.DataFrame, filters: FilterMap | None) -> pd.DataFrame:
    """The alerts of ``rows`` (with a ``labels`` column of dicts) that pass ``filters``
    (see the module docstring); all of them without filters."""
    return _matching(bind, rows, filters) if filters else rows


def _matching(bind: Bind, rows: pd.DataFrame, filters: FilterMap) -> pd.DataFrame:
    """The rows whose order passes ``filters``, or whose scope is exactly ``filters``."""
    numbers = sorted({str(labels["order"]) for labels in rows["labels"] if labels.get("order")})
    passing = _orders_passing(bind, numbers, filters)
    wanted = scope_text(filters)
    keep = [(str(labels["order"]) in passing) if labels.get("order") else labels.get("scope") == wanted
            for labels in rows["labels"]]
    return rows.loc[keep]


def _orders_passing(bind: Bind, numbers: Sequence[str], filters: Mapping) -> set[str]:
    o = orders.c
    conditions = filter_conditions(filters)
    found: set[str] = set()
    with reading(bind) as conn:
        for n in range(0, len(numbers), ORDER_CHUNK):
            chunk = list(numbers[n: n + ORDER_CHUNK])
            found |= set(conn.execute(select(o.order_number).where(o.order_number.in_(chunk), *conditions)).scalars())
    return found

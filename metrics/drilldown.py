"""The orders behind every number of the summary (drill-down).

``orders_behind(..., what)`` lists the rows behind one aggregate; its length equals the
summary's number (tests check every one):

| what                | rows                                   | equals                              |
|---------------------|----------------------------------------|-------------------------------------|
| placed_today        | orders                                 | placed_today                        |
| completed           | orders                                 | delay.completed, cycle_time.count   |
| late                | orders                                 | delay.late                          |
| no_promise          | orders                                 | delay.without_promise               |
| wip                 | orders                                 | wip                                 |
| overdue_now         | orders                                 | delay.overdue_now                   |
| at_risk             | orders                                 | delay.at_risk                       |
| stage_wip           | orders                                 | stages.wip                          |
| stage_open_breaches | orders                                 | stages.open_breaches_now            |
| stage_delayed       | orders (+ contribution_h)              | stages.delayed_orders (sum = delay_contribution_h) |
| stage_visits        | visits                                 | stages.visits                       |
| stage_breaches      | visits                                 | stages.breaches                     |
| stage_rework        | visits                                 | stages.rework_visits                |
| anomalies           | visits (negative durations)            | anomalies[stage] / their sum        |
| open_exceptions     | exceptions                             | exceptions.open_now                 |
| exceptions_opened   | exceptions                             | exceptions.opened_in_window / by_stage |

``overdue_now``, ``at_risk``, ``wip`` and ``exceptions_*`` also take a stage.
``orders_behind_page`` filters, sorts and pages in SQL (at_risk, which needs the stage
medians, is computed over the WIP and paged in memory) and returns (rows, total).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from datasource import queries
from datasource.pipeline import Pipeline
from metrics import frames, populations
from metrics.delay import at_risk_mask
from metrics.stages import flow_codes, stage_table, typical_hours
from metrics.summary import today_start
from metrics.window import Filters, Window, as_utc

WHATS = populations.SQL_KINDS + ("at_risk",)

# Derived columns sort by the stored column they come from: (column, reversed).
SORT_ALIASES = {
    "age_in_stage_h": ("current_since", True),
    "overdue_by_h": ("promised_at", True),
    "time_in_stage_h": ("duration_s", False),
    "contribution_h": ("contribution_s", False),
}
DEFAULT_SORT = {
    "placed_today": "-placed_at", "completed": "-completed_at", "late": "promised_at",
    "no_promise": "-completed_at", "wip": "current_since", "stage_wip": "current_since",
    "overdue_now": "promised_at", "at_risk": "promised_at", "stage_open_breaches": "current_since",
    "stage_delayed": "-contribution_s", "stage_visits": "-duration_s", "stage_breaches": "-duration_s",
    "stage_rework": "-duration_s", "anomalies": "duration_s", "open_exceptions": "opened_at",
    "exceptions_opened": "opened_at",
}


def _hours(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 3600.0


def with_derived(rows: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """A copy of ``rows`` with hours computed: cycle_time_h, late_by_h (completed orders),
    age_in_stage_h and overdue_by_h (open orders), time_in_stage_h (visits),
    contribution_h (stage_delayed)."""
    out = rows.copy()
    is_open = out["status"] == "open"
    out["cycle_time_h"] = _hours(out["completed_at"] - out["placed_at"])
    out["late_by_h"] = _hours(out["completed_at"] - out["promised_at"])
    out["age_in_stage_h"] = _hours(now - out["current_since"]).where(is_open)
    out["overdue_by_h"] = _hours(now - out["promised_at"]).where(is_open)
    if "duration_s" in out:
        out["time_in_stage_h"] = out["duration_s"] / 3600.0
    if "contribution_s" in out:
        out["contribution_h"] = out["contribution_s"] / 3600.0
    return out


def _sort_keys(what: str, sort: str | None, columns: set[str]) -> list[tuple[str, bool]]:
    text = sort or DEFAULT_SORT[what]
    descending = text.startswith("-")
    name = text.lstrip("-+")
    if name in SORT_ALIASES:
        name, flip = SORT_ALIASES[name]
        descending = descending != flip
    if name not in columns:
        raise ValueError(f"cannot sort {what} by {text!r}; columns: {sorted(columns)}")
    keys = [(name, descending), ("order_number", False)]
    for tie in ("visit_id", "exception_id"):
        if tie in columns:
            keys.append((tie, False))
    return keys


def _at_risk_rows(engine, pipeline, window, filters, now, stage) -> pd.DataFrame:
    codes = flow_codes(pipeline)
    active = filters.active()
    wip = frames.open_orders(engine, now, codes, active)
    ended = frames.visits_ended(engine, window.start, window.end, pipeline.codes, active)
    late = pd.DataFrame({"order_id": [], "stage_code": [], "duration_s": []})
    typical = typical_hours(stage_table(ended, wip, late, pipeline, window, now))
    risky = wip.loc[at_risk_mask(wip, now, typical, codes)]
    if stage is not None:
        risky = risky.loc[risky["current_stage"] == stage]
    return queries.orders_by_ids(engine, risky["id"].tolist())


def orders_behind_page(
    engine: Engine, pipeline: Pipeline, what: str, window: Window, filters: Filters | None,
    now: datetime, stage: str | None = None, sort: str | None = None, offset: int = 0,
    limit: int | None = 50, contains: dict[str, str] | None = None, search: str | None = None,
) -> tuple[pd.DataFrame, int]:
    """One page of the rows behind ``what`` (see the module table) and their total.

    ``sort``: a column name, "-" in front for descending (NULLs last); derived hours
    sort by their source column (``SORT_ALIASES``). Ties break by order number (and
    visit or exception id) so pages are stable. ``limit=None`` returns every row.
    ``contains`` ({column: text}) and ``search`` (text in order number, customer or
    owner) keep the rows containing the texts, case-insensitively; the total counts
    the kept rows.
    """
    if what not in WHATS:
        raise ValueError(f"unknown drill-down {what!r} (one of {WHATS})")
    if stage is not None and stage not in pipeline.codes:
        raise ValueError(f"unknown stage {stage!r}")
    filters = filters or Filters()
    now = as_utc(now)
    if what == "at_risk":
        rows = with_derived(_at_risk_rows(engine, pipeline, window, filters, now, stage), now)
        rows = rows.loc[_text_mask(rows, contains, search)]
        keys = _sort_keys(what, sort, set(rows.columns))
        rows = rows.sort_values([k for k, _ in keys], ascending=[not d for _, d in keys],
                                na_position="last", kind="stable")
        end = None if limit is None else offset + limit
        return rows.iloc[offset:end].reset_index(drop=True), len(rows)
    stmt = populations.drill_statement(
        what, start=window.start, end=window.end, now=now, filters=filters.active(),
        flow_codes=flow_codes(pipeline),
        sla_seconds={s.code: s.sla_hours * 3600 for s in pipeline.stages},
        today_start=today_start(now, pipeline.timezone), stage=stage,
    )
    keys = _sort_keys(what, sort, set(stmt.selected_columns.keys()))
    rows, total = queries.read_page(engine, stmt, keys, offset, limit, contains, search)
    return with_derived(rows, now), total


def _text_mask(rows: pd.DataFrame, contains: dict[str, str] | None, search: str | None) -> pd.Series:
    """The in-memory twin of ``queries.text_conditions`` (case-insensitive, literal)."""
    def has(column: str, text: str) -> pd.Series:
        values = rows[column].astype("str").str.lower()
        return values.str.contains(text.lower(), regex=False) & rows[column].notna()

    mask = pd.Series(True, index=rows.index)
    for column, text in (contains or {}).items():
        if column not in rows:
            raise ValueError(f"cannot filter by {column!r}")
        if text:
            mask &= has(column, text)
    if search:
        mask &= pd.concat([has(c, search) for c in queries.SEARCH_COLUMNS], axis=1).any(axis=1)
    return mask


def wip_by(
    engine: Engine, pipeline: Pipeline, column: str, filters: Filters | None, now: datetime,
    stage: str | None = None,
) -> dict[str, int]:
    """WIP now per value of an order attribute (``FILTER_COLUMNS``), optionally only the
    orders whose current stage is ``stage``; sums to ``Summary.wip`` (or the stage's wip)."""
    return frames.count_wip_by(engine, column, as_utc(now), flow_codes(pipeline),
                                (filters or Filters()).active(), stage)


def orders_behind(
    engine: Engine, pipeline: Pipeline, what: str, window: Window, filters: Filters | None,
    now: datetime, stage: str | None = None,
) -> pd.DataFrame:
    """Every row behind ``what`` (see the module table), in the default order."""
    rows, _ = orders_behind_page(engine, pipeline, what, window, filters, now, stage, limit=None)
    return rows

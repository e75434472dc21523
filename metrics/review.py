"""The weekly review as data: one period against the previous one and the weeks before.

``build_weekly_report`` turns metrics summaries into a ``WeeklyReport``: the KPIs with
their week-over-week change, an 8-period trend, per-stage changes, the worst late orders
and exceptions by kind. The page, the exports, the PDF and the XLSX workbook all render
this one object, so they cannot disagree. No figures and no formatting here.

A "period" is an ISO week (``Window.iso_week``) or any date range; the previous period
is the window of the same length just before it (``Window.previous``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from datasource.pipeline import Pipeline
from metrics.catalog import CATALOG, Catalog, Metric
from metrics.drilldown import orders_behind
from metrics.summary import Summary, compute_summary
from metrics.window import Filters, Window, as_utc

Verdict = Literal["better", "worse", "same", "none"]
Summarize = Callable[[Window], Summary]

TREND_PERIODS = 8
WORST_LATE = 10


# The review's KPIs, by catalog name, in the order they are shown.
KPIS: tuple[str, ...] = (
    "completed", "late", "delay_rate", "cycle_time_median", "cycle_time_p90", "placed",
    "exceptions_opened", "exception_ack_median", "exception_resolve_median",
)


@dataclass(frozen=True)
class KpiChange:
    """One KPI of the review, this period and the previous one. It holds the metric's name,
    not the metric (a report is cached, and metrics hold functions)."""

    name: str
    value: float | None
    previous: float | None

    @property
    def spec(self) -> Metric:
        return CATALOG[self.name]

    @property
    def change(self) -> float | None:
        """value - previous (percentage points x 0.01 for ratios); None if either is missing."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def verdict(self) -> Verdict:
        """Whether the change goes the definition's good direction ("none" when ungraded)."""
        change = self.change
        if change is None or self.spec.good_direction is None:
            return "none"
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == (self.spec.good_direction == "up") else "worse"


@dataclass(frozen=True)
class WeeklyReport:
    """Everything the review shows for one period (see the module docstring).

    ``trend``: one row per period, oldest first, the last being this one (columns
    ``period``, ``start``, ``completed``, ``late``, ``delay_rate``, ``median_h``,
    ``p90_h``, ``placed``, ``exceptions_opened``). ``stages``: one row per flow stage
    with this and the previous period's median/p90 time in stage, breaches, breach rate
    and delay contribution. ``late_orders``: the worst late orders completed in the
    period, latest by the most hours. ``exceptions``: opened by kind, this and previous.
    """

    label: str
    window: Window
    previous_window: Window
    timezone: str
    now: datetime
    summary: Summary = field(repr=False)
    previous: Summary = field(repr=False)
    kpis: tuple[KpiChange, ...]
    trend: pd.DataFrame = field(repr=False)
    stages: pd.DataFrame = field(repr=False)
    late_orders: pd.DataFrame = field(repr=False)
    exceptions: pd.DataFrame = field(repr=False)

    @property
    def has_orders(self) -> bool:
        """False when no order was completed in the period: rates then have no value."""
        return self.summary.delay.completed > 0

    @property
    def first_day(self) -> date:
        return self.window.start.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def last_day(self) -> date:
        return (self.window.end - timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone)).date()

    def kpi(self, name: str) -> KpiChange:
        return next(k for k in self.kpis if k.spec.name == name)


# -- periods ------------------------------------------------------------------------------


def last_week(now: datetime, tz: str) -> str:
    """The ISO week before the one containing ``now`` in zone ``tz``, e.g. "2026-W46"."""
    day = as_utc(now).astimezone(ZoneInfo(tz)).date() - timedelta(days=7)
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_label(window: Window, tz: str) -> str:
    """"2026-W47" for a window that is exactly one local ISO week, else "2026-11-02..2026-11-10"."""
    zone = ZoneInfo(tz)
    first = window.start.astimezone(zone).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(zone).date()
    if first.isoweekday() == 1 and last == first + timedelta(days=6):
        year, week, _ = first.isocalendar()
        candidate = f"{year}-W{week:02d}"
        if Window.iso_week(candidate, tz) == window:
            return candidate
    return f"{first.isoformat()}..{last.isoformat()}"


def trailing_windows(window: Window, periods: int) -> list[Window]:
    """``periods`` windows of the same length ending with ``window``, oldest first."""
    out = [window]
    while len(out) < periods:
        out.append(out[-1].previous())
    return out[::-1]


# -- building -----------------------------------------------------------------------------


def _number(value: float | int | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def kpi_changes(current: Summary, previous: Summary, catalog: Catalog = CATALOG) -> tuple[KpiChange, ...]:
    return tuple(KpiChange(name, _number(catalog[name].read(current)),
                           _number(catalog[name].read(previous))) for name in KPIS)


def trend_frame(summaries: list[Summary], tz: str) -> pd.DataFrame:
    rows = []
    for s in summaries:
        rows.append({
            "period": period_label(s.window, tz),
            "start": s.window.start.astimezone(ZoneInfo(tz)).date(),
            "completed": s.delay.completed,
            "late": s.delay.late,
            "delay_rate": s.delay.rate,
            "median_h": s.cycle_time.median_h,
            "p90_h": s.cycle_time.p90_h,
            "placed": s.flow.placed,
            "exceptions_opened": s.exceptions.opened_in_window,
        })
    return pd.DataFrame(rows)


STAGE_VALUES = ("mean_h", "median_h", "p90_h", "visits", "breaches", "breach_rate", "delay_contribution_h")


def stage_changes(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Per flow stage: each of ``STAGE_VALUES`` this period and ``<name>_prev``."""
    base = current[["code", "label_zh", "label_en", "sla_hours", *STAGE_VALUES, "is_bottleneck"]].copy()
    prev = previous[["code", *STAGE_VALUES]].rename(columns={c: f"{c}_prev" for c in STAGE_VALUES})
    return base.merge(prev, on="code", how="left")


def exceptions_by_kind(current: Summary, previous: Summary) -> pd.DataFrame:
    """Exceptions opened by kind, this period and the previous one (most frequent first)."""
    now, before = current.exceptions.by_kind, previous.exceptions.by_kind
    kinds = sorted(set(now) | set(before), key=lambda k: (-now.get(k, 0), -before.get(k, 0), k))
    return pd.DataFrame({
        "kind": kinds,
        "opened": [now.get(k, 0) for k in kinds],
        "opened_prev": [before.get(k, 0) for k in kinds],
    }, columns=["kind", "opened", "opened_prev"])


LATE_COLUMNS = ("order_number", "customer", "owner", "production_line", "placed_at",
                "promised_at", "completed_at", "late_by_h", "cycle_time_h")


def worst_late(rows: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The ``limit`` late orders with the most hours past their promised date."""
    ranked = rows.sort_values(["late_by_h", "order_number"], ascending=[False, True], kind="stable")
    return ranked.loc[:, list(LATE_COLUMNS)].head(limit).reset_index(drop=True)


def build_weekly_report(
    engine: Engine,
    pipeline: Pipeline,
    window: Window,
    now: datetime,
    filters: Filters | None = None,
    periods: int = TREND_PERIODS,
    late_limit: int = WORST_LATE,
    summarize: Summarize | None = None,
) -> WeeklyReport:
    """The review of ``window`` as of ``now``. ``summarize`` computes the summary of one
    window (default: ``compute_summary`` directly; the page passes a cached one)."""
    filters = filters or Filters()
    summarize = summarize or (lambda w: compute_summary(engine, pipeline, w, filters, now))
    windows = trailing_windows(window, max(2, periods))
    summaries = [summarize(w) for w in windows]
    current, previous = summaries[-1], summaries[-2]
    late = orders_behind(engine, pipeline, "late", window, filters, now)
    tz = pipeline.timezone
    return WeeklyReport(
        label=period_label(window, tz),
        window=window,
        previous_window=windows[-2],
        timezone=tz,
        now=as_utc(now),
        summary=current,
        previous=previous,
        kpis=kpi_changes(current, previous),
        trend=trend_frame(summaries[-periods:], tz),
        stages=stage_changes(current.stages, previous.stages),
        late_orders=worst_late(late, late_limit),
        exceptions=exceptions_by_kind(current, previous),
    )

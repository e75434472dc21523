"""What one wall refresh needs, computed once per screen setting and cache period.

``compute_wall`` is the function the wall hands to ``CachedService.get``: the summary of
the last ``SUMMARY_DAYS`` local days (the same numbers as ``orderboard metrics`` for those
days), the daily trend of the last ``TREND_DAYS`` days, the first rows of two
drill-downs (most overdue orders, oldest open exceptions) and of the firing alerts
(``datasource.alert_firing``, under the screen's filters). ``wall_params`` is the cache
key's parameter part: relative windows and filters only, never an absolute "now", and
nothing about presentation (language, rotation), so screens that differ only in how they
look share one computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from datasource.alert_firing import FiringAlerts, firing_alerts
from datasource.pipeline import Pipeline
from metrics import frames
from metrics.drilldown import orders_behind_page
from metrics.summary import Summary, compute_summary
from metrics.trend import daily_trend
from metrics.window import Filters, Window

NAMESPACE = "wall-summary"
SUMMARY_DAYS = 7
TREND_DAYS = 14
LIST_ROWS = 10


@dataclass(frozen=True)
class WallData:
    """The summary plus the lists the wall shows (first ``LIST_ROWS`` rows and totals)."""

    summary: Summary
    trend: pd.DataFrame = field(repr=False)
    overdue: pd.DataFrame = field(repr=False)
    overdue_total: int = 0
    open_exceptions: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    open_exceptions_total: int = 0
    alerts: FiringAlerts | None = None
    alert_rules: int = 0  # how many alert rules the deployment has (0: the alerts view says so)


SUMMARY_WINDOW = {"days": SUMMARY_DAYS}  # as the overview states its window: shared summary


def wall_params(store_key: str, filters: Filters) -> dict:
    """The cache parameters of a screen: store, relative windows, the effective filters
    (the screen's, narrowed to the viewer's scope), list length."""
    return {
        "store": store_key,
        "window": SUMMARY_WINDOW,
        "trend": f"last_days:{TREND_DAYS}",
        "filters": dict(filters.active().items()),
        "rows": LIST_ROWS,
    }


def compute_wall(engine: Engine, pipeline: Pipeline, filters: Filters, now: datetime,
                 summary: Summary | None = None, alert_rules: int = 0) -> WallData:
    """Everything one wall refresh shows, as of ``now`` (the summary's own now when the
    shared summary is given: ``dashboard.summary_cache``, the one the overview reads).

    The 14-day trend reads the orders of its own window (one query) and uses the same
    ``metrics.trend.daily_trend`` as the summary, so its last 7 days equal the summary's.
    """
    tz = pipeline.timezone
    if summary is None:
        summary = compute_summary(engine, pipeline, Window.last_days(SUMMARY_DAYS, now, tz), filters, now)
    now, window = summary.now, summary.window
    trend_window = Window.last_days(TREND_DAYS, now, tz)
    trend_orders = frames.window_orders(engine, trend_window.start, trend_window.end, filters.active())
    trend = daily_trend(trend_orders, trend_window, tz, now)
    overdue, overdue_total = orders_behind_page(
        engine, pipeline, "overdue_now", window, filters, now, sort="-overdue_by_h", limit=LIST_ROWS)
    open_x, open_total = orders_behind_page(
        engine, pipeline, "open_exceptions", window, filters, now, sort="opened_at", limit=LIST_ROWS)
    alerts = firing_alerts(engine, filters.active(), limit=LIST_ROWS)
    return WallData(summary, trend, overdue, int(overdue_total), open_x, int(open_total), alerts, alert_rules)

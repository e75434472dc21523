"""The wall's data and what one refresh sends: a screen shape's slots rendered from one summary.

``compute_wall`` is what a screen setting computes, once per cache period: the summary of
the last ``SUMMARY_DAYS`` local days (the overview's default window: one shared summary,
the same numbers as ``orderboard metrics`` for those days), the daily trend of the last
``TREND_DAYS`` days, the first rows of two drill-downs (most overdue orders, oldest open
exceptions) and of the firing alerts (``datasource.alert_firing``, under the screen's
filters). ``wall_params`` is its cache key's parameter part: relative windows and filters
only, never an absolute "now", and nothing about presentation (language, rotation), so
screens that differ only in how they look share one computation.

A *screen shape* is what a rendering depends on: the summary's parameters (store, windows,
filters), the language, the chart font size and the slots of the page. ``current_frame``
returns the ``WallFrame`` of a shape through the cached service, stale-while-revalidate:

- a hit is one cache read: no store access, no computation, no rendering on the request
  path (``check_version=False``; the summary's own key carries the data version, so a write
  shows within one period);
- when the period has moved on, the last frame is returned at once and one process, in the
  background, fetches the summary of the new period (computing it, once per setting
  across workers, if nobody has yet) and renders it; the next refresh shows the result;
- only the very first screen of a shape waits for the rendering (and, if the setting has
  no summary yet, for the computation).

The numbers and the "data as of" time always come from one rendering: a frame holds the
rendered slots and the ``computed_at`` of the summary they were rendered from. When the
store is unreachable the summary is the last good one (``stale``); the frame says so and
keeps the time the failures began, so the screen greys its last good numbers under the
stale banner.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from dash import no_update
from plotly.io.json import to_json_plotly
from sqlalchemy import Engine

from dashboard.access import scoped
from dashboard.context import AppContext
from dashboard.figures import bottleneck_figure, exceptions_figure, trend_figure
from dashboard.figures.theme import for_the_room
from dashboard.layouts.wall import (
    alerts_table,
    exceptions_table,
    flow_tiles,
    kpi_tiles,
    open_alerts_tile,
    overdue_table,
    period_s,
)
from dashboard.service import Result
from dashboard.summary_cache import fresh_summary
from dashboard.url_state import DEFAULT_DAYS, WallConfig
from datasource.alert_firing import FiringAlerts, firing_alerts
from datasource.pipeline import Pipeline
from metrics import frames
from metrics.catalog import CATALOG, Catalog
from metrics.drilldown import orders_behind_page
from metrics.summary import Summary, compute_summary
from metrics.trend import daily_trend
from metrics.window import Filters, Window

NAMESPACE = "wall-summary"
FRAME_NAMESPACE = "wall-frame"
SUMMARY_DAYS = DEFAULT_DAYS  # the overview's default window: both read one summary
SUMMARY_WINDOW = {"days": SUMMARY_DAYS}  # as the overview states its window
TREND_DAYS = 14
LIST_ROWS = 10
# Rows of each list: as many as fit in the view at the type size of assets/wall.css (sized
# in vh, so the same on every 16:9 screen); the browser test checks they fit, uncut.
OVERDUE_ROWS = {"main": 5, "overdue": 10}
EXCEPTION_ROWS = 10
ALERT_ROWS = 8
DEFAULT_OVERDUE_ROWS = 10


# -- the data of one screen setting ---------------------------------------------------


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


# -- the frame of one screen shape --------------------------------------------------


@dataclass(frozen=True)
class WallFrame:
    """The slots of one screen shape, rendered from one summary, as sent (``as_sent``).

    ``data_at`` is the summary's ``computed_at`` (the "data as of" time); ``stale`` says the
    summary is the last good one because the store could not be read, since
    ``stale_since``.
    """

    htmls: list
    figures: list
    data_at: datetime
    stale: bool = False
    stale_since: datetime | None = None
    error: str | None = None


class RenderFailed(Exception):
    """Building the slots failed (a display bug, not a data problem)."""


def frame_params(store_key: str, config: WallConfig, filters: Filters, html_ids: list[dict],
                 graph_ids: list[dict], px: int) -> dict:
    """The cache parameters of a screen shape: the summary's plus how it is shown."""
    return {
        **wall_params(store_key, filters), "lang": config.lang, "px": px,
        "html": [[i["slot"], i["view"]] for i in html_ids],
        "graph": [[i["slot"], i["view"]] for i in graph_ids],
    }


def html_slot(slot: str, view: str, data: WallData, config: WallConfig, catalog: Catalog = CATALOG):
    if slot == "kpi":
        return kpi_tiles(data, config, catalog)
    if slot == "flow":
        return flow_tiles(data, config, catalog)
    if slot == "overdue":
        return overdue_table(data, config, OVERDUE_ROWS.get(view, DEFAULT_OVERDUE_ROWS))
    if slot == "exceptions":
        return exceptions_table(data, config, EXCEPTION_ROWS, data.summary.now)
    if slot == "open_alerts":
        return open_alerts_tile(data, config, catalog)
    if slot == "alerts":
        return alerts_table(data, config, ALERT_ROWS, catalog)
    return no_update


def graph_slot(slot: str, data: WallData, config: WallConfig, px: int):
    lang = config.lang
    if slot == "bottleneck":
        return for_the_room(bottleneck_figure(data.summary.stages, lang, "dark", px), px)
    if slot == "trend":
        return for_the_room(trend_figure(data.trend, lang, "dark", px), px)
    if slot == "kinds":
        return for_the_room(exceptions_figure(data.summary.exceptions.by_kind, lang, "dark", px), px)
    return no_update


def render_slots(data: WallData, config: WallConfig, html_ids: list[dict], graph_ids: list[dict],
                 px: int, catalog: Catalog = CATALOG) -> tuple[list, list]:
    """The contents of every slot: components and ``go.Figure`` objects."""
    htmls = [html_slot(i["slot"], i["view"], data, config, catalog) for i in html_ids]
    figures = [graph_slot(i["slot"], data, config, px) for i in graph_ids]
    return htmls, figures


def as_sent(value: Any) -> Any:
    """``value`` as the JSON the browser receives, in plain lists, dicts and strings.

    Done once per rendering: a frame of components costs, on every request, unpickling
    about 200 component objects and a Python ``to_plotly_json`` call for each while Dash
    encodes the response; plain data is unpickled and encoded in C (measured: the whole
    hit in-process, about 3 ms -> 2 ms). ``no_update`` stays itself (Dash leaves that
    output alone).
    """
    return value if value is no_update else json.loads(to_json_plotly(value))


def render_frame(summary: Result[WallData], config: WallConfig, html_ids: list[dict],
                 graph_ids: list[dict], px: int, catalog: Catalog = CATALOG) -> WallFrame:
    """The frame of a shape from one summary result (stale or not), its time with it."""
    try:
        htmls, figures = render_slots(summary.value, config, html_ids, graph_ids, px, catalog)
        htmls, figures = [as_sent(h) for h in htmls], [as_sent(f) for f in figures]
    except Exception as exc:
        raise RenderFailed(f"{type(exc).__name__}: {exc}") from exc
    return WallFrame(htmls, figures, summary.computed_at, summary.stale, summary.stale_since,
                     summary.error)


def shared_summary(ctx: AppContext, filters: Filters, now: datetime, period: int) -> Summary:
    """The summary the overview shares (same window, filters and period: one computation)."""
    window = Window.last_days(SUMMARY_DAYS, now, ctx.settings.timezone)
    return fresh_summary(ctx, SUMMARY_WINDOW, window, filters, now, period)


def wall_data(ctx: AppContext, filters: Filters, now: datetime, period: int) -> WallData:
    rules = ctx.settings.alert_tables.get("alert_rules")
    return compute_wall(ctx.engine, ctx.settings.pipeline, filters, now, shared_summary(ctx, filters, now, period),
                        len(rules) if isinstance(rules, list) else 0)


def current_frame(ctx: AppContext, config: WallConfig, html_ids: list[dict], graph_ids: list[dict],
                  px: int, now: Callable[[], datetime] | None = None) -> Result[WallFrame]:
    """The frame of this screen shape for the current period (see the module docstring).

    ``now`` gives the instant a computation is for (default: the service's clock, read
    when the computation starts, which may be in the background).
    """
    period = period_s(config)
    clock = now or ctx.service.clock
    filters = scoped(config.filters)  # what this viewer may see of the screen's filters

    def summary() -> Result[WallData]:
        # Not stale-while-revalidate: this runs in the background (or for a shape's first
        # screen), and a frame must show the summary of its own period.
        return ctx.service.get(
            NAMESPACE, wall_params(ctx.store_key, filters),
            lambda: wall_data(ctx, filters, clock(), period),
            period_s=period)

    return ctx.service.get(
        FRAME_NAMESPACE, frame_params(ctx.store_key, config, filters, html_ids, graph_ids, px),
        lambda: render_frame(summary(), config, html_ids, graph_ids, px, ctx.catalog),
        period_s=period, background=True, check_version=False)

"""Callbacks of the wall: one server refresh, the rest in the browser.

- ``refresh_wall`` (server, every ``refresh`` seconds): settings from the page's store ->
  ``dashboard.wall_frame.current_frame`` (the screen's slots, rendered from one summary,
  with that summary's time; a cache read on all but a shape's very first refresh) ->
  outputs, and the screen's status (``wall_status``: fresh, stale since when, or no data
  yet). It never raises: without any data yet the slots keep their "waiting" text; with
  stale data the last good numbers stay, greyed, under the stale banner.
- The refresh timer is never stopped. (It used to be disabled while a refresh ran, with
  ``running=``; dash-renderer does not switch it back on when a request fails at the
  network level, and one dropped connection froze the screen for good.) No two refreshes
  of a screen overlap all the same: ``assets/wall_refresh.js`` ends a refresh the browser
  has waited for just under one period (``layouts.wall.request_timeout_ms``), and counts a
  proxy's error page as no answer; the next tick asks again, whatever happened.
- Clientside (``assets/wall_refresh.js``): the banner, decided every second from the last
  status and how long the server has been silent (so it also appears when no request
  gets through); the self-reload after ``reload`` hours, only once the server answers.
  Inline here: the clock (every second, in the configured zone), the screen size (for
  chart font sizes), rotation between views, and a click on a bottleneck bar opening
  ``/stages/<code>``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, no_update

from dashboard.context import SINCE_FORMAT, AppContext
from dashboard.figures.theme import THEMES, empty_figure
from dashboard.filter_check import unknown_filters, warning_text
from dashboard.formatting import local_time
from dashboard.layouts.wall import (
    AS_OF,
    BANNER,
    CLICK_SINK,
    CLOCK,
    CONFIG,
    DATE,
    DOT,
    FILTER_WARNING,
    GRAPH_SLOT,
    HTML_SLOT,
    REFRESH,
    RELOAD,
    RELOAD_SINK,
    ROOT,
    ROTATE,
    SCREEN,
    STATUS,
    TICK,
    VIEW,
    VIEWS_BOX,
    t,
)
from dashboard.service import Result
from dashboard.url_state import WallConfig
from dashboard.wall_frame import RenderFailed, WallFrame, current_frame

log = logging.getLogger(__name__)
JS_NAMESPACE = "orderboard_wall"  # window.dash_clientside.orderboard_wall, assets/wall_refresh.js


def font_px(screen: dict | None) -> int:
    """Chart font size from the screen height: 28 px at 1080 lines, 56 px at 2160."""
    try:
        height = float((screen or {}).get("h") or 1080)
    except (TypeError, ValueError):
        height = 1080.0
    return int(min(120, max(12, round(height * 0.026))))


def refresh_wall(
    n_intervals: int | None, screen: dict | None, config_data: dict | None,
    html_ids: list[dict], graph_ids: list[dict], ctx: AppContext, now: datetime | None = None,
) -> tuple:
    """(html slots, figures, as-of text, status) for one tick.

    The status (``wall_status``) is what the browser's banner is decided from. ``now``
    fixes the instant a computation is for (tests); default: when it starts.
    """
    config = WallConfig.from_store(config_data)
    lang = config.lang
    keep = ([no_update] * len(html_ids), [no_update] * len(graph_ids))
    try:
        result = current_frame(ctx, config, html_ids, graph_ids, font_px(screen),
                               (lambda: now) if now else None)
    except RenderFailed:  # a display bug must not blank the screen either
        log.exception("wall rendering failed; keeping the previous screen")
        return (*keep, no_update, {"state": "kept"})
    except Exception:  # noqa: BLE001 - no data at all yet: keep the screen, say so
        # The service has logged the failure (once per streak, with the driver's words);
        # viewers get plain words and the time the failures began.
        # The charts' "waiting" placeholders, now at the screen's size (the layout's, made
        # before the screen size is known, are sized for 1080 lines).
        waiting = [empty_figure(t("waiting", lang), THEMES["dark"], font_px(screen)) for _ in graph_ids]
        return (keep[0], waiting, no_update,
                {"state": "nodata", "since": ctx.failing_since()})
    frame = result.value
    # The as-of time is the frame's own: the numbers and their time come from one rendering.
    as_of = f"{t('as_of', lang)} {local_time(frame.data_at, ctx.tz)}"
    return frame.htmls, frame.figures, as_of, wall_status(frame, result, ctx, now)


def wall_status(frame: WallFrame, result: Result, ctx: AppContext, now: datetime | None = None) -> dict:
    """What the banner is decided from: ``state`` ("ok" or "stale": the store could not
    be read, ``since`` when), ``at`` (the data's time, local) and ``age_s`` (its age when
    served, measured on the server's clock so a TV's own clock does not matter)."""
    served = now or ctx.service.clock()
    status = {"state": "ok", "at": local_time(frame.data_at, ctx.tz, SINCE_FORMAT),
              "age_s": round(max(0.0, (served - frame.data_at).total_seconds()), 1)}
    if frame.stale or result.stale:
        since = frame.stale_since or result.stale_since or frame.data_at
        status.update(state="stale", since=local_time(since, ctx.tz, SINCE_FORMAT))
    return status


CLOCK_JS = """
function(n, cfg) {
    var now = new Date();
    var tz = (cfg && cfg.tz) || undefined;
    var lang = (cfg && cfg.lang === 'en') ? 'en-GB' : 'zh-CN';
    try {
        var time = new Intl.DateTimeFormat('en-GB', {timeZone: tz, hour: '2-digit',
            minute: '2-digit', second: '2-digit', hour12: false}).format(now);
        var day = new Intl.DateTimeFormat(lang, {timeZone: tz, month: 'short',
            day: 'numeric', weekday: 'short'}).format(now);
        return [time, day];
    } catch (e) {
        return [now.toLocaleTimeString(), ''];
    }
}
"""

SCREEN_JS = "function(id) { return {w: window.innerWidth, h: window.innerHeight}; }"

ROTATE_JS = """
function(n, cfg, viewIds, dotIds) {
    var views = (cfg && cfg.views) || [];
    var active = views.length ? views[(n || 0) % views.length] : null;
    return [
        viewIds.map(function(id) { return id.view === active ? 'ob-view ob-view--active' : 'ob-view'; }),
        dotIds.map(function(id) { return id.view === active ? 'ob-dot ob-dot--active' : 'ob-dot'; })
    ];
}
"""

CLICK_JS = """
function(clicks, cfg) {
    var none = window.dash_clientside.no_update;
    var trig = (window.dash_clientside.callback_context || {}).triggered || [];
    if (!trig.length || !trig[0].value || !trig[0].value.points || !trig[0].value.points.length) {
        return none;
    }
    var pid = trig[0].prop_id;
    var id;
    try { id = JSON.parse(pid.slice(0, pid.lastIndexOf('.'))); } catch (e) { return none; }
    if (id.slot !== 'bottleneck') { return none; }
    var code = trig[0].value.points[0].customdata;
    window.location.assign('/stages/' + encodeURIComponent(code) + ((cfg && cfg.q) || ''));
    return none;
}
"""


def filter_warning_text(ctx: AppContext, config_data: dict | None) -> str:
    """A screen filtered on a value no order has says so in its header, with the values
    that exist (a typo would otherwise show a healthy board of zeros)."""
    config = WallConfig.from_store(config_data)
    return " · ".join(warning_text(u, config.lang) for u in unknown_filters(ctx, config.filters))


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output(FILTER_WARNING, "children"), Input(REFRESH, "n_intervals"), State(CONFIG, "data"))
    def _wall_filter_warning(_n, config_data):
        if not WallConfig.from_store(config_data).filters:
            return no_update
        return filter_warning_text(ctx, config_data)

    @app.callback(
        Output({"type": HTML_SLOT, "slot": ALL, "view": ALL}, "children"),
        Output({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "figure"),
        Output(AS_OF, "children"),
        Output(STATUS, "data"),
        Input(REFRESH, "n_intervals"),
        Input(SCREEN, "data"),
        State(CONFIG, "data"),
        State({"type": HTML_SLOT, "slot": ALL, "view": ALL}, "id"),
        State({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "id"),
    )
    def _refresh_wall(n_intervals, screen, config_data, html_ids, graph_ids):
        return refresh_wall(n_intervals, screen, config_data, html_ids, graph_ids, ctx)

    app.clientside_callback(CLOCK_JS, Output(CLOCK, "children"), Output(DATE, "children"),
                            Input(TICK, "n_intervals"), State(CONFIG, "data"))
    app.clientside_callback(SCREEN_JS, Output(SCREEN, "data"), Input(ROOT, "id"))
    app.clientside_callback(
        ROTATE_JS,
        Output({"type": VIEW, "view": ALL}, "className"),
        Output({"type": DOT, "view": ALL}, "className"),
        Input(ROTATE, "n_intervals"), State(CONFIG, "data"),
        State({"type": VIEW, "view": ALL}, "id"), State({"type": DOT, "view": ALL}, "id"),
    )
    app.clientside_callback(
        ClientsideFunction(JS_NAMESPACE, "banner"),
        Output(BANNER, "children"), Output(BANNER, "hidden"), Output(VIEWS_BOX, "className"),
        Input(TICK, "n_intervals"), Input(STATUS, "data"), State(CONFIG, "data"),
    )
    app.clientside_callback(ClientsideFunction(JS_NAMESPACE, "reload"),
                            Output(RELOAD_SINK, "data"), Input(RELOAD, "n_intervals"))
    app.clientside_callback(CLICK_JS, Output(CLICK_SINK, "data"),
                            Input({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "clickData"),
                            State(CONFIG, "data"))

"""Callbacks of the wall: one server refresh, the rest in the browser.

- ``refresh_wall`` (server, every ``refresh`` seconds): settings from the page's store ->
  ``ctx.service.get("wall-summary", ...)`` -> view builders and figure builders (their
  output cached too, namespace "wall-render", so N alike screens build it once). While it
  runs, the refresh timer is disabled (``running=``), so a slow refresh never piles up
  behind the next tick. It never raises: without any data yet the slots keep their
  "waiting" text and the banner says why; with stale data the last good numbers stay,
  greyed, under the stale banner.
- Clientside: the clock (every second, in the configured zone), the screen size (for
  chart font sizes), rotation between views, the self-reload after ``reload`` hours, and
  a click on a bottleneck bar opening ``/stages/<code>``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from dash import ALL, Dash, Input, Output, State, no_update

from dashboard.context import AppContext
from dashboard.figures import bottleneck_figure, exceptions_figure, trend_figure
from dashboard.formatting import local_time
from dashboard.layouts.wall import (
    AS_OF, BANNER, CLICK_SINK, CLOCK, CONFIG, DATE, DOT, GRAPH_SLOT, HTML_SLOT, RELOAD,
    RELOAD_SINK, REFRESH, ROOT, ROTATE, SCREEN, TICK, VIEW, VIEWS_BOX,
)
from dashboard.layouts.wall_views import exceptions_table, flow_tiles, kpi_tiles, overdue_table, t
from dashboard.wall_data import NAMESPACE, WallData, compute_wall, wall_params

RENDER_NAMESPACE = "wall-render"
from dashboard.wall_settings import WallConfig

log = logging.getLogger(__name__)

OVERDUE_ROWS = {"main": 5}
EXCEPTION_ROWS = 8
DEFAULT_OVERDUE_ROWS = 10


def font_px(screen: dict | None) -> int:
    """Chart font size from the screen height: 28 px at 1080 lines, 56 px at 2160."""
    try:
        height = float((screen or {}).get("h") or 1080)
    except (TypeError, ValueError):
        height = 1080.0
    return int(min(120, max(12, round(height * 0.026))))


def html_slot(slot: str, view: str, data: WallData, config: WallConfig):
    if slot == "kpi":
        return kpi_tiles(data, config)
    if slot == "flow":
        return flow_tiles(data, config)
    if slot == "overdue":
        return overdue_table(data, config, OVERDUE_ROWS.get(view, DEFAULT_OVERDUE_ROWS))
    if slot == "exceptions":
        return exceptions_table(data, config, EXCEPTION_ROWS, data.summary.now)
    return no_update


def graph_slot(slot: str, data: WallData, config: WallConfig, px: int):
    lang = config.lang
    if slot == "bottleneck":
        return bottleneck_figure(data.summary.stages, lang, "dark", px)
    if slot == "trend":
        return trend_figure(data.trend, lang, "dark", px)
    if slot == "kinds":
        return exceptions_figure(data.summary.exceptions.by_kind, lang, "dark", px)
    return no_update


def render_slots(data: WallData, config: WallConfig, html_ids: list[dict], graph_ids: list[dict],
                 px: int) -> tuple[list, list]:
    """The contents of every slot; figures as plain dicts (cheap to cache and to send)."""
    htmls = [html_slot(i["slot"], i["view"], data, config) for i in html_ids]
    figures = [graph_slot(i["slot"], data, config, px) for i in graph_ids]
    return htmls, [f.to_plotly_json() if hasattr(f, "to_plotly_json") else f for f in figures]


def rendered_slots(ctx: AppContext, config: WallConfig, result, html_ids: list[dict],
                   graph_ids: list[dict], px: int) -> tuple[list, list]:
    """``render_slots`` through the cached service, keyed by the data it shows (its
    computed_at), the language, the slots and the font size: building plotly figures
    costs far more than reading them, and all screens alike share one rendering. A
    failure of that cache path renders directly."""
    params = {
        **wall_params(ctx.store_key, config), "lang": config.lang, "px": px,
        "html": [[i["slot"], i["view"]] for i in html_ids],
        "graph": [[i["slot"], i["view"]] for i in graph_ids],
        "data": result.computed_at.isoformat(),
    }
    build = lambda: render_slots(result.value, config, html_ids, graph_ids, px)  # noqa: E731
    try:
        return ctx.service.get(RENDER_NAMESPACE, params, build).value
    except Exception:  # noqa: BLE001
        return build()


def refresh_wall(
    n_intervals: int | None, screen: dict | None, config_data: dict | None,
    html_ids: list[dict], graph_ids: list[dict], ctx: AppContext, now: datetime | None = None,
) -> tuple:
    """(html slots, figures, as-of text, banner text, banner hidden, views class) for one tick."""
    config = WallConfig.from_store(config_data)
    lang = config.lang
    keep = ([no_update] * len(html_ids), [no_update] * len(graph_ids))
    try:
        moment = now or datetime.now(timezone.utc)
        # Walls never wait for a computation once they have a value: the last one is shown
        # (its "data as of" says how old) while one process recomputes in the background.
        result = ctx.service.get(
            NAMESPACE, wall_params(ctx.store_key, config),
            lambda: compute_wall(ctx.engine, ctx.settings.pipeline, config, moment),
            period_s=max(5, config.refresh_s), background=True,
        )
    except Exception as exc:  # noqa: BLE001 - no data at all yet: keep the screen, say why
        log.warning("wall refresh without data: %s", exc)
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        return (*keep, no_update, t("no_data", lang, why=why), False, "ob-wall-views ob-wall-views--waiting")
    try:
        htmls, figures = rendered_slots(ctx, config, result, html_ids, graph_ids, font_px(screen))
    except Exception:  # noqa: BLE001 - a display bug must not blank the screen either
        log.exception("wall rendering failed; keeping the previous screen")
        return (*keep, no_update, no_update, no_update, no_update)
    as_of = f"{t('as_of', lang)} {local_time(result.computed_at, ctx.tz)}"
    if result.stale:
        since = local_time(result.stale_since or result.computed_at, ctx.tz)
        return (htmls, figures, as_of, t("stale", lang, since=since), False,
                "ob-wall-views ob-wall-views--stale")
    return htmls, figures, as_of, "", True, "ob-wall-views"


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

RELOAD_JS = """
function(n) {
    if (n) { window.location.reload(); }
    return window.dash_clientside.no_update;
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


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output({"type": HTML_SLOT, "slot": ALL, "view": ALL}, "children"),
        Output({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "figure"),
        Output(AS_OF, "children"),
        Output(BANNER, "children"),
        Output(BANNER, "hidden"),
        Output(VIEWS_BOX, "className"),
        Input(REFRESH, "n_intervals"),
        Input(SCREEN, "data"),
        State(CONFIG, "data"),
        State({"type": HTML_SLOT, "slot": ALL, "view": ALL}, "id"),
        State({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "id"),
        running=[(Output(REFRESH, "disabled"), True, False)],
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
    app.clientside_callback(RELOAD_JS, Output(RELOAD_SINK, "data"), Input(RELOAD, "n_intervals"))
    app.clientside_callback(CLICK_JS, Output(CLICK_SINK, "data"),
                            Input({"type": GRAPH_SLOT, "slot": ALL, "view": ALL}, "clickData"),
                            State(CONFIG, "data"))

"""Callbacks of the manager overview: controls and chart clicks <-> the URL, and the
URL -> every tile and chart.

- ``next_state``: what a control change or chart click does to the view state (pure).
- ``sync``: one callback keeps the URL and the controls in step both ways (a control
  writes the URL; the back button's URL sets the controls).
- ``overview_view``: the URL -> tiles, stage cards and figures, from one cached summary
  and two cached WIP breakdowns.
"""

from __future__ import annotations

from datetime import date, datetime

from dash import Dash, Input, Output, State, no_update
from dash import ctx as callback_ctx
from sqlalchemy.exc import SQLAlchemyError

from dashboard.access import scoped
from dashboard.components.page import scope_text
from dashboard.context import AppContext
from dashboard.figures.bottleneck import bottleneck_figure
from dashboard.figures.breakdown import breakdown_figure
from dashboard.figures.exceptions import exceptions_figure
from dashboard.figures.trend import trend_figure
from dashboard.filter_check import filter_values, filter_warning, unknown_filters
from dashboard.layouts import overview as ui
from dashboard.summary_cache import summary_result
from dashboard.url_state import FILTER_PARAMS, ViewState, parse, to_search
from dashboard.words import pick, word
from metrics.drilldown import wip_by
from metrics.summary import Summary

CLICK_GRAPHS = (ui.BOTTLENECK, ui.TREND, ui.BY_LINE, ui.BY_CHANNEL)


def _clicked(click: dict | None) -> dict | None:
    points = (click or {}).get("points") or []
    return points[0] if points else None


def next_state(state: ViewState, trigger: str | None, values: dict, tz: str, now: datetime) -> ViewState:
    """The state after ``trigger`` (a component id) changed to ``values[trigger]``."""
    value = values.get(trigger)
    if trigger == ui.RESET:
        return ViewState(lang=state.lang)  # the language is not a filter
    if trigger == ui.FOCUS_CLEAR:
        return state.with_(stage=None)
    if trigger == ui.DAYS:
        return state.with_(days=int(value), start=None, end=None) if value else state
    if trigger == ui.DATES:
        start, end = value or (None, None)
        if start and end:
            return state.with_(start=date.fromisoformat(start[:10]), end=date.fromisoformat(end[:10]))
        return state.with_(start=None, end=None) if not (start or end) else state
    for key, component in ui.FILTER_IDS.items():
        if trigger == component:
            return state.with_(**{key: value or None})
    point = _clicked(value) if trigger in CLICK_GRAPHS else None
    if point is None:
        return state
    if trigger == ui.BOTTLENECK:
        code = point.get("customdata")
        return state.with_(stage=None if code == state.stage else code)
    if trigger == ui.TREND:
        days = [d for d, _, _ in state.window(now, tz).local_days(tz)]
        index = int(point.get("pointIndex", point.get("pointNumber", -1)))
        if 0 <= index < len(days):
            return state.with_(start=days[index], end=days[index])
        return state
    key = "line" if trigger == ui.BY_LINE else "channel"
    picked = point.get("customdata") or None
    return state.with_(**{key: None if picked == getattr(state, key) else picked})


def controls_of(state: ViewState) -> tuple:
    """The control values showing ``state``: days, start date, end date, filters."""
    return ((0 if state.start else state.days),
            state.start.isoformat() if state.start else None,
            state.end.isoformat() if state.end else None,
            *(getattr(state, k) for k in FILTER_PARAMS))


def sync(ctx: AppContext, search: str | None, trigger: str | None, values: dict,
         now: datetime | None = None) -> tuple:
    """(URL search, *control values, *cleared clicks) for one change."""
    n_controls = 3 + len(FILTER_PARAMS)
    clicks = (None,) * len(CLICK_GRAPHS) if trigger in CLICK_GRAPHS else (no_update,) * len(CLICK_GRAPHS)
    state = parse(search)
    if trigger == ui.URL or trigger is None:
        return (no_update, *controls_of(state), *clicks)
    new = next_state(state, trigger, values, ctx.settings.timezone, now or ctx.moment())
    text = to_search(new)
    url = no_update if text == (search or "") else text
    if trigger in (ui.RESET, ui.TREND) or (trigger == ui.DAYS and new != state):
        return (url, *controls_of(new), *clicks)
    return (url, *(no_update,) * n_controls, *clicks)


# -- data -----------------------------------------------------------------------------

def summary_for(ctx: AppContext, state: ViewState, now: datetime):
    """The cached summary of the state's window and filters (a ``service.Result``)."""
    window = state.window(now, ctx.settings.timezone)
    return summary_result(ctx, state.window_key(), window, state.filters(), now)


def breakdown_for(ctx: AppContext, state: ViewState, column: str, now: datetime) -> dict[str, int]:
    """WIP by ``column``, under every filter except the one on that column (so the
    chart still shows the other values to switch to), in the focused stage if any."""
    key = {"production_line": "line", "channel": "channel"}[column]
    others = scoped(state.with_(**{key: None}).filters())
    params = {"store": ctx.store_key, "column": column, "filters": others.active(),
              "stage": state.stage}
    return ctx.service.get("overview.wip_by", params, lambda: wip_by(
        ctx.engine, ctx.settings.pipeline, column, others, now, state.stage)).value


def _focus_stages(summary: Summary, stage: str | None):
    stages = summary.stages.copy()
    if stage is not None and stage in set(stages["code"]):
        # highlight the focused stage: the figure draws is_bottleneck in the alert colour
        stages["is_bottleneck"] = stages["code"] == stage
    return stages


def overview_view(ctx: AppContext, search: str | None, now: datetime | None = None) -> tuple:
    """(kpis, flow, bottleneck, trend, by line, by channel, exceptions, as-of, focus
    hidden, focus text, banner, banner hidden, filter warnings)."""
    now = now or ctx.moment()
    state = parse(search)
    lang = ctx.page_lang(state.lang)
    try:
        result = summary_for(ctx, state, now)
    except SQLAlchemyError as exc:  # say so, keep the screen
        return (*(no_update,) * 10, ctx.store_unreachable(exc, lang), False, no_update)
    summary: Summary = result.value
    lines = breakdown_for(ctx, state, "production_line", now)
    channels = breakdown_for(ctx, state, "channel", now)
    labels = {r.code: pick((r.label_zh, r.label_en), lang) for r in summary.stages.itertuples()}
    focus = labels.get(state.stage or "")
    local = result.computed_at.astimezone(ctx.tz)
    as_of = word("overview", "as_of", lang, scope=scope_text(state, lang), time=f"{local:%H:%M:%S}",
                 tz=ctx.settings.timezone)
    banner, banner_hidden = "", True
    if result.stale:
        banner, banner_hidden = ctx.stale_note(result.stale_since, result.computed_at, lang), False
    wip_title = word("overview", "wip_in", lang, stage=focus) if focus else None
    return (
        ui.kpi_view(summary, state, ctx.catalog, lang),
        ui.flow_view(summary, state, ctx.catalog, lang),
        bottleneck_figure(_focus_stages(summary, state.stage), lang, "light"),
        trend_figure(summary.trend, lang, "light"),
        breakdown_figure(lines, state.line, lang, "light", title=wip_title),
        breakdown_figure(channels, state.channel, lang, "light", title=wip_title, what="channel"),
        exceptions_figure(summary.exceptions.by_kind, lang, "light"),
        as_of,
        focus is None,
        word("overview", "focus", lang, stage=focus) if focus else "",
        banner, banner_hidden,
        filter_warning(unknown_filters(ctx, state.filters()), lang),
    )


def filter_options(ctx: AppContext) -> list[list[dict]]:
    """Dropdown options of each filter: the distinct values in the store (cached)."""
    values = filter_values(ctx)
    return [[{"label": v, "value": v} for v in values[column]] for column in FILTER_PARAMS.values()]


def register(app: Dash, ctx: AppContext) -> None:
    filter_ids = list(ui.FILTER_IDS.values())
    control_outputs = [Output(ui.DAYS, "value"), Output(ui.DATES, "start_date"),
                       Output(ui.DATES, "end_date"), *(Output(i, "value") for i in filter_ids)]
    click_props = [(g, "clickData") for g in CLICK_GRAPHS]

    @app.callback(
        Output(ui.URL, "search"), *control_outputs, *(Output(g, p) for g, p in click_props),
        Input(ui.URL, "search"), Input(ui.DAYS, "value"), Input(ui.DATES, "start_date"),
        Input(ui.DATES, "end_date"), *(Input(i, "value") for i in filter_ids),
        *(Input(g, p) for g, p in click_props),
        Input(ui.FOCUS_CLEAR, "n_clicks"), Input(ui.RESET, "n_clicks"),
        prevent_initial_call=True,
    )
    def _sync_overview(search, days, start, end, *rest):
        trigger = callback_ctx.triggered_id
        filters = dict(zip(filter_ids, rest[: len(filter_ids)]))
        clicks = dict(zip(CLICK_GRAPHS, rest[len(filter_ids): len(filter_ids) + len(CLICK_GRAPHS)]))
        values = {ui.DAYS: days, ui.DATES: (start, end), **filters, **clicks}
        if trigger == ui.DATES and not (start and end) and (start or end):
            return (no_update,) * (1 + len(control_outputs) + len(click_props))
        return sync(ctx, search, trigger, values)

    @app.callback(
        Output(ui.KPIS, "children"), Output(ui.FLOW, "children"), Output(ui.BOTTLENECK, "figure"),
        Output(ui.TREND, "figure"), Output(ui.BY_LINE, "figure"), Output(ui.BY_CHANNEL, "figure"),
        Output(ui.EXCEPTIONS, "figure"), Output(ui.ASOF, "children"), Output(ui.FOCUS, "hidden"),
        Output("ov-focus-text", "children"), Output(ui.BANNER, "children"), Output(ui.BANNER, "hidden"),
        Output(ui.FILTER_WARNING, "children"),
        Input(ui.URL, "search"), Input(ui.TIMER, "n_intervals"), State(ui.URL, "pathname"),
    )
    def _render_overview(search, _n, pathname):
        if (pathname or "/") != "/":
            return (no_update,) * 13
        return overview_view(ctx, search)

    @app.callback(*(Output(i, "options") for i in filter_ids), Input(ui.URL, "pathname"))
    def _filter_options(_pathname):
        return filter_options(ctx)

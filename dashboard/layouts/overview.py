"""The manager overview ``/``: the wall's KPIs and charts at desktop density, with
filters and cross-filtering, every number a link to the orders behind it.

``layout`` builds the frame from the URL (no store access). The ``*_view`` functions turn
a ``metrics.summary.Summary`` into the shared KPI tiles and stage cards
(``dashboard.components``; pure); ``TILES`` says which drill-down
list is behind each KPI tile and how many rows it holds, so the count on a tile equals
the rows listed after the click.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import dcc, html

from dashboard.components.banner import banner
from dashboard.components.kpi import manager_tile
from dashboard.components.page import html_lang, lang_switch
from dashboard.components.stage_card import manager_card
from dashboard.context import AppContext
from dashboard.url_state import FILTER_PARAMS, ViewState, href, parse, to_search
from dashboard.words import word
from metrics.catalog import CATALOG, Catalog
from metrics.summary import Summary

URL = "ov-url"
TIMER = "ov-timer"
ASOF = "ov-asof"
BANNER = "ov-banner"
FILTER_WARNING = "ov-filter-warning"
DAYS = "ov-days"
DATES = "ov-dates"
FOCUS = "ov-focus"
FOCUS_CLEAR = "ov-focus-clear"
RESET = "ov-reset"
KPIS = "ov-kpis"
FLOW = "ov-flow"
BOTTLENECK = "ov-bottleneck"
TREND = "ov-trend"
BY_LINE = "ov-by-line"
BY_CHANNEL = "ov-by-channel"
EXCEPTIONS = "ov-exceptions"
FILTER_IDS = {key: f"ov-filter-{key}" for key in FILTER_PARAMS}
DAY_CHOICES = (1, 7, 14, 30, 90)
REFRESH_S = 60


def _w(key: str, lang: str, **values: object) -> str:
    return word("overview", key, lang, **values)


# The KPI tiles, by catalog name, in order, with the footnote each shows under its value.
TILES: tuple[str, ...] = (
    "orders_placed_today", "wip", "delay_rate", "cycle_time_median", "overdue_now", "at_risk",
    "open_exceptions",
)
NOTES: dict[str, Callable[[Summary, str], str]] = {
    "orders_placed_today": lambda s, lang: _w("since_midnight", lang),
    "delay_rate": lambda s, lang: _w("late_of_completed", lang, late=f"{s.delay.late:,}",
                                     completed=f"{s.delay.completed:,}"),
    "cycle_time_median": lambda s, lang: _w("completed_n", lang, n=f"{s.cycle_time.count:,}"),
}


def kpi_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG, lang: str = "zh") -> list:
    scope = state.scope()
    return [
        manager_tile(catalog[name], catalog[name].read(summary), catalog[name].rows(summary),
                     NOTES[name](summary, lang) if name in NOTES else _w("now", lang), lang,
                     href("/stages/all", scope.with_(metric=name)))
        for name in TILES
    ]


def flow_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG, lang: str = "zh") -> list:
    return [manager_card(row, catalog, lang, state) for row in summary.stages.itertuples()]


def filter_label(key: str, lang: str) -> str:
    """A filter's label: the word of the column it filters, capitalised ("Line", "产线")."""
    text = word("filters", FILTER_PARAMS[key], lang)
    return text[:1].upper() + text[1:]


def _dropdown(key: str, value: str | None, lang: str) -> html.Div:
    return html.Div(className="ob-filter", children=[
        html.Label(filter_label(key, lang), htmlFor=FILTER_IDS[key]),
        dcc.Dropdown(id=FILTER_IDS[key], value=value,
                     options=[{"label": value, "value": value}] if value else [],
                     placeholder=_w("all", lang), clearable=True, searchable=True),
    ])


def filters_bar(state: ViewState, lang: str = "zh") -> html.Div:
    relative = state.start is None
    return html.Div(className="ob-filters", children=[
        html.Div(className="ob-filter", children=[
            html.Label(_w("window", lang), htmlFor=DAYS),
            dcc.Dropdown(id=DAYS, clearable=False, searchable=False,
                         value=state.days if relative else 0,
                         options=[{"label": _w("last_days", lang, n=d), "value": d} for d in DAY_CHOICES]
                         + [{"label": _w("custom", lang), "value": 0}]),
        ]),
        html.Div(className="ob-filter ob-filter--dates", children=[
            html.Label(_w("dates", lang), htmlFor=DATES),
            dcc.DatePickerRange(id=DATES, display_format="YYYY-MM-DD", clearable=True,
                                start_date=state.start.isoformat() if state.start else None,
                                end_date=state.end.isoformat() if state.end else None),
        ]),
        *(_dropdown(key, getattr(state, key), lang) for key in FILTER_PARAMS),
        html.Button(_w("reset", lang), id=RESET, n_clicks=0, className="ob-button"),
    ])


def _graph(graph_id: str, title: str, hint: str) -> html.Section:
    return html.Section(className="ob-panel", children=[
        html.H2(title, className="ob-panel-title"),
        html.Div(hint, className="ob-panel-hint"),
        dcc.Graph(id=graph_id, config={"displaylogo": False, "displayModeBar": False},
                  className="ob-chart"),
    ])


def layout(ctx: AppContext, **params: str) -> html.Div:
    state = parse(params)
    lang = ctx.page_lang(state.lang)
    catalog = ctx.catalog
    wall = "/wall" + (f"?lang={state.lang}" if state.lang else "")
    return html.Div(className="ob-page ob-manager ob-overview", lang=html_lang(lang), children=[
        dcc.Location(id=URL, refresh="callback-nav"),  # callback changes reach the shell too
        html.Header(className="ob-mheader", children=[
            html.H1(_w("title", lang), className="ob-mtitle"),
            html.Div("…", id=ASOF, className="ob-scope"),
            dcc.Link(_w("wall", lang), href=wall, className="ob-navlink"),
            lang_switch("/", to_search(state), lang),
        ]),
        filters_bar(state, lang),
        banner(BANNER),
        html.Div(id=FILTER_WARNING, className="ob-filter-warnings"),
        html.Div(id=FOCUS, className="ob-focus", children=[
            html.Span(id="ov-focus-text"),
            html.Button(_w("clear_focus", lang), id=FOCUS_CLEAR, n_clicks=0, className="ob-button"),
        ], hidden=state.stage is None),
        html.Section(id=KPIS, className="ob-mkpis"),
        html.Section(id=FLOW, className="ob-mflow"),
        html.Div(className="ob-charts", children=[
            _graph(BOTTLENECK, _w("by_stage", lang, what=catalog["delay_contribution"].label(lang)),
                   _w("click_stage", lang)),
            _graph(TREND, _w("daily_trend", lang), _w("click_day", lang)),
            _graph(BY_LINE, _w("by_line", lang, what=catalog["wip"].label(lang)), _w("click_filter", lang)),
            _graph(BY_CHANNEL, _w("by_channel", lang, what=catalog["wip"].label(lang)), _w("click_filter", lang)),
            _graph(EXCEPTIONS, _w("by_kind", lang, what=catalog["exceptions_opened"].label(lang)), ""),
        ]),
        dcc.Interval(id=TIMER, interval=REFRESH_S * 1000, n_intervals=0),
    ])

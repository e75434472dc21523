"""The manager overview ``/``: the wall's KPIs and charts at desktop density, with
filters and cross-filtering, every number a link to the orders behind it.

``layout`` builds the frame from the URL (no store access). The ``*_view`` functions turn
a ``metrics.summary.Summary`` into components (pure); ``TILES`` says which drill-down
list is behind each KPI tile and how many rows it holds, so the count on a tile equals
the rows listed after the click.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import dcc, html

from dashboard.components import html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.formatting import duration_parts, number, percent
from dashboard.url_state import FILTER_PARAMS, ViewState, href, parse, to_search
from dashboard.words import pick, word
from metrics.catalog import CATALOG, STAGE_COLOUR, Catalog, Metric
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


# Stage-card links: (view, Summary.stages column that counts its rows, word)
STAGE_LINKS = (
    ("breached", "open_breaches_now", "over_sla"),
    ("delayed", "delayed_orders", "delayed"),
    ("breaches", "breaches", "breaches"),
)


def _value_text(metric: Metric, value: float | int | None, lang: str) -> str:
    unit = metric.unit
    if unit == "ratio":
        return percent(value)
    if unit == "h":
        text, name = duration_parts(value, lang)
        return f"{text} {name}".strip()
    return number(value)


def kpi_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG, lang: str = "zh") -> list:
    tiles = []
    for name in TILES:
        metric = catalog[name]
        value = metric.read(summary)
        note = NOTES[name](summary, lang) if name in NOTES else _w("now", lang)
        # dcc.Link takes no data-* attributes: the count sits on a wrapper
        tiles.append(html.Div(
            id=f"ov-kpi-{name}", className=f"ob-mkpi ob-level-{metric.level(value)}",
            title=metric.describe(lang), **{"data-count": str(metric.rows(summary))},
            children=dcc.Link(href=href("/stages/all", state.scope().with_(metric=name)),
                              className="ob-mkpi-link", children=[
                html.Div(metric.label(lang), className="ob-mkpi-label"),
                html.Div(_value_text(metric, value, lang), className="ob-mkpi-value"),
                html.Div(note, className="ob-mkpi-note"),
            ]),
        ))
    return tiles


def flow_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG, lang: str = "zh") -> list:
    cards = []
    scope = state.scope()
    colour = catalog[STAGE_COLOUR]
    for row in summary.stages.itertuples():
        share = colour.read_stage(row)
        classes = f"ob-mstage ob-level-{colour.level(share)}"
        if row.is_bottleneck:
            classes += " ob-mstage--bottleneck"
        if state.stage == row.code:
            classes += " ob-mstage--focus"
        links = [
            html.Span(id=f"ov-stage-{row.code}-{view}", className="ob-mstage-sub",
                      **{"data-count": str(int(getattr(row, column)))},
                      children=dcc.Link(f"{_w(key, lang)} {getattr(row, column):,}",
                                        href=href(f"/stages/{row.code}", scope.with_(view=view))))
            for view, column, key in STAGE_LINKS
        ]
        why = _w("colour", lang, metric=colour.label(lang), value=percent(share))
        median, median_unit = duration_parts(row.median_h, lang)
        cards.append(html.Div(className=classes, id=f"ov-stage-{row.code}", title=why, children=[
            html.Div(pick((row.label_zh, row.label_en), lang), className="ob-mstage-label"),
            html.Div(id=f"ov-stage-{row.code}-wip", className="ob-mstage-wip",
                     title=_w("in_stage_now", lang), **{"data-count": str(int(row.wip))},
                     children=dcc.Link(f"{row.wip:,}",
                                       href=href(f"/stages/{row.code}", scope.with_(view="wip")))),
            html.Div(f"SLA {row.sla_hours:g} h · {_w('median', lang)} {median}"
                     + (f" {median_unit}" if lang == "en" else median_unit), className="ob-mstage-meta"),
            html.Div(links, className="ob-mstage-links"),
        ]))
    return cards


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
    from urllib.parse import urlencode

    state = parse(urlencode({k: v for k, v in params.items() if isinstance(v, str)}))
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
        html.Div(id=BANNER, className="ob-banner", hidden=True),
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

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

from dashboard.context import AppContext
from dashboard.formatting import duration_parts, number, percent
from dashboard.url_state import FILTER_PARAMS, ViewState, href, parse
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
FILTER_LABELS = {"line": "产线 Line", "customer": "客户 Customer", "channel": "渠道 Channel",
                 "product": "产品线 Product", "owner": "负责人 Owner"}
DAY_CHOICES = (1, 7, 14, 30, 90)
REFRESH_S = 60


# The KPI tiles, by catalog name, in order, with the footnote each shows under its value.
TILES: tuple[str, ...] = (
    "orders_placed_today", "wip", "delay_rate", "cycle_time_median", "overdue_now", "at_risk",
    "open_exceptions",
)
NOTES: dict[str, Callable[[Summary], str]] = {
    "orders_placed_today": lambda s: "今日0点起 · since midnight",
    "delay_rate": lambda s: f"延误 {s.delay.late:,} / 签收 {s.delay.completed:,} · late / completed",
    "cycle_time_median": lambda s: f"{s.cycle_time.count:,} 单签收 · completed",
}


# Stage-card links: (view, Summary.stages column that counts its rows, zh, en)
STAGE_LINKS = (
    ("breached", "open_breaches_now", "超SLA", "over SLA"),
    ("delayed", "delayed_orders", "延误", "delayed"),
    ("breaches", "breaches", "超时记录", "breaches"),
)


def _value_text(metric: Metric, value: float | int | None) -> str:
    unit = metric.unit
    if unit == "ratio":
        return percent(value)
    if unit == "h":
        text, name = duration_parts(value, "en")
        return f"{text} {name}".strip()
    return number(value)


def kpi_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG) -> list:
    tiles = []
    for name in TILES:
        metric = catalog[name]
        value = metric.read(summary)
        note = NOTES[name](summary) if name in NOTES else "当前 · now"
        # dcc.Link takes no data-* attributes: the count sits on a wrapper
        tiles.append(html.Div(
            id=f"ov-kpi-{name}", className=f"ob-mkpi ob-level-{metric.level(value)}",
            title=metric.description, **{"data-count": str(metric.rows(summary))},
            children=dcc.Link(href=href("/stages/all", state.scope().with_(metric=name)),
                              className="ob-mkpi-link", children=[
                html.Div(f"{metric.label_zh} · {metric.label_en}", className="ob-mkpi-label"),
                html.Div(_value_text(metric, value), className="ob-mkpi-value"),
                html.Div(note, className="ob-mkpi-note"),
            ]),
        ))
    return tiles


def flow_view(summary: Summary, state: ViewState, catalog: Catalog = CATALOG) -> list:
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
            html.Span(id=f"ov-stage-{row.code}-{view}", className="ob-mstage-sub", title=en,
                      **{"data-count": str(int(getattr(row, column)))},
                      children=dcc.Link(f"{zh} {getattr(row, column):,}",
                                        href=href(f"/stages/{row.code}", scope.with_(view=view))))
            for view, column, zh, en in STAGE_LINKS
        ]
        why = f"颜色 colour: {colour.label_zh} · {colour.label_en} {percent(share)}"
        cards.append(html.Div(className=classes, id=f"ov-stage-{row.code}", title=why, children=[
            html.Div(f"{row.label_zh} · {row.label_en}", className="ob-mstage-label"),
            html.Div(id=f"ov-stage-{row.code}-wip", className="ob-mstage-wip",
                     title="在此环节 · in the stage now", **{"data-count": str(int(row.wip))},
                     children=dcc.Link(f"{row.wip:,}",
                                       href=href(f"/stages/{row.code}", scope.with_(view="wip")))),
            html.Div(f"SLA {row.sla_hours:g} h · 中位 median "
                     + "".join(duration_parts(row.median_h, "en")), className="ob-mstage-meta"),
            html.Div(links, className="ob-mstage-links"),
        ]))
    return cards


def _dropdown(key: str, value: str | None) -> html.Div:
    return html.Div(className="ob-filter", children=[
        html.Label(FILTER_LABELS[key], htmlFor=FILTER_IDS[key]),
        dcc.Dropdown(id=FILTER_IDS[key], value=value,
                     options=[{"label": value, "value": value}] if value else [],
                     placeholder="全部 · all", clearable=True, searchable=True),
    ])


def filters_bar(state: ViewState) -> html.Div:
    relative = state.start is None
    return html.Div(className="ob-filters", children=[
        html.Div(className="ob-filter", children=[
            html.Label("时间 Window", htmlFor=DAYS),
            dcc.Dropdown(id=DAYS, clearable=False, searchable=False,
                         value=state.days if relative else 0,
                         options=[{"label": f"近{d}天 · last {d} days", "value": d} for d in DAY_CHOICES]
                         + [{"label": "自定 · custom dates", "value": 0}]),
        ]),
        html.Div(className="ob-filter ob-filter--dates", children=[
            html.Label("日期 Dates", htmlFor=DATES),
            dcc.DatePickerRange(id=DATES, display_format="YYYY-MM-DD", clearable=True,
                                start_date=state.start.isoformat() if state.start else None,
                                end_date=state.end.isoformat() if state.end else None),
        ]),
        *(_dropdown(key, getattr(state, key)) for key in FILTER_PARAMS),
        html.Button("重置 · reset", id=RESET, n_clicks=0, className="ob-button"),
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
    return html.Div(className="ob-page ob-manager ob-overview", children=[
        dcc.Location(id=URL, refresh="callback-nav"),  # callback changes reach the shell too
        html.Header(className="ob-mheader", children=[
            html.H1("订单履约 · 管理概览", className="ob-mtitle"),
            html.Span("Order fulfilment · manager overview", className="ob-msub"),
            html.Div("…", id=ASOF, className="ob-scope"),
            dcc.Link("大屏 wall", href="/wall", className="ob-navlink"),
        ]),
        filters_bar(state),
        html.Div(id=BANNER, className="ob-banner", hidden=True),
        html.Div(id=FILTER_WARNING, className="ob-filter-warnings"),
        html.Div(id=FOCUS, className="ob-focus", children=[
            html.Span(id="ov-focus-text"),
            html.Button("× 取消聚焦 · clear focus", id=FOCUS_CLEAR, n_clicks=0, className="ob-button"),
        ], hidden=state.stage is None),
        html.Section(id=KPIS, className="ob-mkpis"),
        html.Section(id=FLOW, className="ob-mflow"),
        html.Div(className="ob-charts", children=[
            _graph(BOTTLENECK, "延误贡献 · Delay contribution by stage", "点击环节聚焦 · click a stage to focus"),
            _graph(TREND, "每日趋势 · Daily trend", "点击某天只看那天 · click a day to pick it"),
            _graph(BY_LINE, "在制订单 · 按产线 · WIP by line", "点击筛选 · click to filter"),
            _graph(BY_CHANNEL, "在制订单 · 按渠道 · WIP by channel", "点击筛选 · click to filter"),
            _graph(EXCEPTIONS, "新开异常 · 按类型 · Exceptions opened by kind", ""),
        ]),
        dcc.Interval(id=TIMER, interval=REFRESH_S * 1000, n_intervals=0),
    ])

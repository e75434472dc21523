"""The live overview: open orders per stage and a few totals, refreshed by a timer.

``layout`` builds the empty frame (it never queries the store); ``totals_view`` and
``stages_view`` turn a ``datasource.snapshot.Overview`` into components.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.context import AppContext
from datasource.snapshot import Overview

TIMER = "live-timer"
AS_OF = "live-as-of"
BANNER = "live-banner"
TOTALS = "live-totals"
STAGES = "live-stages"
DEFAULT_REFRESH_S = 5


def refresh_seconds(value: str | None) -> int:
    """``?refresh=N`` in seconds, kept between 2 and 300; 5 when absent or not a number."""
    try:
        return min(300, max(2, int(value))) if value else DEFAULT_REFRESH_S
    except ValueError:
        return DEFAULT_REFRESH_S


def layout(ctx: AppContext, refresh: str | None = None, **_params: str) -> html.Div:
    return html.Div(className="ob-page ob-live", children=[
        html.Header(className="ob-header", children=[
            html.Div(className="ob-title", children=[
                html.Span("订单履约 · 实时概览", className="ob-title-zh"),
                html.Span("Order fulfilment · live overview", className="ob-title-en"),
            ]),
            html.Div("…", id=AS_OF, className="ob-asof"),
        ]),
        html.Div(id=BANNER, className="ob-banner", hidden=True),
        html.Section(id=TOTALS, className="ob-totals"),
        html.Section(id=STAGES, className="ob-stages"),
        dcc.Interval(id=TIMER, interval=refresh_seconds(refresh) * 1000, n_intervals=0),
    ])


def _tile(label_zh: str, label_en: str, value: int, extra_class: str = "") -> html.Div:
    return html.Div(className=f"ob-tile {extra_class}".strip(), children=[
        html.Div(f"{value:,}", className="ob-tile-value"),
        html.Div(label_zh, className="ob-label-zh"),
        html.Div(label_en, className="ob-label-en"),
    ])


def totals_view(ov: Overview) -> list[html.Div]:
    return [
        _tile("在制订单", "Open orders", ov.open_total, "ob-tile--total"),
        _tile("已逾期", "Past promised date", ov.overdue, "ob-tile--alert" if ov.overdue else ""),
        _tile("近24小时下单", "Placed, last 24 h", ov.placed_24h),
        _tile("近24小时签收", "Completed, last 24 h", ov.completed_24h),
        _tile("未关闭异常", "Open exceptions", ov.open_exceptions,
              "ob-tile--warn" if ov.open_exceptions else ""),
    ]


def stages_view(ov: Overview) -> list[html.Div]:
    cards = []
    for s in ov.stages:
        state = "ob-stage--breach" if s.over_sla else ("ob-stage--idle" if not s.open else "ob-stage--ok")
        cards.append(html.Div(className=f"ob-stage {state}", id=f"stage-{s.code}", children=[
            html.Div(s.label_zh, className="ob-label-zh"),
            html.Div(s.label_en, className="ob-label-en"),
            html.Div(f"{s.open:,}", className="ob-stage-count"),
            html.Div(f"超时 over SLA: {s.over_sla:,}", className="ob-stage-sla"),
            html.Div(f"SLA {s.sla_hours:g} h", className="ob-label-en"),
        ]))
    return cards

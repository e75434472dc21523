"""The alerts page ``/alerts``: firing, acknowledged and resolved alerts, who was told
and when, who acknowledged, and the response times (DESIGN.md section 5a).

``layout`` builds the frame (no store access); ``dashboard.callbacks.alerts`` fills the
grid from ``datasource.alert_store.alert_list`` and acknowledges the selected alerts.
``alert_rows`` turns that frame into grid rows (pure).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dash_ag_grid as dag  # at import: Dash must know the component library before callbacks run
import pandas as pd
from dash import dcc, html

from dashboard.context import AppContext
from dashboard.formatting import MISSING

GRID = "alerts-grid"
STATES = "alerts-states"
ACK = "alerts-ack"
ACK_BY = "alerts-ack-by"
NOTE = "alerts-note"
REFRESH = "alerts-refresh"
COUNTS = "alerts-counts"
TIME_FMT = "%Y-%m-%d %H:%M"
STATE_OPTIONS = [
    {"label": "触发 firing", "value": "firing"},
    {"label": "已确认 acknowledged", "value": "acknowledged"},
    {"label": "已恢复 resolved", "value": "resolved"},
]
COLUMNS = (
    ("status", "状态 Status", 120), ("severity", "级别 Severity", 100), ("rule", "规则 Rule", 110),
    ("what", "对象 What", 180), ("summary", "说明 Summary", 260), ("whose", "负责人 Whose", 140),
    ("fired_at", "触发 Fired", 140), ("told", "已通知 Told", 220), ("told_at", "通知时间 Told at", 140),
    ("acknowledged", "确认 Acknowledged", 170), ("ack_after", "响应 Response", 110),
    ("resolved_at", "恢复 Resolved", 140), ("resolved_after", "持续 Lasted", 100),
)


def layout(ctx: AppContext, **_params: str) -> html.Div:
    return html.Div(className="ob-page ob-manager ob-alerts-page", children=[
        html.Header(className="ob-mheader", children=[
            dcc.Link("← 概览 · Overview", href="/", className="ob-back"),
            html.H1("预警 Alerts", className="ob-mtitle"),
            dcc.Checklist(id=STATES, options=STATE_OPTIONS, value=["firing", "acknowledged", "resolved"],
                          inline=True, className="ob-alert-states"),
            dcc.Input(id=ACK_BY, placeholder="你的名字 · your name", debounce=True, className="ob-input"),
            html.Button("确认所选 · acknowledge selected", id=ACK, n_clicks=0, className="ob-button"),
        ]),
        html.Div(id=COUNTS, className="ob-alert-counts"),
        html.Div(id=NOTE, className="ob-alert-note"),
        dcc.Interval(id=REFRESH, interval=30_000),
        dag.AgGrid(
            id=GRID,
            columnDefs=[{"field": f, "headerName": name, "minWidth": width, "tooltipField": f}
                        for f, name, width in COLUMNS],
            rowData=[],
            getRowId="params.data.id",
            defaultColDef={"resizable": True, "sortable": True, "filter": True, "flex": 1,
                           "wrapHeaderText": True, "autoHeaderHeight": True},
            dashGridOptions={"rowSelection": {"mode": "multiRow"}, "pagination": True,
                             "paginationPageSize": 100, "animateRows": False},
            className="ob-grid",
            style={"height": "70vh", "width": "100%"},
        ),
    ])


def _when(value, tz: ZoneInfo) -> str:
    return MISSING if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime(TIME_FMT)


def _hours(value) -> str:
    if value is None or pd.isna(value):
        return MISSING
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"


def _what(labels: dict, rule_kind: str) -> str:
    if labels.get("exception"):
        return f"#{labels['exception']} {labels.get('kind', '')} · {labels.get('order', '')}"
    if labels.get("order"):
        return f"{labels['order']} · {labels.get('stage', '')}"
    return f"{labels.get('metric', rule_kind)} · {labels.get('stage') or labels.get('scope', '')}"


def _whose(labels: dict) -> str:
    names = [labels.get(k, "") for k in ("owner", "exception_owner", "operator", "department")]
    return ", ".join(dict.fromkeys(n for n in names if n)) or MISSING


def alert_rows(frame: pd.DataFrame, tz: ZoneInfo) -> list[dict]:
    """Grid rows of ``alert_store.alert_list`` (times in ``tz``)."""
    rows = []
    for r in frame.itertuples():
        rows.append({
            "id": str(r.id), "status": r.status, "severity": r.severity, "rule": r.rule,
            "what": _what(r.labels, r.rule_kind), "summary": r.summary, "whose": _whose(r.labels),
            "fired_at": _when(r.fired_at, tz), "told": r.told or MISSING, "told_at": _when(r.told_at, tz),
            "acknowledged": (f"{r.acknowledged_by} {_when(r.acknowledged_at, tz)}"
                             if r.acknowledged_by else MISSING),
            "ack_after": _hours(r.ack_after_h), "resolved_at": _when(r.resolved_at, tz),
            "resolved_after": _hours(r.resolved_after_h),
        })
    return rows


def counts_view(frame: pd.DataFrame) -> list:
    counts = frame["status"].value_counts() if len(frame) else pd.Series(dtype=int)
    return [html.Span(f"{label}: {int(counts.get(value, 0))}", className=f"ob-alert-count ob-{value}")
            for value, label in (("firing", "触发 firing"), ("acknowledged", "已确认 acknowledged"),
                                 ("resolved", "已恢复 resolved"))]

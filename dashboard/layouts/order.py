"""The order page ``/orders/<number>``: header facts, the stage Gantt, events with their
operator, exceptions, the history of values later imports changed, and the audit trail.

``layout`` builds the frame (no store access); ``dashboard.callbacks.order`` fills it
from ``datasource.order_detail``. The ``*_view`` functions turn that data into
components (pure).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from dash import dcc, html

from dashboard.context import AppContext
from dashboard.deadline import deadline_text
from dashboard.figures.labels import kind_label
from dashboard.formatting import MISSING, hours, is_missing
from datasource.importers.history import shown_value
from datasource.order_detail import OrderDetail
from datasource.pipeline import Pipeline

NUMBER = "order-number"
CONTENT = "order-content"
EXPORT = "order-export"
DOWNLOAD = "order-download"
TIME_FMT = "%Y-%m-%d %H:%M"


def layout(ctx: AppContext, number: str = "", **_params: str) -> html.Div:
    return html.Div(className="ob-page ob-manager ob-order-page", children=[
        html.Header(className="ob-mheader", children=[
            dcc.Link("← 概览 · Overview", href="/", className="ob-back"),
            html.H1(f"订单 Order {number}", className="ob-mtitle", id="order-title"),
            html.Button("导出事件 CSV · export events", id=EXPORT, n_clicks=0, className="ob-button"),
            dcc.Download(id=DOWNLOAD),
        ]),
        dcc.Store(id=NUMBER, data=number),
        dcc.Loading(html.Div(id=CONTENT, className="ob-order-body"), type="dot"),
    ])


def when(value: object, tz: ZoneInfo) -> str:
    if value is None or is_missing(value):
        return MISSING
    return pd.Timestamp(value).tz_convert(tz).strftime(TIME_FMT)


def _text(value: object) -> str:
    return MISSING if value is None or is_missing(value) or value == "" else str(value)


def stage_name(pipeline: Pipeline, code: object) -> str:
    try:
        s = pipeline.stage(str(code))
    except KeyError:
        return _text(code)
    return f"{s.label_zh} {s.label_en}"




def delivery_fact(order: dict, now: datetime) -> tuple[str, str, bool]:
    """(label, value, late) of the order against its promised deadline, by its status:
    open: "time left" until the deadline, or "late by" past it (now - promised);
    completed: "on time" (with how early) or "late by" (completed_at - promised);
    cancelled, or no promised date: "—" (a cancelled order has no time left)."""
    promised, status = order.get("promised_at"), order.get("status")
    if promised is None or is_missing(promised):
        return "交付 Delivery", MISSING, False
    promised = pd.Timestamp(promised)
    if status == "open":
        late = (pd.Timestamp(now) - promised).total_seconds() / 3600
        if late > 0:
            return "延误 Late by", hours(late), True
        return "余量 Time left", hours(-late), False
    completed = order.get("completed_at")
    if status == "completed" and completed is not None and not is_missing(completed):
        late = (pd.Timestamp(completed) - promised).total_seconds() / 3600
        if late > 0:
            return "交付 Delivery", f"延误 late by {hours(late)}", True
        return "交付 Delivery", f"按时 on time · 提前 {hours(-late)} early", False
    return "交付 Delivery", MISSING, False


def facts_view(detail: OrderDetail, pipeline: Pipeline, tz: ZoneInfo, now: datetime) -> html.Div:
    o = detail.order
    status = {"open": "进行中 open", "completed": "已完成 completed", "cancelled": "已取消 cancelled"}
    delivery_label, delivery, late = delivery_fact(o, now)
    items = [
        ("客户 Customer", _text(o.get("customer"))), ("负责人 Owner", _text(o.get("owner"))),
        ("渠道 Channel", _text(o.get("channel"))), ("产线 Line", _text(o.get("production_line"))),
        ("产品线 Product", _text(o.get("product_line"))), ("优先级 Priority", _text(o.get("priority"))),
        ("状态 Status", status.get(o.get("status"), _text(o.get("status")))),
        ("当前环节 Stage", stage_name(pipeline, o.get("current_stage"))),
        ("下单 Placed", when(o.get("placed_at"), tz)),
        ("承诺 Promised", deadline_text(o.get("promised_at"), tz, TIME_FMT)),
        ("签收 Completed", when(o.get("completed_at"), tz)),
        (delivery_label, delivery),
    ]
    ids = {"状态 Status": "order-status", delivery_label: "order-delivery", "承诺 Promised": "order-promised"}
    return html.Dl(className="ob-facts", children=[
        html.Div(className="ob-fact" + (" ob-fact--late" if late and k == delivery_label else ""),
                 children=[html.Dt(k), html.Dd(v, **({"id": ids[k]} if k in ids else {}))])
        for k, v in items
    ])


def table(columns: list[str], rows: list[list[str]], empty: str, table_id: str) -> html.Div:
    if not rows:
        return html.P(empty, className="ob-empty", id=table_id)
    return html.Table(className="ob-table", id=table_id, children=[
        html.Thead(html.Tr([html.Th(c) for c in columns])),
        html.Tbody([html.Tr([html.Td(v) for v in r]) for r in rows]),
    ])


EVENT_TYPES = {"enter": "进入 enter", "complete": "完成 complete", "exception": "异常 exception",
               "resolve": "解决 resolve", "note": "备注 note", "cancel": "取消 cancel"}


def events_view(events: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo) -> html.Div:
    rows = [[when(e.occurred_at, tz), stage_name(pipeline, e.stage_code),
             EVENT_TYPES.get(e.event_type, _text(e.event_type)), _text(e.operator), _text(e.note)]
            for e in events.itertuples()]
    return table(["时间 Time", "环节 Stage", "事件 Event", "操作人 Operator", "说明 Note"], rows,
                 "没有事件 · no events", "order-events")


def exceptions_view(exceptions: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo) -> html.Div:
    rows = [[kind_label(str(x.kind), "zh") + f" {x.kind}", stage_name(pipeline, x.stage_code),
             _text(x.severity), when(x.opened_at, tz), when(x.acknowledged_at, tz),
             when(x.resolved_at, tz), _text(x.owner), _text(x.note)]
            for x in exceptions.itertuples()]
    return table(["类型 Kind", "环节 Stage", "级别 Severity", "发生 Opened", "响应 Acknowledged",
                  "解决 Resolved", "负责人 Owner", "说明 Note"], rows,
                 "没有异常 · no exceptions", "order-exceptions")


FINDING_KINDS = {"out_of_pipeline_order": "顺序异常 out of pipeline order"}


def findings_view(findings: pd.DataFrame) -> html.Div:
    """The order's data-quality findings (a stage entered after one that follows it in
    the pipeline, ...): what the source says, recorded, never "fixed"."""
    rows = [[FINDING_KINDS.get(str(f.kind), _text(f.kind)), _text(f.detail),
             _text(f.source) + ("" if f.line is None or is_missing(f.line) else f" · {int(f.line)}")]
            for f in findings.itertuples()]
    return table(["类型 Kind", "发现 Finding", "来源 Source · line"], rows,
                 "没有数据质量问题 · no data-quality findings", "order-findings")


FIELD_LABELS = {
    "promised_at": "承诺 Promised", "customer": "客户 Customer", "owner": "负责人 Owner",
    "channel": "渠道 Channel", "production_line": "产线 Line", "product_line": "产品线 Product",
    "quantity": "数量 Quantity", "amount": "金额 Amount", "priority": "优先级 Priority",
    "cancelled": "取消 Cancelled",
}


def field_label(field: str, pipeline: Pipeline) -> str:
    """A changed field for people: ``承诺 Promised``, or the stage of a milestone."""
    if field.startswith("enter:"):
        return f"{stage_name(pipeline, field.removeprefix('enter:'))} 时间 time"
    return FIELD_LABELS.get(field, field)


def history_view(history: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo) -> html.Div:
    """Values later imports changed (a promise moved, a customer corrected), newest first:
    when, what, before, after, and the file and line that said so."""
    rows = [[when(h.changed_at, tz), field_label(str(h.field), pipeline),
             shown_value(str(h.field), None if is_missing(h.old_value) else h.old_value, tz),
             shown_value(str(h.field), None if is_missing(h.new_value) else h.new_value, tz),
             _text(h.source) + ("" if h.line is None or is_missing(h.line) else f" · {int(h.line)}")]
            for h in history.itertuples()]
    return table(["时间 Recorded", "字段 Field", "原值 Before", "新值 After", "来源 Source · line"],
                 rows, "没有变更 · no changes", "order-history")


def audit_view(audit: pd.DataFrame, tz: ZoneInfo) -> html.Div:
    rows = [[when(a.at, tz), _text(a.actor), _text(a.action), _text(a.target), _text(a.detail)]
            for a in audit.itertuples()]
    return table(["时间 Time", "人员 Who", "操作 Action", "对象 Target", "详情 Detail"], rows,
                 "没有审计记录 · no audit entries", "order-audit")


def section(title: str, body) -> html.Section:
    return html.Section(className="ob-panel", children=[html.H2(title, className="ob-panel-title"), body])


def not_found(number: str) -> html.Div:
    return html.Div(className="ob-notfound", id="order-missing", children=[
        html.H2(f"没有订单 {number} · no order {number}"),
        dcc.Link("返回概览 · back to the overview", href="/"),
    ])

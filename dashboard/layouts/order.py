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

from dashboard.components.page import html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.deadline import deadline_text
from dashboard.formatting import MISSING, hours, is_missing
from dashboard.url_state import ViewState, href, lang_state, order_href
from dashboard.words import kind_label, pick, word
from datasource.importers.history import shown_value
from datasource.order_detail import OrderDetail
from datasource.pipeline import Pipeline

NUMBER = "order-number"
LANG = "order-lang"
CONTENT = "order-content"
EXPORT = "order-export"
DOWNLOAD = "order-download"
TIME_FMT = "%Y-%m-%d %H:%M"


def _w(key: str, lang: str, **values: object) -> str:
    return word("order", key, lang, **values)


def layout(ctx: AppContext, number: str = "", **params: str) -> html.Div:
    requested = params.get("lang")
    lang = ctx.page_lang(requested)
    scope = lang_state(params)  # links keep the URL's language
    search = f"?lang={scope.lang}" if scope.lang else ""
    return html.Div(className="ob-page ob-manager ob-order-page", lang=html_lang(lang), children=[
        html.Header(className="ob-mheader", children=[
            dcc.Link(word("common", "back_overview", lang), href=href("/", scope), className="ob-back"),
            html.H1(_w("title", lang, number=number), className="ob-mtitle", id="order-title"),
            html.Button(_w("export", lang), id=EXPORT, n_clicks=0, className="ob-button"),
            dcc.Download(id=DOWNLOAD),
            lang_switch(order_href(number), search, lang),
        ]),
        dcc.Store(id=NUMBER, data=number),
        dcc.Store(id=LANG, data=lang),
        dcc.Loading(html.Div(id=CONTENT, className="ob-order-body"), type="dot"),
    ])


def when(value: object, tz: ZoneInfo) -> str:
    if value is None or is_missing(value):
        return MISSING
    return pd.Timestamp(value).tz_convert(tz).strftime(TIME_FMT)


def _text(value: object) -> str:
    return MISSING if value is None or is_missing(value) or value == "" else str(value)


def stage_name(pipeline: Pipeline, code: object, lang: str = "zh") -> str:
    try:
        s = pipeline.stage(str(code))
    except KeyError:
        return _text(code)
    return pick((s.label_zh, s.label_en), lang)




def delivery_fact(order: dict, now: datetime, lang: str = "zh") -> tuple[str, str, bool]:
    """(label, value, late) of the order against its promised deadline, by its status:
    open: "time left" until the deadline, or "late by" past it (now - promised);
    completed: "on time" (with how early) or "late by" (completed_at - promised);
    cancelled, or no promised date: "—" (a cancelled order has no time left)."""
    promised, status = order.get("promised_at"), order.get("status")
    delivery = _w("delivery", lang)
    if promised is None or is_missing(promised):
        return delivery, MISSING, False
    promised = pd.Timestamp(promised)
    if status == "open":
        late = (pd.Timestamp(now) - promised).total_seconds() / 3600
        if late > 0:
            return _w("late_by", lang), hours(late), True
        return _w("time_left", lang), hours(-late), False
    completed = order.get("completed_at")
    if status == "completed" and completed is not None and not is_missing(completed):
        late = (pd.Timestamp(completed) - promised).total_seconds() / 3600
        if late > 0:
            return delivery, _w("delivered_late", lang, hours=hours(late)), True
        return delivery, _w("delivered_on_time", lang, hours=hours(-late)), False
    return delivery, MISSING, False


def status_text(status: object, lang: str) -> str:
    return word("order", f"status_{status}", lang, default=(_text(status), _text(status)))


def facts_view(detail: OrderDetail, pipeline: Pipeline, tz: ZoneInfo, now: datetime,
               lang: str = "zh") -> html.Div:
    o = detail.order
    delivery_label, delivery, late = delivery_fact(o, now, lang)
    # (key, label, value); the key names the fact for its id
    items = [
        ("customer", _w("customer", lang), _text(o.get("customer"))),
        ("owner", _w("owner", lang), _text(o.get("owner"))),
        ("channel", _w("channel", lang), _text(o.get("channel"))),
        ("line", _w("line", lang), _text(o.get("production_line"))),
        ("product", _w("product", lang), _text(o.get("product_line"))),
        ("priority", _w("priority", lang), _text(o.get("priority"))),
        ("status", _w("status", lang), status_text(o.get("status"), lang)),
        ("stage", _w("stage", lang), stage_name(pipeline, o.get("current_stage"), lang)),
        ("placed", _w("placed", lang), when(o.get("placed_at"), tz)),
        ("promised", _w("promised", lang), deadline_text(o.get("promised_at"), tz, TIME_FMT)),
        ("completed", _w("completed", lang), when(o.get("completed_at"), tz)),
        ("delivery", delivery_label, delivery),
    ]
    ids = {"status": "order-status", "delivery": "order-delivery", "promised": "order-promised"}
    return html.Dl(className="ob-facts", children=[
        html.Div(className="ob-fact" + (" ob-fact--late" if late and key == "delivery" else ""),
                 children=[html.Dt(label), html.Dd(v, **({"id": ids[key]} if key in ids else {}))])
        for key, label, v in items
    ])


def table(columns: list[str], rows: list[list[str]], empty: str, table_id: str) -> html.Div:
    if not rows:
        return html.P(empty, className="ob-empty", id=table_id)
    return html.Table(className="ob-table", id=table_id, children=[
        html.Thead(html.Tr([html.Th(c) for c in columns])),
        html.Tbody([html.Tr([html.Td(v) for v in r]) for r in rows]),
    ])


def _coded(prefix: str, code: object, lang: str) -> str:
    """The word of a code from the data (an event type, a finding kind); an unknown code as itself."""
    return word("order", f"{prefix}_{code}", lang, default=(_text(code), _text(code)))


def _heads(keys: tuple[str, ...], lang: str) -> list[str]:
    return [_w(k, lang) for k in keys]


def events_view(events: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo, lang: str = "zh") -> html.Div:
    rows = [[when(e.occurred_at, tz), stage_name(pipeline, e.stage_code, lang),
             _coded("event", e.event_type, lang), _text(e.operator), _text(e.note)]
            for e in events.itertuples()]
    return table(_heads(("time", "stage_col", "event", "operator", "note"), lang), rows,
                 _w("no_events", lang), "order-events")


def exceptions_view(exceptions: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo, lang: str = "zh") -> html.Div:
    rows = [[kind_label(str(x.kind), lang), stage_name(pipeline, x.stage_code, lang),
             _text(x.severity), when(x.opened_at, tz), when(x.acknowledged_at, tz),
             when(x.resolved_at, tz), _text(x.owner), _text(x.note)]
            for x in exceptions.itertuples()]
    heads = ("kind", "stage_col", "severity", "opened", "acknowledged", "resolved", "owner", "note")
    return table(_heads(heads, lang), rows, _w("no_exceptions", lang), "order-exceptions")


def findings_view(findings: pd.DataFrame, lang: str = "zh") -> html.Div:
    """The order's data-quality findings (a stage entered after one that follows it in
    the pipeline, ...): what the source says, recorded, never "fixed"."""
    rows = [[_coded("finding", f.kind, lang), _text(f.detail),
             _text(f.source) + ("" if f.line is None or is_missing(f.line) else f" · {int(f.line)}")]
            for f in findings.itertuples()]
    return table(_heads(("kind", "finding", "source"), lang), rows, _w("no_findings", lang), "order-findings")


def field_label(field: str, pipeline: Pipeline, lang: str = "zh") -> str:
    """A changed field for people: "Promised", or the time a stage was entered."""
    if field.startswith("enter:"):
        return _w("field_enter", lang, stage=stage_name(pipeline, field.removeprefix("enter:"), lang))
    return word("order", f"field_{field}", lang, default=(field, field))


def history_view(history: pd.DataFrame, pipeline: Pipeline, tz: ZoneInfo, lang: str = "zh") -> html.Div:
    """Values later imports changed (a promise moved, a customer corrected), newest first:
    when, what, before, after, and the file and line that said so."""
    rows = [[when(h.changed_at, tz), field_label(str(h.field), pipeline, lang),
             shown_value(str(h.field), None if is_missing(h.old_value) else h.old_value, tz),
             shown_value(str(h.field), None if is_missing(h.new_value) else h.new_value, tz),
             _text(h.source) + ("" if h.line is None or is_missing(h.line) else f" · {int(h.line)}")]
            for h in history.itertuples()]
    return table(_heads(("recorded", "field", "before", "after", "source"), lang), rows,
                 _w("no_changes", lang), "order-history")


def audit_view(audit: pd.DataFrame, tz: ZoneInfo, lang: str = "zh") -> html.Div:
    rows = [[when(a.at, tz), _text(a.actor), _text(a.action), _text(a.target), _text(a.detail)]
            for a in audit.itertuples()]
    return table(_heads(("time", "who", "action", "target", "detail"), lang), rows,
                 _w("no_audit", lang), "order-audit")


def section(title: str, body) -> html.Section:
    return html.Section(className="ob-panel", children=[html.H2(title, className="ob-panel-title"), body])


def not_found(number: str, lang: str = "zh") -> html.Div:
    back = href("/", ViewState(lang=lang))
    return html.Div(className="ob-notfound", id="order-missing", children=[
        html.H2(_w("missing", lang, number=number)),
        dcc.Link(word("common", "back_home", lang), href=back),
    ])

"""Callbacks of the order page: fill it from the store, export its events.

``order_content`` and ``export_events`` are plain functions (tests call them).
"""

from __future__ import annotations

from datetime import datetime

from dash import Dash, Input, Output, State, dcc, no_update
from sqlalchemy.exc import SQLAlchemyError

from dashboard.access import current, require
from dashboard.components.banner import shown_banner
from dashboard.context import AppContext
from dashboard.export import table_bytes
from dashboard.figures.timeline import timeline_figure
from dashboard.layouts import order as ui
from dashboard.words import word
from datasource.audit import record_audit
from datasource.order_detail import find_order, order_detail, order_events


def order_content(ctx: AppContext, number: str, now: datetime | None = None, lang: str | None = None,
                  record_view: bool = False) -> list:
    """The page body for an order number (a not-found note for an unknown one or one
    outside the viewer's scope), in ``lang`` (default: the ``lang`` setting); with
    ``record_view`` the view goes to the audit log."""
    now = now or ctx.moment()
    lang = ctx.page_lang(lang)
    viewer = current()
    # An order outside the viewer's scope is not found, like one that does not exist.
    detail = order_detail(ctx.engine, number, viewer.scope.restrict({}))
    if detail is None:
        return [ui.not_found(number, lang)]
    if record_view:
        record_audit(ctx.engine, viewer.name, "view", f"/orders/{number}")
    pipeline, tz = ctx.settings.pipeline, ctx.tz
    order = detail.order
    # Whether the order runs is its status, not whether a visit is still open.
    closed_at = order.get("completed_at") if order.get("status") == "completed" else order.get("cancelled_at")
    fig = timeline_figure(detail.visits, pipeline, now, ctx.settings.timezone, lang=lang, theme="light",
                          promised_at=order.get("promised_at"), running=order.get("status") == "open",
                          closed_at=closed_at)
    return [
        ui.facts_view(detail, pipeline, tz, now, lang),
        ui.section(word("order", "timeline", lang),
                   dcc.Graph(id="order-timeline", figure=fig, config={"displaylogo": False})),
        ui.section(word("order", "events", lang), ui.events_view(detail.events, pipeline, tz, lang)),
        ui.section(word("order", "exceptions", lang), ui.exceptions_view(detail.exceptions, pipeline, tz, lang)),
        ui.section(word("order", "quality", lang), ui.findings_view(detail.findings, lang)),
        ui.section(word("order", "history", lang), ui.history_view(detail.history, pipeline, tz, lang)),
        ui.section(word("order", "audit", lang), ui.audit_view(detail.audit, tz, lang)),
    ]


def export_events(ctx: AppContext, number: str) -> dict | None:
    """The order's events as CSV (times in the configured zone), recorded in the audit
    log; for a viewer who may export, and an order inside their scope."""
    actor = require("export").name
    order = find_order(ctx.engine, number, current().scope.restrict({}))
    if order is None:
        return None
    events = order_events(ctx.engine, int(order["id"]))
    frame = events.drop(columns=["id"]).copy()
    frame["occurred_at"] = frame["occurred_at"].dt.tz_convert(ctx.tz).dt.strftime(ui.TIME_FMT)
    record_audit(ctx.engine, actor, "export", f"/orders/{number}", f"csv, {len(frame)} events")
    return dcc.send_bytes(table_bytes(frame, "csv"), f"order-{number}-events.csv")


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output(ui.CONTENT, "children"), Input(ui.NUMBER, "data"), State(ui.LANG, "data"))
    def _fill_order(number: str | None, lang: str | None) -> list:
        try:
            return order_content(ctx, number or "", lang=lang, record_view=True)
        except SQLAlchemyError as exc:  # say so instead of a blank page
            return [shown_banner(ctx.store_unreachable(exc, ctx.page_lang(lang)))]

    @app.callback(Output(ui.DOWNLOAD, "data"), Output(ui.CONTENT, "children", allow_duplicate=True),
                  Input(ui.EXPORT, "n_clicks"), State(ui.NUMBER, "data"), State(ui.LANG, "data"),
                  prevent_initial_call=True)
    def _export_order(_n: int, number: str | None, lang: str | None):
        try:
            data = export_events(ctx, number or "")
            return data, order_content(ctx, number or "", lang=lang)  # the audit trail shows the export
        except SQLAlchemyError as exc:
            return no_update, [shown_banner(ctx.store_unreachable(exc, ctx.page_lang(lang)))]

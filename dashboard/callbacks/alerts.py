"""Callbacks of the alerts page, and the signed acknowledge link of alert messages.

``alerts_content`` and ``acknowledge_selected`` are plain functions (tests call them).
``/alerts/<id>/ack?sig=...`` answers GET with a confirmation form (a chat app that
previews the link must not acknowledge anything) and POST by acknowledging.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html import escape

from dash import Dash, Input, Output, State, no_update
from flask import abort, request
from flask_wtf.csrf import generate_csrf

from dashboard.context import AppContext
from dashboard.layouts import alerts as ui
from datasource import alert_store
from datasource.alert_links import valid_signature

RESOLVED_DAYS = 7  # resolved alerts of the last week are listed


def alerts_content(ctx: AppContext, states: list[str] | None, now: datetime | None = None):
    """(grid rows, counts) of the alerts in ``states``."""
    now = now or datetime.now(timezone.utc)
    frame = alert_store.alert_list(ctx.engine, tuple(states or ()), since=now - timedelta(days=RESOLVED_DAYS))
    return ui.alert_rows(frame, ctx.tz), ui.counts_view(frame)


def acknowledge_selected(ctx: AppContext, rows: list[dict] | None, by: str | None,
                         now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    done = [r for r in rows or [] if alert_store.acknowledge(ctx.engine, int(r["id"]), (by or "").strip() or "—", now)]
    return f"已确认 acknowledged {len(done)}" if done else "未选择 nothing selected"


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output(ui.GRID, "rowData"), Output(ui.COUNTS, "children"), Output(ui.NOTE, "children"),
                  Input(ui.STATES, "value"), Input(ui.REFRESH, "n_intervals"), Input(ui.ACK, "n_clicks"),
                  State(ui.GRID, "selectedRows"), State(ui.ACK_BY, "value"))
    def _fill_alerts(states, _tick, clicks, selected, by):
        from dash import ctx as trigger

        note = no_update
        try:
            if trigger.triggered_id == ui.ACK and clicks:
                note = acknowledge_selected(ctx, selected, by)
            rows, counts = alerts_content(ctx, states)
        except Exception as exc:  # noqa: BLE001 - say so instead of a blank page
            return no_update, no_update, f"数据源不可用 · store unreachable: {str(exc).splitlines()[0][:160]}"
        return rows, counts, note

    server = app.server

    def _ack(instance_id: int):
        secret = alert_store.link_secret(ctx.engine, ctx.settings.alert_secret)
        sig = request.values.get("sig")
        if not valid_signature(secret, instance_id, sig):
            abort(403)
        row = alert_store.instance(ctx.engine, instance_id)
        if row is None:
            abort(404)
        what = escape(f"{row['rule']} · {row['key']} · {row['summary']}")
        if request.method == "POST":
            by = (request.form.get("by") or "").strip() or "link"
            row = alert_store.acknowledge(ctx.engine, instance_id, by, datetime.now(timezone.utc))
            done = escape(f"{row['acknowledged_by']} {row['acknowledged_at']:%Y-%m-%d %H:%M} UTC")
            return _page(f"<h1>已确认 Acknowledged</h1><p>{what}</p><p>{done}</p>"
                         '<p><a href="/alerts">预警 Alerts</a></p>')
        if row["acknowledged_at"] is not None:
            return _page(f"<h1>已确认 Already acknowledged</h1><p>{what}</p>"
                         f"<p>{escape(str(row['acknowledged_by']))}</p>")
        return _page(f"<h1>确认预警 Acknowledge this alert?</h1><p>{what}</p>"
                     f'<form method="post"><input type="hidden" name="sig" value="{escape(sig or "")}">'
                     f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
                     '<input name="by" placeholder="你的名字 · your name"> '
                     '<button type="submit">确认 Acknowledge</button></form>')

    server.add_url_rule("/alerts/<int:instance_id>/ack", "alert-ack", _ack, methods=["GET", "POST"])


def _page(body: str) -> str:
    return ("<!doctype html><html><head><meta charset='utf-8'><title>OrderBoard · alert</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>{body}</body></html>")

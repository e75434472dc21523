"""Callbacks of the alerts page, and the signed acknowledge link of alert messages.

``alerts_content`` and ``acknowledge_selected`` are plain functions (tests call them).
The page lists the alerts of the viewer's data scope; acknowledging from it is a
manager's or an admin's action (``dashboard.access``). The signed link of a message is
its own authority: it acknowledges the one alert it was sent for.
``/alerts/<id>/ack?sig=...`` answers GET with a confirmation form (a chat app that
previews the link must not acknowledge anything) and POST by acknowledging; it speaks
the ``lang`` setting's language, or its URL's ``&lang=``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html import escape

from dash import Dash, Input, Output, State, no_update
from flask import abort, request
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden

from dashboard.access import require, scoped
from dashboard.alert_text import said, stage_namer, subject
from dashboard.context import AppContext
from dashboard.layouts import alerts as ui
from dashboard.words import word
from datasource import alert_firing, alert_silences, alert_store
from datasource.alert_links import valid_signature
from metrics.window import Filters

RESOLVED_DAYS = 7  # resolved alerts of the last week are listed


def visible_alerts(ctx: AppContext, states: tuple[str, ...], now: datetime):
    """The alerts in ``states`` the viewer may see: those about the orders of their data
    scope, and the metric alerts of exactly that scope (``alert_firing.matching``)."""
    frame = alert_store.alert_list(ctx.engine, states, since=now - timedelta(days=RESOLVED_DAYS))
    return alert_firing.matching(ctx.engine, frame, scoped(Filters()).active()) if len(frame) else frame


def alerts_content(ctx: AppContext, states: list[str] | None, now: datetime | None = None,
                   lang: str | None = None):
    """(grid rows, counts, silences) of the alerts in ``states`` the viewer may see, in
    ``lang`` (default: the ``lang`` setting)."""
    now = now or datetime.now(timezone.utc)
    lang = ctx.page_lang(lang)
    frame = visible_alerts(ctx, tuple(states or ()), now)
    silences = alert_silences.active_silences(ctx.engine, now)
    return (ui.alert_rows(frame, ctx.tz, lang, ctx.settings.pipeline, ctx.catalog), ui.counts_view(frame, lang),
            ui.silences_view(silences, ctx.tz, lang))


def acknowledge_selected(ctx: AppContext, rows: list[dict] | None, by: str | None,
                         now: datetime | None = None, lang: str | None = None) -> str:
    """Acknowledge the selected alerts: a manager's or an admin's action, on the alerts
    they may see (the ids come from the browser, so they are checked again here)."""
    now = now or datetime.now(timezone.utc)
    lang = ctx.page_lang(lang)
    try:
        require("acknowledge")
    except Forbidden:
        return word("alerts", "not_allowed", lang)
    wanted = {int(r["id"]) for r in rows or []}
    if wanted:
        wanted &= {int(i) for i in visible_alerts(ctx, ("firing", "acknowledged"), now)["id"]}
    who = (by or "").strip() or "—"
    done = [i for i in sorted(wanted) if alert_store.acknowledge(ctx.engine, i, who, now)]
    return word("alerts", "acknowledged_n", lang, n=len(done)) if done else word("alerts", "nothing_selected", lang)


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output(ui.GRID, "rowData"), Output(ui.COUNTS, "children"), Output(ui.SILENCES, "children"),
                  Output(ui.NOTE, "children"),
                  Input(ui.STATES, "value"), Input(ui.REFRESH, "n_intervals"), Input(ui.ACK, "n_clicks"),
                  State(ui.GRID, "selectedRows"), State(ui.ACK_BY, "value"), State(ui.LANG, "data"))
    def _fill_alerts(states, _tick, clicks, selected, by, lang):
        from dash import ctx as trigger

        note = no_update
        try:
            if trigger.triggered_id == ui.ACK and clicks:
                note = acknowledge_selected(ctx, selected, by, lang=lang)
            rows, counts, silences = alerts_content(ctx, states, lang=lang)
        except SQLAlchemyError as exc:  # say so instead of a blank page
            return no_update, no_update, no_update, ctx.store_unreachable(exc, ctx.page_lang(lang))
        return rows, counts, silences, note

    server = app.server

    def _ack(instance_id: int):
        lang = ctx.page_lang(request.values.get("lang"))
        secret = alert_store.link_secret(ctx.engine, ctx.settings.alert_secret)
        sig = request.values.get("sig")
        if not valid_signature(secret, instance_id, sig):
            abort(403)
        row = alert_store.instance(ctx.engine, instance_id)
        if row is None:
            abort(404)
        pipeline, catalog = ctx.settings.pipeline, ctx.catalog
        about = subject(row["labels"], row["rule_kind"], lang, stage_namer(pipeline, lang), catalog)
        says = said(row["rule_kind"], row["labels"], row["value"], row["summary"], lang, pipeline, catalog)
        what = escape(f"{row['rule']} · {about} · {says}")
        back = f'<p><a href="/alerts?lang={lang}">{escape(word("alerts", "page_title", lang))}</a></p>'
        if request.method == "POST":
            by = (request.form.get("by") or "").strip() or "link"
            row = alert_store.acknowledge(ctx.engine, instance_id, by, datetime.now(timezone.utc))
            done = escape(word("alerts", "ack_by", lang, by=row["acknowledged_by"],
                               at=ui.when(row["acknowledged_at"], ctx.tz)))
            return _page(lang, f"<h1>{escape(word('alerts', 'ack_done', lang))}</h1><p>{what}</p><p>{done}</p>{back}")
        if row["acknowledged_at"] is not None:
            done = escape(word("alerts", "ack_by", lang, by=row["acknowledged_by"],
                               at=ui.when(row["acknowledged_at"], ctx.tz)))
            return _page(lang, f"<h1>{escape(word('alerts', 'ack_already', lang))}</h1><p>{what}</p>"
                               f"<p>{done}</p>{back}")
        return _page(lang, f"<h1>{escape(word('alerts', 'ack_ask', lang))}</h1><p>{what}</p>"
                           f'<form method="post"><input type="hidden" name="sig" value="{escape(sig or "")}">'
                           f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
                           f'<input type="hidden" name="lang" value="{lang}">'
                           f'<input name="by" placeholder="{escape(word("alerts", "your_name", lang))}"> '
                           f'<button type="submit">{escape(word("alerts", "ack_button", lang))}</button></form>')

    server.add_url_rule("/alerts/<int:instance_id>/ack", "alert-ack", _ack, methods=["GET", "POST"])


def _page(lang: str, body: str) -> str:
    return (f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head><meta charset='utf-8'>"
            "<title>OrderBoard</title><meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>{body}</body></html>")

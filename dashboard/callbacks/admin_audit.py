"""Callbacks of the audit log page ``/admin/audit``.

The filters (local days in the store's time zone, an exact actor, an action) make a new
grid (its id carries a digest of them) whose block requests ``get_rows`` answers from
``datasource.audit``; ``export_csv`` writes every matching entry (at most
``MAX_EXPORT_ROWS``) and records that export in the log itself. Every function starts
with ``access.require("admin")``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pandas as pd
from dash import ALL, Dash, Input, Output, State, dcc, no_update
from dash import ctx as callback_ctx

from dashboard.access import require
from dashboard.callbacks.stage import block_bounds, checked_request
from dashboard.context import AppContext
from dashboard.export import table_bytes
from dashboard.layouts import admin_audit as ui
from dashboard.limits import MAX_EXPORT_ROWS
from dashboard.words import resolve_lang, word
from datasource.audit import ACTIONS, audit_entries, count_audit_entries, record_audit
from metrics.window import local_midnight

TIME_FMT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class AuditQuery:
    """The filters as ``datasource.audit`` takes them: [since, until) in UTC."""

    since: datetime | None
    until: datetime | None
    actor: str | None
    action: str | None

    @property
    def backwards(self) -> bool:
        return self.since is not None and self.until is not None and self.since >= self.until


def _day(value: object) -> date | None:
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def filters_from(since: object, until: object, actor: object, action: object) -> dict:
    """The page's filter inputs, checked: days as YYYY-MM-DD or None, a known action, an actor."""
    first, last = _day(since), _day(until)
    name = actor.strip()[:64] if isinstance(actor, str) and actor.strip() else None
    return {"since": first.isoformat() if first else None, "until": last.isoformat() if last else None,
            "actor": name, "action": action if action in ACTIONS else None}


def checked_filters(filters: object) -> dict:
    """Filters sent back by the browser (the page's store), checked again."""
    given = filters if isinstance(filters, dict) else {}
    return filters_from(given.get("since"), given.get("until"), given.get("actor"), given.get("action"))


def audit_query(filters: dict | None, tz: str) -> AuditQuery:
    """Local days -> UTC bounds: ``since`` from its local midnight, ``until`` included."""
    f = checked_filters(filters)
    first, last = _day(f["since"]), _day(f["until"])
    return AuditQuery(local_midnight(first, tz) if first else None,
                      local_midnight(last + timedelta(days=1), tz) if last else None, f["actor"], f["action"])


def grid_key(filters: dict) -> str:
    return hashlib.sha1(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _args(q: AuditQuery) -> tuple[datetime | None, datetime | None, str | None, str | None]:
    return q.since, q.until, q.actor, q.action


def total(ctx: AppContext, filters: dict | None) -> int:
    require("admin")
    q = audit_query(filters, ctx.settings.timezone)
    return 0 if q.backwards else count_audit_entries(ctx.engine, *_args(q))


def render_grid(ctx: AppContext, filters: dict, lang: str):
    """(grid, the filters it shows, the total's text, a note) for the filters."""
    require("admin")
    q = audit_query(filters, ctx.settings.timezone)
    note = word("admin", "dates_backwards", lang) if q.backwards else ""
    n = total(ctx, filters)
    return (ui.grid(grid_key(filters), lang), filters, word("admin", "total", lang, n=f"{n:,}"), note)


def display_rows(frame: pd.DataFrame, tz: ZoneInfo) -> list[dict]:
    return [{"at": pd.Timestamp(r.at).tz_convert(tz).strftime(TIME_FMT), "actor": r.actor, "action": r.action,
             "target": r.target or "", "detail": r.detail or ""} for r in frame.itertuples()]


def get_rows(ctx: AppContext, filters: dict | None, request: dict | None) -> dict:
    """A grid block request -> {"rowData": [...], "rowCount": total}."""
    require("admin")
    start, end = block_bounds(checked_request(request))
    q = audit_query(filters, ctx.settings.timezone)
    if q.backwards:
        return {"rowData": [], "rowCount": 0}
    frame = audit_entries(ctx.engine, *_args(q), limit=end - start, offset=start)
    return {"rowData": display_rows(frame, ctx.tz), "rowCount": count_audit_entries(ctx.engine, *_args(q))}


def export_csv(ctx: AppContext, filters: dict | None, lang: str, now: datetime | None = None):
    """(download, note): every matching entry, newest first, at most ``MAX_EXPORT_ROWS``;
    the export is itself an audit entry."""
    actor = require("admin").name
    now = now or datetime.now(timezone.utc)
    q = audit_query(filters, ctx.settings.timezone)
    if q.backwards:
        return None, word("admin", "dates_backwards", lang)
    frame = audit_entries(ctx.engine, *_args(q), limit=MAX_EXPORT_ROWS)
    n = count_audit_entries(ctx.engine, *_args(q))
    out = pd.DataFrame(display_rows(frame, ctx.tz), columns=list(ui.COLUMNS))
    name = f"audit-{now.astimezone(ctx.tz):%Y%m%d-%H%M}.csv"
    shown = {k: v for k, v in checked_filters(filters).items() if v}
    record_audit(ctx.engine, actor, "export", "/admin/audit" + ("?" + urlencode(shown) if shown else ""),
                 f"csv, {len(out)} of {n} entries, {name}", at=now)
    note = word("admin", "export_limit", lang, exported=f"{len(out):,}", total=f"{n:,}") if n > len(out) else ""
    return dcc.send_bytes(table_bytes(out, "csv"), name), note


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output(ui.BODY, "children"), Output(ui.FILTERS, "data"), Output(ui.TOTAL, "children"),
        Output(ui.NOTE, "children"),
        Input(ui.SINCE, "date"), Input(ui.UNTIL, "date"), Input(ui.ACTOR, "value"), Input(ui.ACTION, "value"),
        State(ui.LANG, "data"),
    )
    def _audit_filters(since, until, actor, action, lang_data):
        require("admin")
        return render_grid(ctx, filters_from(since, until, actor, action),
                           resolve_lang(lang_data, ctx.settings.lang))

    @app.callback(
        Output({"type": ui.GRID, "key": ALL}, "getRowsResponse"),
        Input({"type": ui.GRID, "key": ALL}, "getRowsRequest"), State(ui.FILTERS, "data"),
        prevent_initial_call=True,
    )
    def _audit_rows(requests, filters):
        require("admin")
        trigger = callback_ctx.triggered_id
        ids = [i["id"] for i in callback_ctx.outputs_list]
        return [get_rows(ctx, filters, r) if i == trigger and r else no_update for i, r in zip(ids, requests)]

    @app.callback(
        Output(ui.DOWNLOAD, "data"), Output(ui.EXPORT_NOTE, "children"),
        Input(ui.EXPORT_CSV, "n_clicks"), State(ui.FILTERS, "data"), State(ui.LANG, "data"),
        prevent_initial_call=True,
    )
    def _audit_export(_clicks, filters, lang_data):
        require("admin")
        download, note = export_csv(ctx, filters, resolve_lang(lang_data, ctx.settings.lang))
        return (download if download is not None else no_update), note

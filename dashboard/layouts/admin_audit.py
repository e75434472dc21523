"""The audit log page ``/admin/audit``: who signed in, viewed, exported or changed what,
newest first, filtered by local days, actor and action, in a server-side paged grid,
exportable as CSV. Admins only (DESIGN.md section 5a).

``layout`` builds the frame (no store access); ``dashboard.callbacks.admin_audit`` builds
the grid for the filters and answers its block requests.
"""

from __future__ import annotations

import dash_ag_grid as dag  # at import: Dash must know the component library before callbacks run
from dash import dcc, html

from dashboard.access import current
from dashboard.components.page import html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.layouts.admin import forbidden
from dashboard.words import word
from datasource.audit import ACTIONS

LANG = "audit-lang"
SINCE = "audit-since"
UNTIL = "audit-until"
ACTOR = "audit-actor"
ACTION = "audit-action"
TOTAL = "audit-total"
NOTE = "audit-note"
BODY = "audit-body"
FILTERS = "audit-filters"   # the filters of the grid on screen
GRID = "audit-grid"         # pattern-matching type: {"type": GRID, "key": ...}
EXPORT_CSV = "audit-export-csv"
DOWNLOAD = "audit-download"
EXPORT_NOTE = "audit-export-note"
PAGE_SIZE = 100
COLUMNS = ("at", "actor", "action", "target", "detail")
WIDTHS = {"at": 160, "actor": 130, "action": 130, "target": 220, "detail": 320}


def action_options(lang: str) -> list[dict]:
    return [{"label": f"{word('admin', f'action_{a}', lang)} ({a})", "value": a} for a in ACTIONS]


def grid(key: str, lang: str) -> dag.AgGrid:
    return dag.AgGrid(
        id={"type": GRID, "key": key},
        rowModelType="infinite",
        columnDefs=[{"field": c, "colId": c, "headerName": word("admin", f"col_{c}", lang),
                     "minWidth": WIDTHS[c], "tooltipField": c, "sortable": False}
                    for c in COLUMNS],
        defaultColDef={"resizable": True, "flex": 1},
        dashGridOptions={"pagination": True, "paginationPageSize": PAGE_SIZE,
                         "paginationPageSizeSelector": False, "cacheBlockSize": PAGE_SIZE,
                         "maxBlocksInCache": 4, "rowBuffer": 0, "tooltipShowDelay": 300,
                         "animateRows": False},
        className="ob-grid",
        style={"height": "70vh", "width": "100%"},
    )


def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(label, className="ob-admin-label"), control], className="ob-admin-field")


def layout(ctx: AppContext, **params: str) -> html.Div:
    lang = ctx.page_lang(params.get("lang"))
    if not current().can("admin"):
        return forbidden(lang)
    w = lambda key, **values: word("admin", key, lang, **values)  # noqa: E731
    return html.Div(className="ob-page ob-manager ob-admin-page ob-audit-page", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        html.Header(className="ob-mheader", children=[
            dcc.Link(w("back_admin"), href=f"/admin?lang={lang}", className="ob-back"),
            html.H1(w("audit_title"), className="ob-mtitle"),
            html.Span(w("times_in", tz=ctx.settings.timezone), className="ob-scope"),
            lang_switch("/admin/audit", "", lang),
        ]),
        html.Div(className="ob-toolbar ob-admin-filters", children=[
            _field(w("since"), dcc.DatePickerSingle(id=SINCE, display_format="YYYY-MM-DD", clearable=True,
                                                    placeholder="YYYY-MM-DD", first_day_of_week=1)),
            _field(w("until"), dcc.DatePickerSingle(id=UNTIL, display_format="YYYY-MM-DD", clearable=True,
                                                    placeholder="YYYY-MM-DD", first_day_of_week=1)),
            _field(w("actor"), dcc.Input(id=ACTOR, type="text", debounce=True, maxLength=64,
                                         placeholder=w("actor_placeholder"), className="ob-input")),
            _field(w("action"), dcc.Dropdown(id=ACTION, options=action_options(lang), placeholder=w("any_action"),
                                             className="ob-admin-select")),
            html.Span("…", id=TOTAL, className="ob-total"),
            html.Button("CSV", id=EXPORT_CSV, n_clicks=0, className="ob-button"),
            dcc.Download(id=DOWNLOAD),
            html.Span("", id=EXPORT_NOTE, className="ob-export-note", role="status"),
        ]),
        html.Div(id=NOTE, className="ob-admin-note", role="status"),
        dcc.Store(id=FILTERS),
        html.Div(id=BODY, className="ob-grid-box"),
    ])

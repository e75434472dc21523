"""The admin page ``/admin``: users (roles, data scopes, passwords, disabling) and wall
display tokens (DESIGN.md section 5a). Admins only.

``layout`` builds the frame and the forms (no store access); ``dashboard.callbacks.admin``
fills the grids and makes the changes, each behind ``access.require("admin")``. Anyone
else gets a note instead of the page, and a 403 from every callback.
"""

from __future__ import annotations

import dash_ag_grid as dag  # at import: Dash must know the component library before callbacks run
from dash import dcc, html

from dashboard.access import current
from dashboard.components.page import back_link, html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.url_state import ViewState
from dashboard.words import word
from datasource.schema import ROLES

LANG = "admin-lang"
NOTE = "admin-note"
# users
USERS_GRID = "admin-users-grid"
ADD_NAME = "admin-add-name"
ADD_ROLE = "admin-add-role"
ADD_SCOPE = "admin-add-scope"
ADD_PASSWORD = "admin-add-password"
ADD = "admin-add"
SELECTED = "admin-selected"
SEL_ROLE = "admin-sel-role"
SET_ROLE = "admin-set-role"
SEL_SCOPE = "admin-sel-scope"
SET_SCOPE = "admin-set-scope"
SEL_PASSWORD = "admin-sel-password"
SET_PASSWORD = "admin-set-password"
DISABLE = "admin-disable"
ENABLE = "admin-enable"
# display tokens
TOKENS_GRID = "admin-tokens-grid"
TOKEN_NOTE = "admin-token-note"
TOKEN_WALL = "admin-token-wall"
TOKEN_SCOPE = "admin-token-scope"
TOKEN_ALL = "admin-token-all"
TOKEN_LABEL = "admin-token-label"
CREATE_TOKEN = "admin-create-token"
REVOKE_TOKEN = "admin-revoke-token"
TOKEN_LINK = "admin-token-link"
TOKEN_LINK_TEXT = "admin-token-link-text"

USER_COLUMNS = ("name", "role", "sees", "disabled", "last_login")
TOKEN_COLUMNS = ("id", "label", "wall", "sees", "created_by", "created", "last_used", "revoked")


def forbidden(lang: str) -> html.Div:
    """What anyone but an admin sees at an admin URL (the callbacks answer them 403)."""
    return html.Div(className="ob-page ob-manager ob-admin-page", lang=html_lang(lang), children=[
        html.H1("403", className="ob-mtitle"),
        html.P(word("admin", "forbidden", lang), id=NOTE, className="ob-admin-forbidden"),
        dcc.Link(word("common", "back_home", lang), href=f"/?lang={lang}"),
    ])


def role_options(lang: str) -> list[dict]:
    return [{"label": f"{word('admin', f'role_{r}', lang)} ({r})" if lang == "zh" else r, "value": r}
            for r in ROLES]


def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(label, className="ob-admin-label"), control], className="ob-admin-field")


def _grid(grid_id: str, columns: tuple[str, ...], lang: str, row_id: str, height: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=[{"field": c, "headerName": word("admin", f"col_{c}", lang), "tooltipField": c}
                    for c in columns],
        rowData=[],
        getRowId=f"params.data.{row_id}",
        defaultColDef={"resizable": True, "sortable": True, "flex": 1, "minWidth": 90},
        dashGridOptions={"rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                         "animateRows": False, "domLayout": "normal"},
        className="ob-grid ob-admin-grid",
        style={"height": height, "width": "100%"},
    )


def users_section(lang: str) -> html.Section:
    w = lambda key: word("admin", key, lang)  # noqa: E731
    return html.Section(className="ob-panel ob-admin-section", children=[
        html.H2(w("users"), className="ob-panel-title"),
        html.P(w("roles_hint"), className="ob-panel-hint"),
        _grid(USERS_GRID, USER_COLUMNS, lang, "name", "16rem"),
        html.Div(className="ob-admin-forms", children=[
            html.Fieldset(className="ob-admin-form", children=[
                html.Legend(w("add_user")),
                _field(w("name"), dcc.Input(id=ADD_NAME, type="text", maxLength=64, autoComplete="off",
                                            className="ob-input")),
                _field(w("role"), dcc.Dropdown(id=ADD_ROLE, options=role_options(lang), value="viewer",
                                               clearable=False, className="ob-admin-select")),
                _field(w("scope"), dcc.Input(id=ADD_SCOPE, type="text", placeholder=w("scope_placeholder"),
                                             className="ob-input ob-admin-wide")),
                _field(w("password"), dcc.Input(id=ADD_PASSWORD, type="password", autoComplete="new-password",
                                                className="ob-input")),
                html.Button(w("add"), id=ADD, n_clicks=0, className="ob-button ob-admin-primary"),
            ]),
            html.Fieldset(className="ob-admin-form", children=[
                html.Legend([w("selected_user"), ": ", html.Strong("—", id=SELECTED)]),
                html.Div(className="ob-admin-row", children=[
                    _field(w("role"), dcc.Dropdown(id=SEL_ROLE, options=role_options(lang), clearable=False,
                                                   className="ob-admin-select")),
                    html.Button(w("set_role"), id=SET_ROLE, n_clicks=0, className="ob-button"),
                ]),
                html.Div(className="ob-admin-row", children=[
                    _field(w("scope"), dcc.Input(id=SEL_SCOPE, type="text", placeholder=w("scope_placeholder"),
                                                 className="ob-input ob-admin-wide")),
                    html.Button(w("set_scope"), id=SET_SCOPE, n_clicks=0, className="ob-button"),
                ]),
                html.Div(className="ob-admin-row", children=[
                    _field(w("new_password"), dcc.Input(id=SEL_PASSWORD, type="password",
                                                        autoComplete="new-password", className="ob-input")),
                    html.Button(w("set_password"), id=SET_PASSWORD, n_clicks=0, className="ob-button"),
                ]),
                html.Div(className="ob-admin-row", children=[
                    html.Button(w("disable"), id=DISABLE, n_clicks=0, className="ob-button"),
                    html.Button(w("enable"), id=ENABLE, n_clicks=0, className="ob-button"),
                ]),
            ]),
        ]),
        html.P(w("scope_hint"), className="ob-panel-hint"),
    ])


def tokens_section(lang: str) -> html.Section:
    w = lambda key: word("admin", key, lang)  # noqa: E731
    return html.Section(className="ob-panel ob-admin-section", children=[
        html.H2(w("tokens"), className="ob-panel-title"),
        html.P(w("tokens_hint"), className="ob-panel-hint"),
        _grid(TOKENS_GRID, TOKEN_COLUMNS, lang, "id", "13rem"),
        html.Div(className="ob-admin-forms", children=[
            html.Fieldset(className="ob-admin-form ob-admin-form--wide", children=[
                html.Legend(w("new_token")),
                _field(w("wall_url"), dcc.Input(id=TOKEN_WALL, type="text", placeholder=w("wall_placeholder"),
                                                className="ob-input ob-admin-wide")),
                _field(w("scope"), dcc.Input(id=TOKEN_SCOPE, type="text", placeholder=w("scope_placeholder"),
                                             className="ob-input ob-admin-wide")),
                dcc.Checklist(id=TOKEN_ALL, options=[{"label": w("every_order_box"), "value": "all"}], value=[],
                              className="ob-admin-check"),
                _field(w("label"), dcc.Input(id=TOKEN_LABEL, type="text", maxLength=128,
                                             placeholder=w("label_placeholder"), className="ob-input")),
                html.Button(w("create"), id=CREATE_TOKEN, n_clicks=0, className="ob-button ob-admin-primary"),
                html.P(w("token_scope_hint"), className="ob-panel-hint"),
            ]),
            html.Div(className="ob-admin-actions", children=[
                html.Button(w("revoke"), id=REVOKE_TOKEN, n_clicks=0, className="ob-button"),
            ]),
        ]),
        html.Div(id=TOKEN_NOTE, className="ob-admin-note", role="status"),
        html.Div(id=TOKEN_LINK, className="ob-admin-link"),
    ])


def layout(ctx: AppContext, **params: str) -> html.Div:
    lang = ctx.page_lang(params.get("lang"))
    if not current().can("admin"):
        return forbidden(lang)
    state = ViewState(lang=lang)
    return html.Div(className="ob-page ob-manager ob-admin-page", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        html.Header(className="ob-mheader", children=[
            back_link(state, lang),
            html.H1(word("admin", "title", lang), className="ob-mtitle"),
            dcc.Link(word("admin", "audit_link", lang), href=f"/admin/audit?lang={lang}", className="ob-navlink"),
            lang_switch("/admin", "", lang),
        ]),
        html.Div(id=NOTE, className="ob-admin-note", role="status"),
        users_section(lang),
        tokens_section(lang),
    ])

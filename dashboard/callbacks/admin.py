"""Callbacks of the admin page ``/admin``: the users and display-token grids and every
change to them.

Each plain function here (tests call them) starts with ``access.require("admin")``, so
no other principal gets data from it or changes anything (a 403 over HTTP); changes go
through ``datasource.account_changes``, which writes the audit entry with the admin's
name. A new token's link is returned once, in the callback's answer, and kept nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash import ctx as callback_ctx

from dashboard.access import require
from dashboard.context import AppContext
from dashboard.display_tokens import NoScopeGiven, WallLinkError, token_link, token_scope, wall_setting
from dashboard.layouts import admin as ui
from dashboard.words import resolve_lang, word
from datasource import account_changes, accounts
from datasource.accounts import AccountError
from datasource.scope import Scope, ScopeError, parse_scope_terms

TIME_FMT = "%Y-%m-%d %H:%M"
MAX_TEXT = 2000  # longest scope, URL or name text a form may send


@dataclass(frozen=True)
class Note:
    """One line said after an action: done, a refusal, or a note about the data."""

    text: str
    ok: bool = True


def scope_from_text(text: str | None) -> Scope:
    """A scope written as on the page (and as ``Scope.describe`` shows it):
    ``line=Line A; owner=张伟, 王芳``: dimensions separated by ";" or new lines, the values
    of one dimension by ","; nothing written is no orders."""
    terms = []
    for part in (text or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        dimension, sep, values = part.partition("=")
        if not sep:
            terms.append(part)  # parse_scope_terms says what is wrong with it
            continue
        terms += [f"{dimension}={value}" for value in values.split(",")] if values.strip() else [part]
    return parse_scope_terms(terms)


def sees(scope: Scope, lang: str) -> str:
    if scope.is_everything:
        return word("admin", "every_order", lang)
    if scope.is_nothing:
        return word("admin", "no_orders", lang)
    return scope.describe()


def _when(value: datetime | None, ctx: AppContext) -> str:
    return "" if value is None else pd.Timestamp(value).tz_convert(ctx.tz).strftime(TIME_FMT)


def _text(value: object, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def user_rows(ctx: AppContext, lang: str) -> list[dict]:
    """The users grid's rows."""
    require("admin")
    return [{"name": u.name, "role": word("admin", f"role_{u.role}", lang), "sees": sees(u.scope, lang),
             "disabled": word("admin", "yes", lang) if u.disabled else "",
             "last_login": _when(u.last_login_at, ctx) or word("admin", "never", lang)}
            for u in accounts.list_users(ctx.engine)]


def token_rows(ctx: AppContext, lang: str) -> list[dict]:
    """The tokens grid's rows (never a secret: only its hash is stored)."""
    require("admin")
    return [{"id": t.id, "label": t.label, "wall": f"/wall?{t.wall_query}", "sees": sees(t.scope, lang),
             "created_by": t.created_by, "created": _when(t.created_at, ctx),
             "last_used": _when(t.last_used_at, ctx) or word("admin", "never", lang),
             "revoked": _when(t.revoked_at, ctx)}
            for t in accounts.list_tokens(ctx.engine)]


def _unmatched(ctx: AppContext, scope: Scope, lang: str) -> list[Note]:
    return [Note(word("admin", "unmatched", lang, term=f"{u.word}={u.value}",
                      known=", ".join(u.existing) or "—"))
            for u in account_changes.unmatched_scope_values(ctx.engine, scope)]


def user_action(ctx: AppContext, action: str, lang: str, name: str | None = None, role: str | None = None,
                scope_text: str | None = None, password: str | None = None,
                now: datetime | None = None) -> list[Note]:
    """Do one change to a user (``add``, ``role``, ``scope``, ``password``, ``disable``,
    ``enable``) as the current admin; what to say about it."""
    actor = require("admin").name
    now = now or datetime.now(timezone.utc)
    name = _text(name, 64).strip()
    w = lambda key, **values: word("admin", key, lang, **values)  # noqa: E731
    if action != "add" and not name:
        return [Note(w("none_selected"), ok=False)]
    try:
        if action == "add":
            scope = scope_from_text(_text(scope_text))
            account = account_changes.add_user(ctx.engine, actor, name, _text(role, 16), _text(password, 1024),
                                               scope, now)
            notes = [Note(w("added", name=account.name, role=account.role, sees=sees(account.scope, lang)))]
            if account.scope.is_nothing:
                notes.append(Note(w("sees_nothing", name=account.name)))
            return notes + _unmatched(ctx, scope, lang)
        if action == "role":
            account = account_changes.set_role(ctx.engine, actor, name, _text(role, 16), now)
            return [Note(w("role_set", name=name, role=account.role, sees=sees(account.scope, lang)))]
        if action == "scope":
            scope = scope_from_text(_text(scope_text))
            account = account_changes.set_scope(ctx.engine, actor, name, scope, now)
            return [Note(w("scope_set", name=name, sees=sees(account.scope, lang))), *_unmatched(ctx, scope, lang)]
        if action == "password":
            account_changes.set_password(ctx.engine, actor, name, _text(password, 1024), now)
            return [Note(w("password_set", name=name))]
        if action in ("disable", "enable"):
            account_changes.set_disabled(ctx.engine, actor, name, action == "disable", now)
            return [Note(w("disabled" if action == "disable" else "enabled", name=name))]
    except (AccountError, ScopeError) as exc:
        return [Note(w("refused", reason=str(exc)), ok=False)]
    raise ValueError(f"no user action {action!r}")


def token_action(ctx: AppContext, action: str, lang: str, wall: str | None = None,
                 scope_text: str | None = None, everything: bool = False, label: str | None = None,
                 token_id: object = None, now: datetime | None = None) -> tuple[list[Note], str | None]:
    """Create (``create``) or revoke (``revoke``) a display token as the current admin:
    what to say, and the new token's wall link (shown once)."""
    actor = require("admin").name
    now = now or datetime.now(timezone.utc)
    w = lambda key, **values: word("admin", key, lang, **values)  # noqa: E731
    try:
        if action == "create":
            query = wall_setting(_text(wall))
            written = _text(scope_text).strip()
            if written and everything:
                return [Note(w("scope_or_all"), ok=False)], None
            given = scope_from_text(written) if written else None
            try:
                scope = token_scope(query, given, everything)
            except NoScopeGiven:
                return [Note(w("no_scope_given"), ok=False)], None
            token, secret = account_changes.create_token(ctx.engine, actor, query, scope, now,
                                                         label=_text(label, 128))
            notes = [Note(w("token_created", id=token.id, sees=sees(token.scope, lang)))]
            notes += _unmatched(ctx, given, lang) if given is not None else []
            return notes, token_link(ctx.settings.public_url, token.wall_query, secret)
        if action == "revoke":
            if isinstance(token_id, bool) or not isinstance(token_id, int):
                return [Note(w("no_token_selected"), ok=False)], None
            before = accounts.token_by_id(ctx.engine, token_id)
            account_changes.revoke_token(ctx.engine, actor, token_id, now)
            was = before is not None and before.revoked_at is not None
            return [Note(w("token_was_revoked" if was else "token_revoked", id=token_id))], None
    except (AccountError, ScopeError, WallLinkError) as exc:
        return [Note(w("refused", reason=str(exc)), ok=False)], None
    raise ValueError(f"no token action {action!r}")


def notes_view(notes: list[Note]) -> list[html.P]:
    return [html.P(n.text, className="ob-admin-ok" if n.ok else "ob-admin-error") for n in notes]


def link_view(link: str, lang: str) -> html.Div:
    return html.Div(className="ob-admin-linkbox", children=[
        html.P(word("admin", "link_once", lang)),
        html.Div(className="ob-admin-row", children=[
            html.Code(link, id=ui.TOKEN_LINK_TEXT, className="ob-admin-secret"),
            dcc.Clipboard(target_id=ui.TOKEN_LINK_TEXT, className="ob-admin-copy"),
        ]),
    ])


USER_BUTTONS = {ui.ADD: "add", ui.SET_ROLE: "role", ui.SET_SCOPE: "scope", ui.SET_PASSWORD: "password",
                ui.DISABLE: "disable", ui.ENABLE: "enable"}
TOKEN_BUTTONS = {ui.CREATE_TOKEN: "create", ui.REVOKE_TOKEN: "revoke"}


def _selected(rows: object, key: str) -> object:
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        return rows[0].get(key)
    return None


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output(ui.USERS_GRID, "rowData"), Output(ui.NOTE, "children"),
        Output(ui.ADD_PASSWORD, "value"), Output(ui.SEL_PASSWORD, "value"),
        *(Input(button, "n_clicks") for button in USER_BUTTONS),
        State(ui.LANG, "data"), State(ui.ADD_NAME, "value"), State(ui.ADD_ROLE, "value"),
        State(ui.ADD_SCOPE, "value"), State(ui.ADD_PASSWORD, "value"), State(ui.USERS_GRID, "selectedRows"),
        State(ui.SEL_ROLE, "value"), State(ui.SEL_SCOPE, "value"), State(ui.SEL_PASSWORD, "value"),
    )
    def _admin_users(*args):
        lang_data, add_name, add_role, add_scope, add_password, selected, sel_role, sel_scope, sel_password = \
            args[len(USER_BUTTONS):]
        lang = resolve_lang(lang_data, ctx.settings.lang)
        require("admin")
        action = USER_BUTTONS.get(callback_ctx.triggered_id) if callback_ctx.triggered_id else None
        notes: list[Note] | None = None
        if action == "add":
            notes = user_action(ctx, "add", lang, add_name, add_role, add_scope, add_password)
        elif action is not None:
            notes = user_action(ctx, action, lang, _text(_selected(selected, "name")), sel_role, sel_scope,
                                sel_password)
        clear_add = "" if action == "add" else no_update
        clear_sel = "" if action == "password" else no_update
        return user_rows(ctx, lang), (notes_view(notes) if notes is not None else no_update), clear_add, clear_sel

    @app.callback(
        Output(ui.SELECTED, "children"), Output(ui.SEL_ROLE, "value"), Output(ui.SEL_SCOPE, "value"),
        Input(ui.USERS_GRID, "selectedRows"), prevent_initial_call=True,
    )
    def _admin_select_user(selected):
        require("admin")
        name = _selected(selected, "name")
        if not isinstance(name, str):
            return "—", None, ""
        account = accounts.user(ctx.engine, name)
        if account is None:
            return "—", None, ""
        scope = "" if account.scope.is_everything or account.scope.is_nothing else account.scope.describe()
        return account.name, account.role, scope

    @app.callback(
        Output(ui.TOKENS_GRID, "rowData"), Output(ui.TOKEN_NOTE, "children"), Output(ui.TOKEN_LINK, "children"),
        *(Input(button, "n_clicks") for button in TOKEN_BUTTONS),
        State(ui.LANG, "data"), State(ui.TOKEN_WALL, "value"), State(ui.TOKEN_SCOPE, "value"),
        State(ui.TOKEN_ALL, "value"), State(ui.TOKEN_LABEL, "value"), State(ui.TOKENS_GRID, "selectedRows"),
    )
    def _admin_tokens(_create, _revoke, lang_data, wall, scope_text, everything, label, selected):
        lang = resolve_lang(lang_data, ctx.settings.lang)
        require("admin")
        action = TOKEN_BUTTONS.get(callback_ctx.triggered_id) if callback_ctx.triggered_id else None
        if action is None:
            return token_rows(ctx, lang), no_update, no_update
        notes, link = token_action(ctx, action, lang, wall, scope_text,
                                   isinstance(everything, list) and "all" in everything, label,
                                   _selected(selected, "id"))
        return token_rows(ctx, lang), notes_view(notes), (link_view(link, lang) if link else "")

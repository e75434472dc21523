"""The admin page ``/admin``: an admin adds and changes users and display tokens (each
change audited with the admin's name); everyone else gets a note instead of the page and
a 403 from every admin callback, called directly over HTTP with logins on."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from stores import access_snapshot as snapshot

from dashboard import access
from dashboard.access import Principal
from dashboard.app import create_app, render_page
from dashboard.callbacks.admin import scope_from_text, token_action, token_rows, user_action, user_rows
from dashboard.layouts import admin as ui
from dashboard.layouts import admin_audit as audit_ui
from dashboard.pages import default_pages
from dashboard.words import word
from datasource import accounts
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.schema import AuditEntry
from datasource.scope import Scope, parse_scope_terms
from datasource.settings import Settings
from tests.web_client import browser_client

PASSWORD = "correct horse battery"
T = datetime(2026, 11, 2, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
BOSS = Principal("boss", "admin", Scope.everything(), "user", user_id=1)


@pytest.fixture
def admin_app(sqlite_store, tmp_path):
    engine = sqlite_store.engine
    ingest(engine, sqlite_store.pipeline,
           [OrderRecord("SO-1", production_line="Line A", owner="张伟", channel="direct"),
            OrderRecord("SO-2", production_line="Line B", owner="王芳", channel="online")],
           [EventRecord(n, "placed", "enter", T) for n in ("SO-1", "SO-2")])
    accounts.add_user(engine, "boss", "admin", PASSWORD, Scope(), NOW)
    accounts.add_user(engine, "mgr", "manager", PASSWORD, parse_scope_terms(["line=Line A"]), NOW)
    accounts.add_user(engine, "vw", "viewer", PASSWORD, parse_scope_terms(["owner=张伟"]), NOW)
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline, secret_key="x" * 40,
                        public_url="https://board.example.com")
    app = create_app(settings, engine=engine)
    return app, app.server.config["ORDERBOARD_CONTEXT"]


@contextmanager
def acting_as(principal: Principal):
    token = access.set_current(principal)
    try:
        yield
    finally:
        access.reset(token)


def admin_audit(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.action.like("user%") | AuditEntry.action.like("token%")).order_by(AuditEntry.id))]


def texts(notes) -> list[str]:
    return [n.text for n in notes]


def test_scopes_are_written_as_they_are_shown():
    scope = scope_from_text("line=Line A; owner=张伟, 王芳\nchannel=online")
    assert scope == parse_scope_terms(["line=Line A", "owner=张伟", "owner=王芳", "channel=online"])
    assert scope_from_text(scope.describe()) == scope
    assert scope_from_text("  ").is_nothing


def test_an_admin_adds_and_changes_users_each_audited_with_its_name(admin_app):
    _app, ctx = admin_app
    engine = ctx.engine
    with acting_as(BOSS):
        added = user_action(ctx, "add", "en", "li", "viewer", "line=Line A; owner=张伟, 陈静", PASSWORD, now=NOW)
        assert texts(added) == ["Added li (viewer, sees owner=张伟, 陈静; line=Line A).",
                                "Note: owner=陈静 matches no order yet (values: 张伟, 王芳)."]
        assert accounts.user(engine, "li").scope == parse_scope_terms(["line=Line A", "owner=张伟", "owner=陈静"])
        assert texts(user_action(ctx, "role", "en", "li", "manager", now=NOW)) == [
            "li is now manager (sees owner=张伟, 陈静; line=Line A)."]
        assert texts(user_action(ctx, "scope", "zh", "li", scope_text="channel=online", now=NOW)) == [
            "li 现在可见：channel=online。"]
        assert accounts.user(engine, "li").scope == parse_scope_terms(["channel=online"])
        assert user_action(ctx, "password", "en", "li", password="a new long password", now=NOW)[0].ok
        assert accounts.login(engine, "li", "a new long password", "10.0.0.1", NOW).account is not None
        assert texts(user_action(ctx, "disable", "en", "li", now=NOW)) == [
            "Disabled li; every session of it ended."]
        assert accounts.user(engine, "li").disabled
        assert user_action(ctx, "enable", "en", "li", now=NOW)[0].ok and not accounts.user(engine, "li").disabled
        rows = {r["name"]: r for r in user_rows(ctx, "en")}
    assert rows["li"] == {"name": "li", "role": "manager", "sees": "channel=online", "disabled": "",
                          "last_login": rows["li"]["last_login"]}
    assert rows["boss"]["sees"] == "every order" and rows["vw"]["sees"] == "owner=张伟"
    assert admin_audit(engine) == [("boss", a, "user:li") for a in (
        "user_add", "user_change", "user_change", "user_passwd", "user_disable", "user_enable")]


@pytest.mark.parametrize("action, fields, message", [
    ("add", {"name": "li", "role": "viewer", "password": "short"},
     "Not done: a password needs at least 10 characters"),
    ("add", {"name": "li", "role": "boss", "password": PASSWORD}, "Not done: no role 'boss' (one of viewer, manager, admin)"),
    ("add", {"name": "li", "role": "viewer", "scope_text": "lane=A", "password": PASSWORD},
     "Not done: scope 'lane=A': write DIMENSION=VALUE with DIMENSION one of line, customer, channel, product, "
     "owner (e.g. line=\"Line A\")"),
    ("add", {"name": "vw", "role": "viewer", "password": PASSWORD}, "Not done: user 'vw' exists already"),
    ("add", {"name": "x", "role": "admin", "scope_text": "line=Line A", "password": PASSWORD},
     "Not done: an admin sees every order: a scope applies to viewers and managers only"),
    ("role", {"name": "", "role": "viewer"}, "Select a user in the table first."),
    ("role", {"name": "nobody", "role": "viewer"}, "Not done: no user 'nobody'"),
    ("role", {"name": "boss", "role": "viewer"},
     "Not done: 'boss' is the last enabled admin: make another user admin first"),
    ("disable", {"name": "boss"}, "Not done: 'boss' is the last enabled admin: make another user admin first"),
    ("scope", {"name": "vw", "scope_text": "owner"},
     "Not done: scope 'owner': write DIMENSION=VALUE with DIMENSION one of line, customer, channel, product, "
     "owner (e.g. line=\"Line A\")"),
    ("password", {"name": "vw", "password": ""}, "Not done: a password needs at least 10 characters"),
])
def test_bad_input_on_the_page_is_a_note_and_changes_nothing(admin_app, action, fields, message):
    _app, ctx = admin_app
    before = snapshot(ctx.engine)
    with acting_as(BOSS):
        notes = user_action(ctx, action, "en", now=NOW, **fields)
    assert [(n.text, n.ok) for n in notes] == [(message, False)]
    assert snapshot(ctx.engine) == before


def test_an_admin_creates_and_revokes_display_tokens(admin_app):
    _app, ctx = admin_app
    engine = ctx.engine
    with acting_as(BOSS):
        notes, link = token_action(ctx, "create", "en", "/wall/kpi?line=Line+A&token=old", label="hall TV", now=NOW)
        assert texts(notes) == ["Created token 1 (sees line=Line A)."]
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "board.example.com", "/wall")
        secret = parse_qs(parts.query)["token"][0]
        assert accounts.token_by_secret(engine, secret).id == 1 and secret != "old"
        rows = token_rows(ctx, "en")
        assert secret not in json.dumps(rows) and rows[0]["wall"] == "/wall?views=kpi&line=Line+A"
        assert rows[0]["label"] == "hall TV" and rows[0]["created_by"] == "boss"
        assert token_action(ctx, "create", "en", "views=main", everything=True, now=NOW)[1] is not None
        assert accounts.token_by_id(engine, 2).scope.is_everything
        noted, _ = token_action(ctx, "create", "en", "/wall?line=Line+A", scope_text="owner=陈静", now=NOW)
        assert texts(noted) == ["Created token 3 (sees owner=陈静).",
                                "Note: owner=陈静 matches no order yet (values: 张伟, 王芳)."]
        assert accounts.token_by_id(engine, 3).scope == parse_scope_terms(["owner=陈静"])
        before = snapshot(engine)
        refused = [
            token_action(ctx, "create", "en", "/wall?views=kpi", now=NOW),
            token_action(ctx, "create", "en", "/wall", scope_text="line=A", everything=True, now=NOW),
            token_action(ctx, "create", "en", "/orders/SO-1", everything=True, now=NOW),
            token_action(ctx, "revoke", "en", token_id=None, now=NOW),
            token_action(ctx, "revoke", "en", token_id=99, now=NOW),
        ]
        assert [(texts(n), link) for n, link in refused] == [
            (["The wall URL names no line or channel: give a scope, or tick \u201cEvery order\u201d."], None),
            (["Give a scope or tick \u201cEvery order\u201d, not both."], None),
            (["Not done: /orders/SO-1 is not a wall URL: a wall's path is /wall or /wall/VIEW"], None),
            (["Select a token in the table first."], None),
            (["Not done: no display token 99"], None)]
        assert snapshot(engine) == before
        assert texts(token_action(ctx, "revoke", "en", token_id=1, now=NOW)[0]) == [
            "Revoked token 1: its TV shows \u201ctoken revoked\u201d at its next refresh."]
        assert accounts.token_by_id(engine, 1).revoked_at is not None
        assert texts(token_action(ctx, "revoke", "en", token_id=1, now=NOW)[0]) == ["Token 1 was revoked already."]
    assert admin_audit(engine) == [("boss", "token_create", f"token:{i}") for i in (1, 2, 3)] + [
        ("boss", "token_revoke", "token:1")]


def test_the_page_is_a_note_for_anyone_but_an_admin(admin_app):
    _app, ctx = admin_app
    pages = default_pages()

    def ids(component) -> set[str]:
        found = {component.id} if isinstance(getattr(component, "id", None), str) else set()
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "to_plotly_json"):
                found |= ids(child)
        return found

    for path in ("/admin", "/admin/audit"):
        with acting_as(BOSS):
            assert {ui.LANG, audit_ui.LANG} & ids(render_page(ctx, pages, path, "?lang=en"))
        for who in (Principal("mgr", "manager", parse_scope_terms(["line=Line A"]), "user", user_id=2),
                    Principal("vw", "viewer", parse_scope_terms(["owner=张伟"]), "user", user_id=3)):
            with acting_as(who):
                page = render_page(ctx, pages, path, "?lang=en")
            assert ids(page) == {ui.NOTE}, (path, who.name)
            assert page.children[1].children == "Only administrators may open this page."
        with acting_as(Principal("token:1", "viewer", Scope.everything(), "token", token_id=1, wall_query="")):
            page = render_page(ctx, pages, path, "")
        assert ui.USERS_GRID not in ids(page)
        assert word("access", "token_walls_only", ctx.page_lang()) in str(page.to_plotly_json())
    with acting_as(BOSS):
        assert {ui.USERS_GRID, ui.TOKENS_GRID, ui.ADD} <= ids(render_page(ctx, pages, "/admin", ""))


# -- every admin callback over HTTP -------------------------------------------------------

def callback_bodies(app) -> dict[str, dict]:
    """A request body, as dash-renderer posts it, for every callback of the admin pages
    (every input and state None, the page language "en")."""
    bodies = {}
    for key, spec in app.callback_map.items():
        if "admin-" not in key and "audit-" not in key:
            continue
        if key.startswith("{"):  # the audit grid's block requests (pattern-matching ids)
            grid = {"type": "audit-grid", "key": "k"}
            bodies[key] = {
                "output": key, "outputs": [{"id": grid, "property": "getRowsResponse"}],
                "inputs": [[{"id": grid, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]],
                "state": [{"id": "audit-filters", "property": "data", "value": {}}],
                "changedPropIds": [json.dumps(grid, sort_keys=True, separators=(",", ":")) + ".getRowsRequest"]}
            continue
        outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in key.strip(".").split("...")]
        bodies[key] = {
            "output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [{**i, "value": None} for i in spec["inputs"]],
            "state": [{**s, "value": "en" if s["id"].endswith("lang") else None} for s in spec["state"]],
            "changedPropIds": []}
    return bodies


def test_every_admin_callback_answers_an_admin_and_refuses_everyone_else(admin_app):
    app, ctx = admin_app
    bodies = callback_bodies(app)
    assert len(bodies) == 6  # users, selection, tokens; audit filters, rows, export
    admin = browser_client(app.server, "boss", PASSWORD)
    for key, body in bodies.items():
        answer = admin.post("/_dash-update-component", json=body)
        assert answer.status_code in (200, 204), (key, answer.status_code, answer.text[:200])
    for name in ("mgr", "vw"):
        client = browser_client(app.server, name, PASSWORD)
        for key, body in bodies.items():
            answer = client.post("/_dash-update-component", json=body)
            assert answer.status_code == 403, (name, key, answer.status_code)
            assert "boss" not in answer.text and "mgr" not in answer.text.replace(f"{name} may not", "")
    with acting_as(BOSS):
        _notes, link = token_action(ctx, "create", "en", "/wall?line=Line+A", now=NOW)
    wall = browser_client(app.server)
    assert wall.get(urlsplit(link).path + "?" + urlsplit(link).query).status_code == 200  # the TV signs in
    for key, body in bodies.items():
        assert wall.post("/_dash-update-component", json=body).status_code == 403, key
    assert wall.get("/admin").status_code == 403
    anonymous = browser_client(app.server)
    assert all(anonymous.post("/_dash-update-component", json=b).status_code == 401 for b in bodies.values())


def test_an_admin_adds_a_user_through_the_registered_callback(admin_app):
    app, ctx = admin_app
    key = next(k for k in app.callback_map if "admin-users-grid.rowData" in k)
    body = callback_bodies(app)[key]
    values = {ui.ADD_NAME: "zhou", ui.ADD_ROLE: "viewer", ui.ADD_SCOPE: "channel=online", ui.ADD_PASSWORD: PASSWORD}
    body["state"] = [{**s, "value": values.get(s["id"], s["value"])} for s in body["state"]]
    body["inputs"] = [{**i, "value": 1 if i["id"] == ui.ADD else None} for i in body["inputs"]]
    body["changedPropIds"] = [f"{ui.ADD}.n_clicks"]
    client = browser_client(app.server, "boss", PASSWORD)
    answer = client.post("/_dash-update-component", json=body).json["response"]
    assert "zhou" in [r["name"] for r in answer[ui.USERS_GRID]["rowData"]]
    assert answer[ui.ADD_PASSWORD]["value"] == "", "the typed password is cleared"
    assert accounts.user(ctx.engine, "zhou").scope == parse_scope_terms(["channel=online"])
    assert admin_audit(ctx.engine) == [("boss", "user_add", "user:zhou")]
    # the same request from a manager changes nothing
    body["state"] = [{**s, "value": "wu" if s["id"] == ui.ADD_NAME else s["value"]} for s in body["state"]]
    assert browser_client(app.server, "mgr", PASSWORD).post("/_dash-update-component", json=body).status_code == 403
    assert accounts.user(ctx.engine, "wu") is None and len(admin_audit(ctx.engine)) == 1

"""The gate over HTTP (DESIGN.md section 5a): anonymous requests, logins, lockout, roles,
CSRF, security headers, display tokens, and the no-login mode for this computer only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from dashboard.app import create_app
from datasource import accounts
from datasource.audit import audit_entries
from datasource.demo import generate, seed_store
from datasource.schema import AuditEntry, Order
from datasource.scope import Scope, parse_scope_terms
from datasource.settings import Settings
from tests.web_client import GRID_KEY, browser_client, export_body, grid_body, sign_in

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
KEY = "k" * 40
PASSWORD = "a long enough password"
WIP = "?days=90&metric=wip"
def grid_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    return response.get_json()["response"][GRID_KEY]["getRowsResponse"]["rowData"]


@pytest.fixture
def site(store, tmp_path):
    seed_store(store.engine, store.pipeline, generate(seed=4, n_orders=300, end=END))
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline,
                        secret_key=KEY)
    app = create_app(settings, engine=store.engine)
    app.server.config["ORDERBOARD_CONTEXT"].service.clock = lambda: END
    now = datetime.now(timezone.utc)
    accounts.add_user(store.engine, "boss", "admin", PASSWORD, Scope(), now)
    accounts.add_user(store.engine, "lina", "manager", PASSWORD, parse_scope_terms(["line=Line A"]), now)
    accounts.add_user(store.engine, "viewer", "viewer", PASSWORD, parse_scope_terms(["line=Line A"]), now)
    return app, store


def test_anonymous_requests_go_to_the_login_or_get_401(site):
    app, _ = site
    client = app.server.test_client()
    for path in ("/", "/stages/all?days=7", "/wall", "/review", "/orders/X", "/alerts", "/admin"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login?next="), path
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401, path
    assert client.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 401
    assert client.get("/login").status_code == 200
    assert client.get("/assets/base.css").status_code == 200
    assert client.post("/login", data={"name": "boss", "password": PASSWORD}).status_code == 400  # no CSRF


def test_a_login_opens_the_pages_and_is_audited(site):
    app, store = site
    client = app.server.test_client()
    response = sign_in(client, "boss", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout").text
    assert "boss" in layout
    entries = audit_entries(store.engine, action="login")
    assert entries["actor"].tolist() == ["boss"]


def test_callbacks_without_the_csrf_token_are_refused(site):
    app, _ = site
    client = app.server.test_client()
    sign_in(client, "boss", PASSWORD)
    assert client.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 400
    signed = browser_client(app.server, "boss", PASSWORD)
    assert grid_rows(signed.post("/_dash-update-component", json=grid_body(search=WIP)))


def test_ten_wrong_passwords_lock_the_account_and_every_attempt_is_audited(site):
    app, store = site
    client = app.server.test_client()
    for i in range(accounts.LOCK_AFTER):
        response = sign_in(client, "lina", f"wrong password {i}", address=f"10.9.0.{i}")
        assert response.status_code == 401
    assert "locked" in response.text.lower() or "尝试次数过多" in response.text
    refused = sign_in(client, "lina", PASSWORD, address="10.9.0.200")  # the right one, while locked
    assert refused.status_code == 401 and client.get("/").status_code == 302
    failed = audit_entries(store.engine, action="login_failed")
    assert len(failed) == accounts.LOCK_AFTER + 1 and set(failed["actor"]) == {"lina"}
    assert len(audit_entries(store.engine, action="lockout")) == 1


def test_scoped_users_get_only_their_rows_and_only_managers_export(site):
    app, store = site
    with store.engine.connect() as conn:
        line_a = set(conn.execute(select(Order.order_number).where(Order.production_line == "Line A")).scalars())
    boss = browser_client(app.server, "boss", PASSWORD)
    lina = browser_client(app.server, "lina", PASSWORD)
    viewer = browser_client(app.server, "viewer", PASSWORD)
    for _ in range(2):  # alternating, through one shared cache
        everything = {r["order_number"] for r in grid_rows(boss.post("/_dash-update-component", json=grid_body(search=WIP)))}
        scoped = {r["order_number"] for r in grid_rows(lina.post("/_dash-update-component", json=grid_body(search=WIP)))}
        assert everything - line_a and scoped == everything & line_a
    assert lina.post("/_dash-update-component", json=export_body(WIP)).status_code == 200
    assert viewer.post("/_dash-update-component", json=export_body(WIP)).status_code == 403
    exports = audit_entries(store.engine, action="export")
    assert exports["actor"].tolist() == ["lina"]


def test_a_disabled_user_is_signed_out_at_the_next_request(site):
    app, store = site
    client = browser_client(app.server, "lina", PASSWORD)
    assert client.get("/").status_code == 200
    accounts.set_disabled(store.engine, "lina", True, datetime.now(timezone.utc))
    assert client.get("/").status_code == 302
    assert client.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 401


def test_an_idle_session_ends(site):
    app, store = site
    client = browser_client(app.server, "lina", PASSWORD)
    with client.session_transaction() as session:
        session["seen"] = (datetime.now(timezone.utc) - timedelta(minutes=61)).timestamp()
    assert client.get("/").status_code == 302
    assert audit_entries(store.engine, action="logout")["detail"].tolist() == ["idle timeout"]


def test_every_answer_carries_security_headers_and_the_session_cookie_is_strict(site):
    app, _ = site
    client = app.server.test_client()
    form = client.get("/login")
    headers = form.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    response = sign_in(client, "boss", PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("orderboard_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_login_sends_back_only_to_this_site(site):
    app, _ = site
    client = app.server.test_client()
    form = client.get("/login?next=//evil.example/x")
    assert "evil.example" not in form.text
    assert client.get("/login?next=/stages/all").status_code == 200


def test_a_display_token_opens_its_wall_and_nothing_else(site):
    app, store = site
    token, secret = accounts.create_token(store.engine, "line=Line+A&views=main",
                                          parse_scope_terms(["line=Line A"]), "boss", datetime.now(timezone.utc))
    tv = app.server.test_client()
    assert tv.get(f"/wall?token={secret}").status_code == 200
    assert tv.get("/wall").status_code == 200  # signed in for walls now
    for path in ("/", "/stages/all", "/orders/X", "/review", "/admin"):
        assert tv.get(path).status_code == 403, path
    tv.environ_base["HTTP_X_CSRFTOKEN"] = tv.get_cookie("_csrf_token").value
    assert tv.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 403
    assert audit_entries(store.engine, action="token_use")["actor"].tolist() == [f"token:{token.id}"]
    accounts.revoke_token(store.engine, token.id, datetime.now(timezone.utc))
    revoked = tv.get("/wall")
    assert revoked.status_code == 403 and ("revoked" in revoked.text or "撤销" in revoked.text)
    assert tv.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 401  # the open wall reloads
    fresh = app.server.test_client().get(f"/wall?token={secret}")
    assert fresh.status_code == 403 and ("revoked" in fresh.text or "撤销" in fresh.text)
    assert app.server.test_client().get("/wall?token=nonsense").status_code == 403


def test_without_a_secret_key_only_this_computer_is_served(store, tmp_path):
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    app = create_app(settings, engine=store.engine)
    local = app.server.test_client()
    assert local.get("/").status_code == 200
    assert "仅限本机" in json.dumps(local.get("/_dash-layout").get_json(), ensure_ascii=False)
    remote = app.server.test_client()
    remote.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    refused = remote.get("/")
    assert refused.status_code == 403 and "ORDERBOARD_SECRET_KEY" in refused.text
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_the_host_allow_list_refuses_other_host_names(store, tmp_path):
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline,
                        secret_key=KEY, allowed_hosts="board.example.com, localhost")
    client = create_app(settings, engine=store.engine).server.test_client()
    assert client.get("/login", headers={"Host": "board.example.com"}).status_code == 200
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400


def test_the_login_page_speaks_the_asked_language_and_offers_the_other(site):
    app, _ = site
    client = app.server.test_client()
    zh = client.get("/login?next=/review").text
    assert "登录 OrderBoard" in zh and "lang=en" in zh and "next=%2Freview" in zh
    en = client.get("/login?lang=en").text
    assert "Sign in to OrderBoard" in en and "中文" in en


def test_the_signed_in_line_speaks_the_page_s_language_and_links_admins_to_admin(site):
    app, _ = site
    boss = browser_client(app.server, "boss", PASSWORD)
    english = json.dumps(boss.get("/_dash-layout", headers={"Referer": "http://x/review?lang=en"}).get_json())
    assert "boss (admin)" in english and "/admin?lang=en" in english and "Sign out" in english
    lina = browser_client(app.server, "lina", PASSWORD)
    chinese = json.dumps(lina.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "lina（manager）" in chinese and "/admin" not in chinese


def test_while_the_store_cannot_be_read_a_session_is_refused_with_503_not_a_traceback(site, monkeypatch, caplog):
    app, _ = site
    client = browser_client(app.server, "lina", PASSWORD)
    from sqlalchemy.exc import OperationalError

    def down(*_a, **_k):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(accounts, "user_by_id", down)
    monkeypatch.setattr(accounts, "token_by_secret", down)
    with caplog.at_level("ERROR"):
        assert client.get("/").status_code == 503
        assert client.post("/_dash-update-component", json=grid_body(search=WIP)).status_code == 503
        assert app.server.test_client().get("/wall?token=abc").status_code == 503
    assert not [r for r in caplog.records if r.exc_info]

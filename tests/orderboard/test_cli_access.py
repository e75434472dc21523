"""``orderboard user``, ``token``, ``audit`` and ``demo --with-users``: every change done
and audited with the OS user as the actor; every bad input one line, with nothing changed."""

from __future__ import annotations

import csv
import getpass
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text
from stores import access_snapshot as snapshot
from typer.testing import CliRunner

from datasource import accounts
from datasource.audit import record_audit
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.schema import AuditEntry, User
from datasource.scope import Scope, parse_scope_terms
from datasource.store import make_engine
from orderboard import serving
from orderboard.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery"
ACTOR = f"cli:{getpass.getuser()}"


def invoke(url: str, *args: str, stdin: str | None = None):
    return runner.invoke(app, [*args, "--db", url], input=stdin, prog_name="orderboard")


def one_error_line(result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


def audit_rows(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.action != "ingest").order_by(AuditEntry.id))]


@pytest.fixture
def with_orders(store):
    """A store with two orders, so scope values can be checked against the data."""
    t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    ingest(store.engine, store.pipeline,
           [OrderRecord("SO-1", production_line="Line A", owner="张伟", channel="direct"),
            OrderRecord("SO-2", production_line="Line B", owner="王芳", channel="online")],
           [EventRecord(n, "placed", "enter", t) for n in ("SO-1", "SO-2")])
    return store


def test_users_are_added_changed_and_listed_with_an_audit_entry_each(with_orders):
    url, engine = with_orders.url, with_orders.engine
    added = invoke(url, "user", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.splitlines() == ["added alice: admin; sees every order"]
    assert accounts.login(engine, "alice", PASSWORD, "10.0.0.1", datetime.now(timezone.utc)).account is not None
    li = invoke(url, "user", "add", "li", "--role", "viewer", "--scope", "line=Line A", "--scope", "owner=张伟",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert li.stdout.splitlines() == ["added li: viewer; sees owner=张伟; line=Line A"]
    assert accounts.user(engine, "li").scope == parse_scope_terms(["line=Line A", "owner=张伟"])
    assert invoke(url, "user", "role", "li", "manager").stdout.strip() == "li: manager; sees owner=张伟; line=Line A"
    changed = invoke(url, "user", "scope", "li", "--scope", 'line="Line C"')
    assert changed.stdout.splitlines() == [
        "li: manager; sees line=Line C",
        "note: line=Line C matches no order yet (line values: Line A, Line B)"]
    assert invoke(url, "user", "scope", "li", "--none").stdout.strip() == "li: manager; sees no orders"
    assert invoke(url, "user", "disable", "li").exit_code == 0
    assert accounts.user(engine, "li").disabled
    assert invoke(url, "user", "enable", "li").exit_code == 0
    assert invoke(url, "user", "passwd", "li", "--password-stdin", stdin="another long password\n").exit_code == 0
    assert accounts.login(engine, "li", "another long password", "10.0.0.1",
                          datetime.now(timezone.utc)).account is not None
    listed = json.loads(invoke(url, "user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["scope"], u["disabled"]) for u in listed] == [
        ("alice", "admin", "every order", False), ("li", "manager", "no orders", False)]
    assert listed[1]["last_login"] is not None and listed[0]["last_login"] is not None
    table = invoke(url, "user", "list").stdout
    assert "alice" in table and "every order" in table and "no orders" in table
    assert audit_rows(engine) == [
        (ACTOR, "user_add", "user:alice"), (ACTOR, "user_add", "user:li"), (ACTOR, "user_change", "user:li"),
        (ACTOR, "user_change", "user:li"), (ACTOR, "user_change", "user:li"), (ACTOR, "user_disable", "user:li"),
        (ACTOR, "user_enable", "user:li"), (ACTOR, "user_passwd", "user:li")]
    assert PASSWORD not in json.dumps(snapshot(engine), default=str)


def test_the_password_is_prompted_for_twice_hidden(sqlite_store):
    result = invoke(sqlite_store.url, "user", "add", "wang", "--role", "manager", "--scope", "channel=online",
                    stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.stdout, "typed, not echoed"
    assert result.stdout.splitlines()[:2] == ["password for wang: ", "the same password again: "]
    assert accounts.login(sqlite_store.engine, "wang", PASSWORD, "10.0.0.1",
                          datetime.now(timezone.utc)).account is not None


def test_a_viewer_without_scope_is_told_it_sees_nothing(sqlite_store):
    result = invoke(sqlite_store.url, "user", "add", "zhao", "--role", "viewer", "--password-stdin",
                    stdin=PASSWORD + "\n")
    assert result.stdout.splitlines() == [
        "added zhao: viewer; sees no orders",
        "note: zhao sees no orders until given a scope (orderboard user scope zhao --scope DIMENSION=VALUE)"]


@pytest.mark.parametrize("args, stdin, code, message", [
    (["user", "add", "bob", "--role", "boss", "--password-stdin"], PASSWORD, 2,
     "--role boss: no such role (one of viewer, manager, admin)"),
    (["user", "add", "bob", "--role", "viewer", "--scope", "lane=A", "--password-stdin"], PASSWORD, 2,
     "scope 'lane=A': write DIMENSION=VALUE with DIMENSION one of line, customer, channel, product, owner "
     "(e.g. line=\"Line A\")"),
    (["user", "add", "bob", "--role", "viewer", "--scope", "line=", "--password-stdin"], PASSWORD, 2,
     "scope 'line=' names no value"),
    (["user", "add", "bob", "--role", "viewer", "--password-stdin"], "short", 2,
     "a password needs at least 10 characters"),
    (["user", "add", "bob", "--role", "viewer", "--password-stdin"], "", 2,
     "--password-stdin: stdin has no password line"),
    (["user", "add", "bob", "--role", "admin", "--scope", "line=A", "--password-stdin"], PASSWORD, 2,
     "an admin sees every order: give --scope to viewers and managers only"),
    (["user", "add", "alice", "--role", "viewer", "--password-stdin"], PASSWORD, 1,
     "user 'alice' exists already"),
    (["user", "passwd", "nobody", "--password-stdin"], PASSWORD, 1, "no user 'nobody'"),
    (["user", "passwd", "alice", "--password-stdin"], "short", 2, "a password needs at least 10 characters"),
    (["user", "role", "nobody", "viewer"], None, 1, "no user 'nobody'"),
    (["user", "role", "alice", "boss"], None, 2, "role boss: no such role (one of viewer, manager, admin)"),
    (["user", "role", "alice", "viewer"], None, 1,
     "'alice' is the last enabled admin: make another user admin first"),
    (["user", "disable", "alice"], None, 1, "'alice' is the last enabled admin: make another user admin first"),
    (["user", "disable", "nobody"], None, 1, "no user 'nobody'"),
    (["user", "enable", "nobody"], None, 1, "no user 'nobody'"),
    (["user", "scope", "nobody", "--scope", "line=Line A"], None, 1, "no user 'nobody'"),
    (["user", "scope", "alice", "--scope", "line=Line A"], None, 1,
     "'alice' is an admin and sees every order: change the role first"),
    (["user", "scope", "alice"], None, 2, "give --scope DIMENSION=VALUE (repeat it for several) or --none"),
    (["user", "scope", "alice", "--scope", "x", "--none"], None, 2,
     "give --scope DIMENSION=VALUE (repeat it for several) or --none"),
    (["token", "create", "--wall", "/wall?views=kpi"], None, 2,
     "--wall /wall?views=kpi names no line or channel: say which orders the TV may show with --scope "
     "DIMENSION=VALUE (e.g. --scope line=\"Line A\") or --all for every order"),
    (["token", "create", "--wall", "/stages/all?line=Line+A"], None, 2,
     "--wall: /stages/all?line=Line+A is not a wall URL: a wall's path is /wall or /wall/VIEW"),
    (["token", "create", "--wall", "/wall", "--all", "--scope", "line=A"], None, 2, "give --scope or --all, not both"),
    (["token", "create", "--wall", "/wall", "--scope", "colour=red"], None, 2,
     "scope 'colour=red': write DIMENSION=VALUE with DIMENSION one of line, customer, channel, product, owner "
     "(e.g. line=\"Line A\")"),
    (["token", "revoke", "99"], None, 1, "no display token 99"),
    (["audit", "--since", "2026-13-01"], None, 2, "--since 2026-13-01 is not a date (YYYY-MM-DD)"),
    (["audit", "--since", "2026-11-09", "--until", "2026-11-01"], None, 2,
     "--since 2026-11-09 is after --until 2026-11-01"),
    (["audit", "--action", "delete"], None, 2,
     "--action delete: no such action (one of login, login_failed, lockout, logout, view, export, token_use, "
     "user_add, user_change, user_disable, user_enable, user_passwd, token_create, token_revoke, acknowledge, "
     "ingest)"),
    (["audit", "--csv", "x.csv", "--json"], None, 2, "give --csv FILE or --json, not both"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_input_is_one_line_and_changes_nothing(sqlite_store, args, stdin, code, message):
    accounts.add_user(sqlite_store.engine, "alice", "admin", PASSWORD, Scope(), datetime.now(timezone.utc))
    before = snapshot(sqlite_store.engine)
    result = invoke(sqlite_store.url, *args, stdin=None if stdin is None else stdin + "\n")
    assert one_error_line(result, code) == message
    assert snapshot(sqlite_store.engine) == before


def test_a_missing_store_is_refused_and_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    message = one_error_line(invoke(url, "user", "add", "x", "--role", "viewer", "--password-stdin",
                                    stdin=PASSWORD + "\n"), 1)
    assert message.startswith("no order store at")
    assert not (tmp_path / "none.db").exists()


def test_a_token_takes_the_walls_filters_as_its_scope_and_its_link_is_shown_once(with_orders, monkeypatch):
    url, engine = with_orders.url, with_orders.engine
    monkeypatch.setenv("ORDERBOARD_PUBLIC_URL", "https://board.example.com/")
    result = invoke(url, "token", "create", "--wall", "https://x.example/wall/kpi?line=Line+A&token=old&bogus=1",
                    "--label", "hall TV")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "display token 1 (hall TV): /wall?views=kpi&line=Line+A, sees line=Line A"
    assert "shown this once" in lines[1]
    link = urlsplit(lines[2])
    assert (link.scheme, link.netloc, link.path) == ("https", "board.example.com", "/wall")
    query = parse_qs(link.query)
    assert query["views"] == ["kpi"] and query["line"] == ["Line A"] and "bogus" not in query
    token = accounts.token_by_secret(engine, query["token"][0])
    assert token is not None and token.id == 1 and token.scope == parse_scope_terms(["line=Line A"])
    assert len(lines) == 3
    # the secret is never stored nor listed
    listed = invoke(url, "token", "list", "--json").stdout
    assert query["token"][0] not in listed and query["token"][0] not in json.dumps(snapshot(engine), default=str)
    assert json.loads(listed)[0] | {"created_at": None} == {
        "id": 1, "label": "hall TV", "wall": "/wall?views=kpi&line=Line+A", "scope": "line=Line A",
        "created_by": ACTOR, "created_at": None, "last_used": None, "revoked": None}
    # --all, and --scope instead of the wall's filters
    everything = invoke(url, "token", "create", "--wall", "views=main", "--all")
    assert "sees every order" in everything.stdout
    assert accounts.token_by_id(engine, 2).scope.is_everything
    scoped = invoke(url, "token", "create", "--wall", "/wall?line=Line+A", "--scope", "owner=陈静")
    assert scoped.stdout.splitlines()[0] == "display token 3: /wall?line=Line+A, sees owner=陈静"
    assert scoped.stdout.splitlines()[-1] == "note: owner=陈静 matches no order yet (owner values: 张伟, 王芳)"
    revoked = invoke(url, "token", "revoke", "1")
    assert revoked.stdout.startswith("revoked display token 1 (hall TV)")
    assert accounts.token_by_id(engine, 1).revoked_at is not None
    assert "revoked already" in invoke(url, "token", "revoke", "1").stdout
    assert audit_rows(engine) == [(ACTOR, "token_create", "token:1"), (ACTOR, "token_create", "token:2"),
                                  (ACTOR, "token_create", "token:3"), (ACTOR, "token_revoke", "token:1")]
    table = invoke(url, "token", "list").stdout
    assert "hall TV" in table and "every order" in table


def test_a_link_to_this_computer_is_pointed_out(sqlite_store, monkeypatch):
    monkeypatch.delenv("ORDERBOARD_PUBLIC_URL", raising=False)
    result = invoke(sqlite_store.url, "token", "create", "--wall", "/wall?channel=online")
    assert result.stdout.splitlines()[2].startswith("http://127.0.0.1:8050/wall?channel=online&token=")
    assert result.stdout.splitlines()[3].startswith("note: the link starts with http://127.0.0.1:8050")


@pytest.fixture
def audited(store):
    """Entries over ten days around the Shanghai day boundary (16:00 UTC)."""
    t0 = datetime(2026, 11, 1, 15, 30, tzinfo=timezone.utc)
    for i in range(40):
        record_audit(store.engine, ("alice", "bob", "cli:root", "token:1")[i % 4],
                     ("login", "export", "view", "user_add", "token_use")[i % 5], f"/t/{i}", f"entry {i}",
                     at=t0 + timedelta(hours=6 * i))
    return store


def sql_count(engine, where: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"select count(*) from audit_log where {where}"), params).scalar_one()


def test_audit_filters_match_a_plain_sql_count(audited):
    url, engine = audited.url, audited.engine
    # local days in Asia/Shanghai: 2026-11-03 .. 2026-11-05 is [11-02 16:00, 11-05 16:00) UTC
    start, end = datetime(2026, 11, 2, 16), datetime(2026, 11, 5, 16)
    expected = sql_count(engine, "at >= :s and at < :e and actor = 'alice'", s=start, e=end)
    rows = json.loads(invoke(url, "audit", "--since", "2026-11-03", "--until", "2026-11-05", "--actor", "alice",
                             "--json").stdout)
    assert len(rows) == expected > 0
    assert all(r["actor"] == "alice" and "2026-11-03" <= r["at"][:10] <= "2026-11-05" for r in rows)
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    assert rows[0]["at"].endswith("+08:00")
    by_action = json.loads(invoke(url, "audit", "--action", "export", "--json").stdout)
    assert len(by_action) == sql_count(engine, "action = 'export'") == 8
    table = invoke(url, "audit", "--limit", "5")
    assert "the newest 5 of 40 entries" in table.stdout and "entry 39" in table.stdout


def test_audit_writes_csv(audited, tmp_path):
    out = tmp_path / "audit.csv"
    result = invoke(audited.url, "audit", "--action", "login", "--csv", str(out))
    assert result.stdout.strip() == f"wrote 8 audit entries to {out}"
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["at", "actor", "action", "target", "detail"]
    assert len(rows) == 8 and {r["action"] for r in rows} == {"login"}
    assert rows[0]["at"].endswith("+0800")


def test_demo_with_users_creates_them_once_and_turns_logins_on(tmp_path, monkeypatch):
    seen = {}

    def fake_serve(settings, host, port, engine, jobs):
        seen["settings"] = settings
        engine.dispose()

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERBOARD_SECRET_KEY", raising=False)
    monkeypatch.setattr(serving, "serve_app", fake_serve)
    first = runner.invoke(app, ["demo", "--orders", "60", "--no-feed", "--with-users"])
    assert first.exit_code == 0, first.stderr
    lines = {line.split()[0]: line for line in first.stdout.splitlines() if "password:" in line}
    assert set(lines) == {"demo", "line-a", "sales-zhang"}
    assert "admin, sees every order" in lines["demo"]
    assert "manager, sees line=Line A" in lines["line-a"] and "viewer, sees owner=张伟" in lines["sales-zhang"]
    key = seen["settings"].secret_key
    assert key and len(key) >= 32 and key not in first.stdout
    assert "logins: on" in first.stdout
    engine = make_engine("sqlite:///orderboard-demo.db")
    try:
        for name, line in lines.items():
            password = line.rsplit("password: ", 1)[1].strip()
            assert accounts.login(engine, name, password, "10.0.0.1", datetime.now(timezone.utc)).account
        assert {a for _, a, _ in audit_rows(engine)} == {"user_add"}
        # logins are on, so the demo may serve other computers too
        again = runner.invoke(app, ["demo", "--orders", "60", "--no-feed", "--with-users", "--host", "0.0.0.0"])
        assert again.exit_code == 0 and "password:" not in again.stdout
        assert "demo users demo, line-a, sales-zhang exist already" in again.stdout
        assert "orderboard user passwd NAME" in again.stdout
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 3
        assert seen["settings"].secret_key != key, "a new key for each run"
    finally:
        engine.dispose()


def test_demo_without_users_keeps_logins_as_configured(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERBOARD_SECRET_KEY", raising=False)
    monkeypatch.setattr(serving, "serve_app",
                        lambda settings, host, port, engine, jobs: (seen.update(s=settings), engine.dispose()))
    result = runner.invoke(app, ["demo", "--orders", "60", "--no-feed"])
    assert result.exit_code == 0 and seen["s"].secret_key is None and "password" not in result.stdout

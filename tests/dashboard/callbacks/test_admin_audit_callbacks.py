"""The audit log page ``/admin/audit``: its filters and pages agree with a plain SQL count,
and its CSV export holds the same entries and is itself audited. Admins only."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from werkzeug.exceptions import Forbidden

from dashboard import access
from dashboard.access import Principal
from dashboard.app import create_app
from dashboard.callbacks.admin_audit import export_csv, filters_from, get_rows, render_grid
from datasource.audit import audit_entries, record_audit
from datasource.scope import Scope
from datasource.settings import Settings

T0 = datetime(2026, 11, 1, 15, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
BOSS = Principal("boss", "admin", Scope.everything(), "user", user_id=1)
ACTORS = ("alice", "bob", "cli:root", "token:1")
ACTIONS = ("login", "export", "view", "user_add", "token_use")


@pytest.fixture
def audited(store, tmp_path):
    """250 entries, one every 3 hours from 2026-11-01 15:30 UTC (23:30 in Shanghai)."""
    for i in range(250):
        record_audit(store.engine, ACTORS[i % 4], ACTIONS[i % 5], f"/t/{i}", f"entry {i}",
                     at=T0 + timedelta(hours=3 * i))
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    app = create_app(settings, engine=store.engine)
    token = access.set_current(BOSS)
    yield app.server.config["ORDERBOARD_CONTEXT"], store
    access.reset(token)


def sql_count(engine, where: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"select count(*) from audit_log where {where}"), params).scalar_one()


@pytest.mark.parametrize("since, until, actor, action, where, params", [
    # local days in Asia/Shanghai (UTC+8): 11-03 .. 11-05 is [11-02 16:00, 11-05 16:00) UTC
    ("2026-11-03", "2026-11-05", None, None, "at >= :s and at < :e",
     {"s": datetime(2026, 11, 2, 16), "e": datetime(2026, 11, 5, 16)}),
    ("2026-11-03", None, "alice", None, "at >= :s and actor = 'alice'", {"s": datetime(2026, 11, 2, 16)}),
    (None, "2026-11-10", None, "export", "at < :e and action = 'export'", {"e": datetime(2026, 11, 10, 16)}),
    (None, None, "cli:root", "view", "actor = 'cli:root' and action = 'view'", {}),
    (None, None, None, None, "1 = 1", {}),
])
def test_filters_agree_with_a_plain_sql_count(audited, since, until, actor, action, where, params):
    ctx, store = audited
    filters = filters_from(since, until, actor, action)
    expected = sql_count(store.engine, where, **params)
    assert expected > 0
    _grid, shown, total_text, note = render_grid(ctx, filters, "en")
    assert shown == filters and total_text == f"{expected:,} entries" and note == ""
    rows, seen = [], None
    for start in range(0, expected, 100):
        block = get_rows(ctx, filters, {"startRow": start, "endRow": start + 100})
        seen = block["rowCount"]
        rows += block["rowData"]
    assert seen == expected and len(rows) == expected
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    if since:
        assert min(r["at"] for r in rows) >= f"{since} 00:00:00"
    if until:
        assert max(r["at"] for r in rows) <= f"{until} 23:59:59"
    assert all(r["actor"] == actor for r in rows) if actor else True
    assert all(r["action"] == action for r in rows) if action else True


def test_bad_filters_are_ignored_and_backwards_days_show_nothing(audited):
    ctx, _store = audited
    assert filters_from("2026-13-01", "yesterday", "  ", "drop table") == {
        "since": None, "until": None, "actor": None, "action": None}
    backwards = filters_from("2026-11-09", "2026-11-01", None, None)
    _grid, _shown, total_text, note = render_grid(ctx, backwards, "en")
    assert (total_text, note) == ("0 entries", "The first day is after the last day.")
    assert get_rows(ctx, backwards, {"startRow": 0, "endRow": 100}) == {"rowData": [], "rowCount": 0}


def test_the_csv_export_holds_the_filtered_entries_and_is_audited(audited):
    ctx, store = audited
    filters = filters_from("2026-11-03", "2026-11-12", None, "login")
    download, note = export_csv(ctx, filters, "en", now=NOW)
    assert note == ""
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(download["content"]).decode("utf-8-sig"))))
    expected = sql_count(store.engine, "at >= :s and at < :e and action = 'login'",
                         s=datetime(2026, 11, 2, 16), e=datetime(2026, 11, 12, 16))
    assert len(rows) == expected and {r["action"] for r in rows} == {"login"}
    assert list(rows[0]) == ["at", "actor", "action", "target", "detail"]
    exports = audit_entries(store.engine, actor="boss", action="export")
    assert len(exports) == 1 and exports["at"].iloc[0] == NOW
    newest = exports.iloc[0]
    assert newest.target == "/admin/audit?since=2026-11-03&until=2026-11-12&action=login"
    assert newest.detail == f"csv, {expected} of {expected} entries, {download['filename']}"


def test_no_one_but_an_admin_reads_it(audited):
    ctx, _store = audited
    manager = Principal("mgr", "manager", Scope.everything(), "user", user_id=2)
    token = access.set_current(manager)
    try:
        for call in (lambda: render_grid(ctx, {}, "en"), lambda: get_rows(ctx, {}, {"startRow": 0, "endRow": 10}),
                     lambda: export_csv(ctx, {}, "en")):
            with pytest.raises(Forbidden):
                call()
    finally:
        access.reset(token)
    assert json.dumps(get_rows(ctx, {}, {"startRow": 0, "endRow": 1})["rowData"])  # the admin again

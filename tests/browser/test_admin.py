"""The admin page in headless Chromium, with logins on: an admin signs in, adds a user and
creates a wall display token (whose link, shown once, signs a TV in); the console stays
clean. The screenshot is written to ``ORDERBOARD_SCREENSHOT_DIR`` when set (to look at)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from dashboard.app import create_app
from datasource import accounts
from datasource.demo import generate, seed_store
from datasource.scope import Scope, parse_scope_terms
from datasource.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def app_url(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=200, end=end))
    now = datetime.now(timezone.utc)
    accounts.add_user(sqlite_store.engine, "boss", "admin", PASSWORD, Scope(), now)
    accounts.add_user(sqlite_store.engine, "line-a", "manager", PASSWORD, parse_scope_terms(["line=Line A"]), now)
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline, secret_key="k" * 40)
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    return url, sqlite_store


def test_an_admin_adds_a_user_and_a_token_on_the_admin_page(app_url, open_page, tmp_path):
    url, store = app_url
    page = open_page(url + "/admin?lang=en", width=1600, height=1000, wait_for="form.ob-login")
    page.fill("input[name=name]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#admin-users-grid .ag-row[row-id='line-a']")
    assert page.url.endswith("/admin?lang=en")

    page.fill("#admin-add-name", "zhou")
    page.fill("#admin-add-scope", "line=Line B; owner=张伟, 王芳")
    page.fill("#admin-add-password", "a long new password")
    page.click("#admin-add")
    page.wait_for_selector("#admin-users-grid .ag-row[row-id='zhou']")
    assert "Added zhou (viewer, sees owner=张伟, 王芳; line=Line B)." in page.inner_text("#admin-note")
    assert page.input_value("#admin-add-password") == ""
    assert accounts.user(store.engine, "zhou").scope == parse_scope_terms(
        ["line=Line B", "owner=张伟", "owner=王芳"])

    page.click("#admin-users-grid .ag-row[row-id='line-a'] [col-id='name']")
    page.wait_for_function("document.querySelector('#admin-selected').innerText === 'line-a'")
    assert page.input_value("#admin-sel-scope") == "line=Line A"

    page.fill("#admin-token-wall", "/wall?line=Line A&views=main,kpi")
    page.fill("#admin-token-label", "hall TV 1")
    page.click("#admin-create-token")
    page.wait_for_selector("#admin-token-link-text")
    link = page.inner_text("#admin-token-link-text")
    assert "/wall?line=Line+A&views=main%2Ckpi&token=" in link
    assert "Created token 1 (sees line=Line A)." in page.inner_text("#admin-token-note")
    page.wait_for_selector("#admin-tokens-grid .ag-row[row-id='1']")
    # the grids draw Chinese in the page's font (AG Grid's own stack has no CJK face here)
    fonts = page.eval_on_selector_all("#admin-users-grid .ag-cell",
                                      "cells => [...new Set(cells.map(c => getComputedStyle(c).fontFamily))]")
    assert fonts and all(f.startswith('"OrderBoard Sans"') for f in fonts), fonts

    shots = Path(os.environ.get("ORDERBOARD_SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(shots / "admin.png"), full_page=True)

    # the audit log lists both changes, newest first, and filters by action
    page.click("text=Audit log")
    page.wait_for_selector(".ag-row[row-index='0'] [col-id='action']")
    page.fill("#audit-actor", "boss")
    page.press("#audit-actor", "Enter")
    page.wait_for_function("document.querySelector('#audit-total').innerText.startsWith('3 ')")
    page.wait_for_function("""() => [...document.querySelectorAll(
        ".ag-center-cols-container .ag-row [col-id='actor']")].map(c => c.innerText).join() === 'boss,boss,boss'""")
    actions = page.eval_on_selector_all(".ag-center-cols-container .ag-row [col-id='action']",
                                        "cells => cells.map(c => c.innerText)")
    assert sorted(actions) == ["login", "token_create", "user_add"]
    page.screenshot(path=str(shots / "admin-audit.png"))
    # a last day before today (in the store's zone) leaves none of them
    yesterday = (datetime.now(ZoneInfo(store.pipeline.timezone)) - timedelta(days=1)).date().isoformat()
    page.fill("#audit-until", yesterday)
    page.press("#audit-until", "Enter")
    page.wait_for_function("document.querySelector('#audit-total').innerText.startsWith('0 ')")

    # the link signs a TV in (another browser, no login) and shows the wall
    parts = urlsplit(link)  # the link starts with the public_url setting (default: port 8050)
    tv = open_page(f"{url}{parts.path}?{parts.query}", width=1280, height=720, wait_for="#wall-root")
    assert "Line A" in tv.inner_text("header")
    token = accounts.list_tokens(store.engine)[0]
    assert token.label == "hall TV 1" and token.last_used_at is not None

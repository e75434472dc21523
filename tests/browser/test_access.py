"""Logins and display tokens in a real browser: a Line A manager signs in and sees Line A
only; a wall TV opens its token link, shows its board, and when the token is revoked
turns to a clear "token revoked" page by itself.

``ORDERBOARD_SCREENSHOTS=docs/screenshots pytest tests/browser/test_access.py`` also
writes login.png and wall-token.png there.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from datasource import accounts
from datasource.demo import generate, seed_store
from datasource.schema import Order
from datasource.scope import Scope, parse_scope_terms
from datasource.settings import Settings

SHOTS = os.environ.get("ORDERBOARD_SCREENSHOTS")
PASSWORD = "a long enough password"


@pytest.fixture
def site(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=800, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline, secret_key="s" * 40)
    now = datetime.now(timezone.utc)
    accounts.add_user(sqlite_store.engine, "boss", "admin", PASSWORD, Scope(), now)
    accounts.add_user(sqlite_store.engine, "lina", "manager", PASSWORD, parse_scope_terms(["line=Line A"]), now)
    return live_server(create_app(settings, engine=sqlite_store.engine)), sqlite_store


def shot(page, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path))
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / name)


def test_a_line_manager_signs_in_and_sees_only_line_a(site, open_page, tmp_path):
    url, store = site
    page = open_page(url + "/stages/all?days=90&metric=wip", width=1366, height=768)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.wait_for_selector("input[name=name]")
    shot(page, "login.png", tmp_path)
    page.fill("input[name=name]", "lina")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/stages/all\?days=90&metric=wip$"))
    page.wait_for_selector(".ag-row [col-id='order_number'] >> text=/SO\\d+/")
    numbers = page.eval_on_selector_all(".ag-row [col-id='order_number']", "cells => cells.map(c => c.innerText)")
    with store.engine.connect() as conn:
        line_a = set(conn.execute(select(Order.order_number).where(Order.production_line == "Line A")).scalars())
    assert numbers and set(numbers) <= line_a
    assert "lina" in page.inner_text(".ob-access")
    # an order of another line is not found for her
    with store.engine.connect() as conn:
        other = conn.execute(select(Order.order_number).where(Order.production_line != "Line A")).scalars().first()
    page.goto(f"{url}/orders/{other}")
    page.wait_for_selector("#order-missing")
    assert "ob-fact" not in page.content()


def test_a_wall_token_opens_its_wall_and_a_revoked_token_says_so(site, browser, tmp_path):
    url, store = site
    token, secret = accounts.create_token(store.engine, "line=Line+A&views=main&refresh=5",
                                          parse_scope_terms(["line=Line A"]), "boss", datetime.now(timezone.utc),
                                          label="TV 1")
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{url}/wall?token={secret}")
        page.wait_for_selector("#wall-root .ob-kpi-value")
        page.wait_for_function("() => !document.querySelector('#wall-root').innerText.includes('等待')")
        assert "Line A" in page.inner_text("#wall-root")
        shot(page, "wall-token.png", tmp_path)
        # the TV cannot open anything but walls
        other = context.new_page()
        other.goto(f"{url}/stages/all")
        assert "只能打开大屏" in other.content() or "walls only" in other.content()
        other.close()
        accounts.revoke_token(store.engine, token.id, datetime.now(timezone.utc))
        page.wait_for_selector("text=/显示令牌已被撤销|display token was revoked/", timeout=30_000)
        assert page.query_selector("#wall-root") is None
    finally:
        context.close()
    assert errors == []

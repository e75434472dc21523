"""The language switch in a real browser: the overview opens in the deployment's
language, a filter is picked, "English" shows the same view (window and filter kept) in
English, and links lead on in English; no console errors."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.settings import Settings

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def app_url(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=600, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    return live_server(create_app(settings, engine=sqlite_store.engine))


def test_the_switch_changes_the_language_and_keeps_the_filters(app_url, open_page):
    page = open_page(app_url + "/?days=30", width=1600, height=1000, wait_for="#ov-kpi-wip .ob-mkpi-value")
    assert page.inner_text(".ob-mtitle") == "订单履约管理概览"
    # pick a line in the filter bar, as a manager would: the URL follows
    page.click("#ov-filter-line")
    page.keyboard.type("Line A")
    # the list narrows to the typed line a moment after the keystrokes (Enter before that
    # picks nothing: the URL then never follows)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dash-dropdown-option')].map(e => e.innerText).join() === 'Line A'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"line=Line\+A"))
    page.wait_for_selector(".ob-scope >> text=/line=Line A/")
    switch = page.locator("a.ob-lang-link[hreflang='en']")
    assert "line=Line+A" in switch.get_attribute("href")  # the switch followed the URL
    switch.click()
    page.wait_for_url(re.compile(r"lang=en"))
    page.wait_for_selector(".ob-mtitle >> text=Order fulfilment overview")
    page.wait_for_selector(".ob-scope >> text=/data as of/")
    assert "days=30" in page.url and "line=Line+A" in page.url
    assert "line=Line A" in page.inner_text(".ob-scope") and "last 30 days" in page.inner_text(".ob-scope")
    assert page.inner_text("#ov-kpi-wip .ob-mkpi-label") == "WIP"
    # the page's texts are English (the switch names the other language in its own script)
    page.wait_for_selector("#ov-bottleneck .main-svg")
    shown = page.evaluate("""() => {
        const root = document.querySelector('.ob-overview');
        const clone = root.cloneNode(true);
        clone.querySelectorAll('.ob-lang-switch').forEach(n => n.remove());
        return clone.innerText; }""")
    assert not CJK.search(shown), [line for line in shown.splitlines() if CJK.search(line)]
    # a tile leads to the list behind it, in English
    page.click("#ov-kpi-wip a")
    page.wait_for_selector("#stage-total >> text=/rows/")
    assert "lang=en" in page.url and "line=Line+A" in page.url
    assert page.inner_text("#stage-title") == "WIP"

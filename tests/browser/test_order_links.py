"""Order numbers in a real browser: real links (a new tab on ctrl-click), percent-encoded
and decoded by the order page (spaces, Chinese, "/" and "#"); the stage list's headers
are whole and its rows over SLA highlighted; the order Gantt's labels clear the legend.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.settings import Settings

NUMBER = "PO 2024/001 #订单"
ENCODED = "/orders/" + quote(NUMBER, safe="")


@pytest.fixture
def app_url(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=400, end=end))
    path = ("placed", "reviewed", "paid", "prepared", "produced")
    start = end - timedelta(hours=300)   # in production for 200 h: over its 72 h SLA
    ingest(sqlite_store.engine, sqlite_store.pipeline,
           [OrderRecord(NUMBER, customer="上海申江化工", promised_at=end + timedelta(days=3))],
           [EventRecord(NUMBER, code, "enter", start + timedelta(hours=25 * i)) for i, code in enumerate(path)],
           actor="test", target="fixture")
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    return live_server(create_app(settings, engine=sqlite_store.engine))


def test_an_order_number_with_space_chinese_slash_and_hash_opens_its_page(app_url, open_page):
    page = open_page(app_url + ENCODED, width=1400, height=900, wait_for="#order-status")
    assert NUMBER in page.inner_text("#order-title")
    assert page.query_selector("#order-missing") is None
    # typed with spaces, as a person would: the browser sends %20, the page decodes it
    typed = open_page(app_url + "/orders/PO 2024 001?lang=en", width=1400, height=900, wait_for="#order-missing")
    assert "No order PO 2024 001" in typed.inner_text("#order-missing")


def test_grid_order_numbers_are_links_that_open_in_a_new_tab(app_url, open_page):
    page = open_page(app_url + "/stages/produced?view=wip&q=PO%202024", width=1600, height=1000,
                     wait_for=".ag-row[row-index='0'] [col-id='order_number'] a")
    link = page.query_selector(".ag-row[row-index='0'] [col-id='order_number'] a")
    assert link.inner_text() == NUMBER and link.get_attribute("href") == ENCODED
    with page.context.expect_page() as opened:
        link.click(modifiers=["Control"])
    tab = opened.value
    tab.wait_for_selector("#order-status")
    assert NUMBER in tab.inner_text("#order-title")
    assert page.url.endswith("/stages/produced?view=wip&q=PO+2024")   # the list stays where it was
    tab.close()
    page.click(".ag-row[row-index='0'] [col-id='order_number']")   # a plain click: same tab
    page.wait_for_url(re.compile(re.escape(ENCODED) + "$"))
    page.wait_for_selector("#order-status")
    assert NUMBER in page.inner_text("#order-title")


def test_headers_are_whole_and_rows_over_sla_are_highlighted(app_url, open_page, tmp_path):
    page = open_page(app_url + "/stages/produced?view=wip", width=1600, height=1000,
                     wait_for=".ag-row[row-index='0']")
    cut = page.eval_on_selector_all(".ag-header-cell-text", """cells => cells
        .filter(c => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)
        .map(c => c.textContent)""")
    assert cut == []
    texts = page.eval_on_selector_all(".ag-header-cell-text", "cells => cells.map(c => c.textContent)")
    assert "SLA (h)" in texts and not any("SLA h" in t for t in texts)
    rows = page.eval_on_selector_all(".ag-center-cols-container .ag-row", """rows => rows.map(r => ({
        over: r.classList.contains('ob-row--over-sla'),
        time: parseFloat(r.querySelector("[col-id='time_in_stage_h']").textContent),
        sla: parseFloat(r.querySelector("[col-id='sla_h']").textContent),
        background: getComputedStyle(r).backgroundColor}))""")
    assert any(r["over"] for r in rows) and not all(r["over"] for r in rows)
    assert all(r["over"] == (r["time"] > r["sla"]) for r in rows)
    over = {r["background"] for r in rows if r["over"]}
    within = {r["background"] for r in rows if not r["over"]}
    assert len(over) == 1 and not over & within
    page.screenshot(path=str(tmp_path / "stage-over-sla.png"))


def _overlaps(a: dict, b: dict) -> bool:
    return not (a["right"] <= b["left"] or b["right"] <= a["left"]
                or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])


def test_timeline_labels_do_not_cover_the_legend(app_url, open_page, tmp_path):
    page = open_page(app_url + ENCODED, width=1400, height=900, wait_for="#order-timeline .legend")
    page.wait_for_selector("#order-timeline .annotation")
    box = """e => { const r = e.getBoundingClientRect();
                    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""
    legend = page.eval_on_selector("#order-timeline .legend", box)
    labels = page.eval_on_selector_all("#order-timeline .annotation", f"els => els.map({box})")
    texts = page.eval_on_selector_all("#order-timeline .annotation", "els => els.map(e => e.textContent)")
    assert sorted(texts) == ["承诺交期", "现在"]
    assert not any(_overlaps(legend, label) for label in labels)
    assert not _overlaps(labels[0], labels[1])
    page.screenshot(path=str(tmp_path / "order-timeline.png"))

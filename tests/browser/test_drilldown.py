"""Drill-down click paths in a real browser: overview -> stage list -> order and back,
wall -> stage list; the list's total equals the number clicked; no console errors.

``ORDERBOARD_SCREENSHOTS=docs/screenshots pytest tests/browser/test_drilldown.py`` also
writes overview.png, stage.png and order.png there.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.settings import Settings

SHOTS = os.environ.get("ORDERBOARD_SCREENSHOTS")


@pytest.fixture
def app_url(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=1500, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    return live_server(create_app(settings, engine=sqlite_store.engine))


def shot(page, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / name)


def grid_total(page) -> int:
    """The grid's own row count (its paging panel: "1 to 50 of N")."""
    page.wait_for_selector(".ag-paging-row-summary-panel >> text=/of \\d/")
    text = page.inner_text(".ag-paging-row-summary-panel")
    return int(re.search(r"of ([\d,]+)", text).group(1).replace(",", ""))


def listed(page) -> int:
    page.wait_for_selector("#stage-total >> text=/共 [\\d,]+ 单/")
    return int(re.search(r"共 ([\d,]+) 单", page.inner_text("#stage-total")).group(1).replace(",", ""))


def test_overview_to_stage_to_order_and_back(app_url, open_page, tmp_path):
    page = open_page(app_url + "/?days=30", width=1600, height=1000, wait_for="#ov-kpi-delay_rate .ob-mkpi-value")
    page.wait_for_selector("#ov-bottleneck .main-svg")
    late = int(page.get_attribute("#ov-kpi-delay_rate", "data-count"))
    assert late > 0
    shot(page, "overview.png", tmp_path)

    page.click("#ov-kpi-delay_rate a")
    page.wait_for_url(re.compile(r"/stages/all\?days=30&metric=delay_rate$"))
    page.wait_for_selector(".ag-row")
    assert listed(page) == grid_total(page) == late

    page.click(".ag-row[row-index='0'] [col-id='order_number']")
    page.wait_for_url(re.compile(r"/orders/SO\d+$"))
    page.wait_for_selector("#order-timeline .main-svg")
    page.wait_for_selector("#order-events td")
    number = page.url.rsplit("/", 1)[1]
    assert number in page.inner_text("#order-title")

    page.go_back()
    page.wait_for_url(re.compile(r"/stages/all\?days=30&metric=delay_rate$"))
    page.wait_for_selector(".ag-row")
    assert listed(page) == late
    page.go_back()
    page.wait_for_url(re.compile(r"/\?days=30$"))
    page.wait_for_selector("#ov-kpi-delay_rate .ob-mkpi-value")
    assert int(page.get_attribute("#ov-kpi-delay_rate", "data-count")) == late


def test_stage_card_list_sorts_and_the_url_reproduces_it(app_url, open_page, tmp_path):
    page = open_page(app_url + "/", width=1600, height=1000, wait_for="#ov-stage-produced-wip a")
    wip = int(page.get_attribute("#ov-stage-produced-wip", "data-count"))
    page.click("#ov-stage-produced-wip a")
    page.wait_for_url(re.compile(r"/stages/produced\?view=wip$"))
    page.wait_for_selector(".ag-row")
    assert listed(page) == grid_total(page) == wip

    # One click at a time, each waited for: a second click while the grid redraws for the
    # first can be lost (this failed about once in twenty runs under load).
    page.click(".ag-header-cell[col-id='time_in_stage_h'] .ag-header-cell-label")  # ascending
    page.wait_for_url(re.compile(r"sort=time_in_stage_h"))
    page.click(".ag-header-cell[col-id='time_in_stage_h'] .ag-header-cell-label")  # descending
    page.wait_for_url(re.compile(r"sort=-time_in_stage_h"))
    page.wait_for_selector(".ag-row[row-index='0']")
    first = float(page.inner_text(".ag-row[row-index='0'] [col-id='time_in_stage_h']"))
    second = float(page.inner_text(".ag-row[row-index='1'] [col-id='time_in_stage_h']"))
    assert first >= second
    shot(page, "stage.png", tmp_path)

    # the URL alone reproduces the view: a fresh tab shows the same first row
    top = page.inner_text(".ag-row[row-index='0'] [col-id='order_number']")
    fresh = open_page(page.url, width=1600, height=1000, wait_for=".ag-row[row-index='0']")
    fresh.wait_for_selector(f".ag-row[row-index='0'] [col-id='order_number'] >> text={top}")
    assert listed(fresh) == wip

    # the selector changes the list and the URL; back returns to the sorted list
    page.click("#stage-list")
    page.click("text=已超SLA(在制)")
    page.wait_for_url(re.compile(r"/stages/produced\?view=breached$"))
    page.go_back()
    page.wait_for_url(re.compile(r"sort=-time_in_stage_h"))
    page.wait_for_selector(f".ag-row[row-index='0'] [col-id='order_number'] >> text={top}")

    page.click(".ag-row[row-index='0'] [col-id='order_number']")
    page.wait_for_selector("#order-timeline .main-svg")
    shot(page, "order.png", tmp_path)


def test_wall_stage_tile_opens_its_list(app_url, open_page):
    page = open_page(app_url + "/wall/flow", width=1920, height=1080, wait_for="[data-stage='produced']")
    page.wait_for_selector("[data-stage='produced'] .ob-flow-wip >> text=/\\d/")
    shown = int(page.inner_text("[data-stage='produced'] .ob-flow-wip").replace(",", ""))
    page.click("[data-stage='produced']")
    page.wait_for_url(re.compile(r"/stages/produced"))
    page.wait_for_selector(".ag-row")
    assert listed(page) == grid_total(page) == shown


def test_wall_kpi_tile_opens_its_list(app_url, open_page):
    page = open_page(app_url + "/wall/kpi", width=1920, height=1080, wait_for="[data-metric='wip']")
    page.wait_for_selector("[data-metric='wip'] .ob-kpi-value >> text=/\\d/")
    shown = int(page.inner_text("[data-metric='wip'] .ob-kpi-value").replace(",", ""))
    page.click("[data-metric='wip']")
    page.wait_for_url(re.compile(r"/stages/all\?metric=wip"))
    page.wait_for_selector(".ag-row")
    assert listed(page) == grid_total(page) == shown

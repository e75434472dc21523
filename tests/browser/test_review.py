"""The review page in a real browser: renders the week, the console stays clean, picking
another week updates the URL, and a table and a chart download from the page."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.settings import Settings
from metrics.review import last_week

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "review.png"


def test_review_page_renders_and_downloads(sqlite_store, tmp_path, live_server, open_page):
    end = datetime.now(timezone.utc).replace(microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=3, n_orders=900, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"))
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    week = last_week(end, settings.timezone)
    page = open_page(url + "/review?lang=en", width=1600, height=1000,
                     wait_for="#review-kpi-completed .ob-review-kpi-value")
    assert week in page.inner_text("#review-period")
    assert page.inner_text("#review-kpi-completed .ob-review-kpi-value").strip().isdigit()
    page.wait_for_selector("#review-chart-weeks .main-svg")
    if os.environ.get("ORDERBOARD_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    with page.expect_download() as table:
        page.click('#review-table-kpis button:has-text("CSV")')
    csv = Path(table.value.path()).read_text("utf-8-sig")
    assert table.value.suggested_filename == f"orderboard-{week}-kpis.csv"
    assert csv.splitlines()[1].startswith("Orders completed,orders,")

    with page.expect_download(timeout=30_000) as chart:
        page.click('#review-chart-bottleneck button:has-text("PNG")')
    assert Path(chart.value.path()).read_bytes().startswith(b"\x89PNG")

    year, number, _ = (end - timedelta(days=14)).astimezone(ZoneInfo(settings.timezone)).date().isocalendar()
    other = f"{year}-W{number:02d}"
    page.click("#review-week")
    page.click(f"text={other}")
    page.wait_for_function(f"window.location.search.includes('week={other}')")
    page.wait_for_function(f"document.querySelector('#review-period').innerText.includes('{other}')")


def test_chart_download_without_an_export_browser_says_why(sqlite_store, tmp_path, live_server, open_page,
                                                           monkeypatch):
    end = datetime.now(timezone.utc).replace(microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=3, n_orders=300, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"))
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # the server's: no Chromium to export with
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    page = open_page(url + "/review?lang=en", width=1600, height=1000)
    page.wait_for_selector("#review-chart-bottleneck .main-svg", timeout=90_000)  # 8 periods to compute
    assert page.is_hidden("#review-error")
    page.click('#review-chart-bottleneck button:has-text("PNG")')
    page.wait_for_selector("#review-error:not([hidden])", timeout=10_000)
    message = page.inner_text("#review-error")
    assert "chart export needs Chromium" in message and "apt-get install chromium" in message

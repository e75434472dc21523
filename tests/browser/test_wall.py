"""The wall in headless Chromium: sizes, numbers equal to the CLI, refresh, stale and back."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from dashboard.app import create_app
from dashboard.layouts.wall_views import KPI_TILES, value_parts
from dashboard.wall_data import NAMESPACE, wall_params
from dashboard.wall_settings import parse_wall_settings
from datasource.demo import generate, seed_store
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.settings import Settings
from orderboard.cli import app as cli

# No scrollbars, no region spilling over, and no tile, label, number or note cut short
# (a cut word cannot be read from across the room, and an ellipsis cannot be explained).
FITS = """() => {
    const doc = document.documentElement;
    const cut = e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1;
    const inside = [...document.querySelectorAll('.ob-view--active .ob-slot')]
        .filter(cut).map(e => e.className);
    const texts = [...document.querySelectorAll('.ob-view--active :is(.ob-kpi, .ob-kpi-label, '
        + '.ob-kpi-number, .ob-kpi-note, .ob-flow-stage, .ob-flow-label, .ob-flow-wip, '
        + '.ob-flow-median, .ob-flow-breach, .ob-list th, .ob-slot-title)')]
        .filter(cut).map(e => e.innerText.replace(/\\n/g, ' / '));
    return {page: doc.scrollHeight <= innerHeight && doc.scrollWidth <= innerWidth,
            overflowing: inside, clipped: texts};
}"""
FITTING = {"page": True, "overflowing": [], "clipped": []}
TILE = ".ob-view--active [data-metric={name}] .ob-kpi-value"


@pytest.fixture
def wall_app(sqlite_store, tmp_path):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=11, n_orders=1500, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    app = create_app(settings, engine=sqlite_store.engine)
    return app, sqlite_store


def tile_texts(page) -> dict[str, str]:
    return {name: page.inner_text(TILE.format(name=name)) for name, _ in KPI_TILES}


@pytest.mark.parametrize("width, height, lang", [
    (1920, 1080, "zh"), (1920, 1080, "en"), (3840, 2160, "zh"), (3840, 2160, "en")])
def test_every_view_fits_the_screen(wall_app, live_server, open_page, width, height, lang):
    app, _ = wall_app
    url = live_server(app)
    page = open_page(f"{url}/wall?views=main&kiosk=1&lang={lang}", width, height,
                     wait_for=".ob-view--active .ob-kpi")
    assert page.evaluate(FITS) == FITTING
    # Type scales with the screen: a KPI number is about 8-9 % of the height at both sizes.
    size = float(page.eval_on_selector(TILE.format(name="wip"), "e => parseFloat(getComputedStyle(e).fontSize)"))
    assert 0.07 * height <= size <= 0.1 * height
    # Every view at 1080p; at 4K (the same layout, scaled) the main view and one chart.
    views = ("kpi", "flow", "bottleneck", "trend", "overdue", "exceptions") if height == 1080 else ("flow", "trend")
    for view in views:
        page.goto(f"{url}/wall/{view}?kiosk=1&lang={lang}")
        page.wait_for_selector(".ob-view--active .ob-slot-body > :not(.ob-waiting), .ob-view--active .main-svg")
        page.wait_for_function("() => !document.querySelector('.ob-view--active .ob-waiting')")
        assert page.evaluate(FITS) == FITTING, view
    # Chart text is sized from the screen, not plotly's 12 px default.
    page.wait_for_selector(".ob-view--active .ytick text")  # the axes are drawn after the svg
    tick = page.eval_on_selector(".ob-view--active .ytick text", "e => parseFloat(e.style.fontSize)")
    assert tick >= 0.025 * height


def test_tiles_show_the_numbers_of_orderboard_metrics(wall_app, live_server, open_page):
    app, store = wall_app
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    url = live_server(app)
    page = open_page(f"{url}/wall?views=main&line=Line%20A&lang=en", wait_for=".ob-view--active .ob-kpi")
    shown = tile_texts(page)

    def must_be_cached():
        raise AssertionError("the wall's result should be in the cache")

    # The instant the wall computed for: same cache entry (or its last good copy).
    config = parse_wall_settings({"line": "Line A"})
    now = ctx.service.get(NAMESPACE, wall_params(ctx.store_key, config), must_be_cached).value.summary.now
    result = CliRunner().invoke(cli, ["metrics", "--json", "--db", store.url, "--line", "Line A",
                                      "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    cli_summary = json.loads(result.output)
    values = {
        "orders_placed_today": cli_summary["placed_today"], "wip": cli_summary["wip"],
        "delay_rate": cli_summary["delay"]["rate"], "cycle_time_median": cli_summary["cycle_time"]["median_h"],
        "open_exceptions": cli_summary["exceptions"]["open_now"], "at_risk": cli_summary["delay"]["at_risk"],
    }
    assert shown == {name: value_parts(name, v, "en")[0] for name, v in values.items()}
    assert cli_summary["wip"] > 0 and cli_summary["delay"]["completed"] > 0
    assert "Line A" in page.inner_text(".ob-wall-scope")
    assert page.inner_text(".ob-wall-asof").startswith("data as of ")
    assert page.get_attribute(".ob-view--active [data-metric=wip]", "href") == "/stages/all?metric=wip&line=Line+A"


def test_new_events_show_on_the_next_refresh_and_the_stale_banner_comes_and_goes(
        wall_app, live_server, open_page):
    app, store = wall_app
    url = live_server(app)
    page = open_page(f"{url}/wall?views=main&refresh=2", wait_for=".ob-view--active .ob-kpi")
    placed = int(page.inner_text(TILE.format(name="orders_placed_today")).replace(",", ""))
    wip = int(page.inner_text(TILE.format(name="wip")).replace(",", ""))
    now = datetime.now(timezone.utc)
    numbers = [f"WALLTEST{k}" for k in range(3)]
    ingest(store.engine, store.pipeline,
           orders=[OrderRecord(n, customer="Test", channel="online", promised_at=now + timedelta(days=9))
                   for n in numbers],
           events=[EventRecord(n, "placed", "enter", now - timedelta(seconds=5)) for n in numbers])
    page.wait_for_function(
        f"() => document.querySelector('{TILE.format(name='orders_placed_today')}').innerText === '{placed + 3:,}'",
        timeout=15_000)
    assert page.inner_text(TILE.format(name="wip")) == f"{wip + 3:,}"
    assert page.is_hidden("#wall-banner")

    # The store goes away (file moved, pooled connections dropped): numbers stay, greyed.
    db_path = store.url.removeprefix("sqlite:///")
    moved = db_path + ".away"
    os.rename(db_path, moved)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.rename(db_path + suffix, moved + suffix)
    store.engine.dispose()
    try:
        page.wait_for_selector("#wall-banner:not([hidden])", timeout=15_000)
        assert "data is stale since" in page.inner_text("#wall-banner")
        assert "ob-wall-views--stale" in page.get_attribute("#wall-views", "class")
        assert page.inner_text(TILE.format(name="wip")) == f"{wip + 3:,}"
    finally:
        store.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.remove(db_path + suffix)  # the empty file SQLite created meanwhile
            if os.path.exists(moved + suffix):
                os.rename(moved + suffix, db_path + suffix)
    page.wait_for_selector("#wall-banner", state="hidden", timeout=15_000)
    assert "ob-wall-views--stale" not in page.get_attribute("#wall-views", "class")
    assert page.inner_text(TILE.format(name="wip")) == f"{wip + 3:,}"


def test_views_rotate_and_the_clock_ticks(wall_app, live_server, open_page):
    app, _ = wall_app
    url = live_server(app)
    page = open_page(f"{url}/wall?views=kpi,trend&rotate=5&lang=en", wait_for=".ob-view--active .ob-kpi")
    shown = page.get_attribute(".ob-view--active", "data-view")
    other = {"kpi": "trend", "trend": "kpi"}[shown]
    first = page.inner_text("#wall-clock")
    page.wait_for_function(f"() => document.querySelector('.ob-view--active').dataset.view === '{other}'",
                           timeout=10_000)
    page.wait_for_function(f"() => document.querySelector('#wall-clock').innerText !== '{first}'", timeout=5_000)
    assert page.inner_text(".ob-dot--active") == {"kpi": "Key figures", "trend": "Trend"}[other]
    assert page.eval_on_selector_all(".ob-view--active", "e => e.length") == 1

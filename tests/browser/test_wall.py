"""The wall in headless Chromium: sizes, numbers equal to the CLI, refresh, stale and back."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from itertools import cycle

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dashboard.app import create_app
from dashboard.components.kpi import value_parts
from dashboard.layouts.wall import KPI_TILES
from dashboard.url_state import VIEWS, parse_wall_settings
from dashboard.wall_frame import ALERT_ROWS, NAMESPACE, OVERDUE_ROWS, wall_params
from dashboard.words import TABLES, kind_label
from datasource import alert_firing, alert_store
from datasource.demo import generate, seed_store
from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord, ingest
from datasource.settings import Settings
from metrics.catalog import CATALOG
from orderboard.alerts.config import alert_config
from orderboard.alerts.runner import AlertRunner
from orderboard.cli import app as cli
from tests.alert_receiver import start_receiver

# No scrollbars, no region spilling over, and no tile, label, number or note cut short
# (a cut word cannot be read from across the room, and an ellipsis cannot be explained).
FITS = """() => {
    const doc = document.documentElement;
    const cut = e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1;
    const inside = [...document.querySelectorAll('.ob-view--active .ob-slot')]
        .filter(cut).map(e => e.className);
    const texts = [...document.querySelectorAll('.ob-view--active :is(.ob-kpi, .ob-kpi-label, '
        + '.ob-kpi-number, .ob-kpi-note, .ob-flow-stage, .ob-flow-label, .ob-flow-wip, '
        + '.ob-flow-median, .ob-flow-breach, .ob-list th, .ob-list td, .ob-slot-title)')]
        .filter(cut).map(e => e.innerText.replace(/\\n/g, ' / '));
    return {page: doc.scrollHeight <= innerHeight && doc.scrollWidth <= innerWidth,
            overflowing: inside, clipped: texts};
}"""
FITTING = {"page": True, "overflowing": [], "clipped": []}

# What a reader 3-5 m away needs, measured on every piece of visible text of the wall
# (HTML text and the charts' SVG text alike):
# - small: text below ``floor`` px as drawn (an SVG text's font size times its scale on
#   screen, since plotly shrinks some labels by a transform);
# - cut: text that overflows a box that clips it (an ellipsis included) or the screen;
# - emptiest: per slot of the active view, the tallest horizontal band (as a share of the
#   screen height) with no text and no chart plot area in it, the band under the last line
#   included; the largest over the slots. Half a screen left empty reads about 0.5; a
#   stage tile whose four lines float apart in a full-height column, about 0.12.
READABLE = """(floor) => {
    const shown = e => {
        for (let a = e; a && a !== document.documentElement; a = a.parentElement) {
            const s = getComputedStyle(a);
            if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
        }
        return true;
    };
    const clippers = e => {
        const out = [];
        for (let a = e; a && a !== document.body; a = a.parentElement) {
            if (a instanceof SVGElement) continue;
            if (getComputedStyle(a).overflowX !== 'visible' || a.classList.contains('ob-graph')) out.push(a);
        }
        return out;
    };
    const screen = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
    const outside = (r, b) => r.left < b.left - 1 || r.right > b.right + 1
        // a line box is taller than its glyphs: a quarter of it may overhang
        || r.top + r.height / 4 < b.top || r.bottom - r.height / 4 > b.bottom;
    const small = new Set(), cut = new Set(), lines = [];
    const walker = document.createTreeWalker(document.querySelector('.ob-wall'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const e = n.parentElement, text = n.textContent.trim();
        if (!text || !shown(e)) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
        if (!rects.length) continue;
        let px = parseFloat(getComputedStyle(e).fontSize);
        if (e instanceof SVGElement) {
            const m = e.getScreenCTM();
            px *= Math.hypot(m.a, m.b);
        }
        if (px < floor) small.add(`${text.slice(0, 40)}: ${px.toFixed(1)} px`);
        const boxes = clippers(e);
        const over = boxes.find(c => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1
                                     || rects.some(r => outside(r, c.getBoundingClientRect())))
            || (rects.some(r => outside(r, screen)) && 'the screen');
        if (over) cut.add(`${text.slice(0, 40)} in ${over.className || over.tagName || over}`);
        rects.forEach(r => lines.push({top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, text: text.slice(0, 20)}));
    }
    // Lines drawn over each other (a list running into its "n more" line, an axis title
    // into its tick labels). A line box is taller than its glyphs, the more so in a CJK
    // font: only the middle 60 % of each counts.
    const ink = r => ({top: r.top + r.height / 5, bottom: r.bottom - r.height / 5});
    const overlapping = [];
    for (let i = 0; i < lines.length; i++) for (let j = i + 1; j < lines.length; j++) {
        const a = lines[i], b = lines[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(ink(a).bottom, ink(b).bottom) - Math.max(ink(a).top, ink(b).top);
        if (w > 2 && h > 2) overlapping.push(`${a.text} / ${b.text}`);
    }
    let emptiest = 0, where = null;
    for (const slot of document.querySelectorAll('.ob-view--active .ob-slot')) {
        const box = slot.getBoundingClientRect();
        const plots = [...slot.querySelectorAll('.nsewdrag')].map(d => d.getBoundingClientRect());
        const bands = [...lines, ...plots]
            .filter(r => r.bottom > box.top && r.top < box.bottom && r.right > box.left && r.left < box.right)
            .map(r => [Math.max(r.top, box.top), Math.min(r.bottom, box.bottom)])
            .sort((a, b) => a[0] - b[0]);
        let reach = box.top, gap = 0;
        for (const [top, bottom] of bands) {
            gap = Math.max(gap, top - reach);
            reach = Math.max(reach, bottom);
        }
        gap = Math.max(gap, box.bottom - reach) / innerHeight;
        if (gap > emptiest) { emptiest = gap; where = slot.className; }
    }
    return {small: [...small], cut: [...cut], overlapping, emptiest: Math.round(emptiest * 1000) / 1000, where};
}"""
MOST_EMPTY = 0.1  # of the screen height, in any slot
ALERT_RULES = [{"name": "sla", "kind": "stage_sla", "channels": ["ops"]},
               {"name": "overdue", "kind": "overdue", "channels": ["ops"]},
               {"name": "exceptions", "kind": "exception_open", "channels": ["ops"]}]
TILE = ".ob-view--active [data-metric={name}] .ob-kpi-value"
LATE_ORDERS = 9


@pytest.fixture
def wall_app(sqlite_store, tmp_path):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=11, n_orders=1500, end=end))
    # More overdue orders and open exceptions (of every kind and severity) than the lists
    # have rows (the history has only a few), so the views are measured full.
    late = [f"SO-LATE-{k:02d}" for k in range(LATE_ORDERS)]
    ingest(sqlite_store.engine, sqlite_store.pipeline,
           orders=[OrderRecord(n, customer="Test", channel="online", owner="王芳",
                               promised_at=end - timedelta(hours=20 + 7 * k)) for k, n in enumerate(late)],
           events=[e for k, n in enumerate(late) for e in (
               EventRecord(n, "placed", "enter", end - timedelta(days=5, hours=k)),
               EventRecord(n, ("prepared", "produced", "shipped")[k % 3], "enter", end - timedelta(days=3, hours=k)))],
           exceptions=[ExceptionRecord(f"late-{n}", n, ("prepared", "produced", "shipped")[k % 3], kind,
                                       end - timedelta(days=2, hours=k), severity=("high", "medium", "low")[k % 3])
                       for k, (n, kind) in enumerate(zip(late, cycle(TABLES["kinds"])))])
    # Alert rules, evaluated once: more firing alerts than the alerts view has rows, some
    # acknowledged (the receiver takes the messages).
    receiver = start_receiver()
    tables = {"alert_channels": [{"name": "ops", "kind": "webhook", "url": f"{receiver.base}/hook"}],
              "alert_rules": ALERT_RULES}
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline, alert_tables=tables)
    AlertRunner(sqlite_store.engine, settings, alert_config(settings)).run(now=end)
    for row in alert_firing.firing_alerts(sqlite_store.engine, None, limit=3).rows.itertuples():
        alert_store.acknowledge(sqlite_store.engine, int(row.id), "李四", end)
    app = create_app(settings, engine=sqlite_store.engine)
    yield app, sqlite_store
    receiver.server.shutdown()


def tile_texts(page) -> dict[str, str]:
    return {name: page.inner_text(TILE.format(name=name)) for name in KPI_TILES}


def open_view(page, url: str) -> None:
    """Go to a wall view and wait until its slots hold data and its charts are drawn."""
    page.goto(url)
    page.wait_for_selector(".ob-view--active .ob-slot")
    page.wait_for_function("() => !document.querySelector('.ob-view--active .ob-waiting')")
    page.wait_for_function("""(waiting) => [...document.querySelectorAll('.ob-view--active .ob-graph')]
        .every(g => g.querySelector('.ytick text') || [...g.querySelectorAll('.annotation-text')]
                    .some(a => !waiting.includes(a.textContent)))""", arg=list(TABLES["wall"]["waiting"]))


def readable(page, height: int) -> dict:
    """Small, cut and empty (see ``READABLE``), at the floor of 28 px per 1080 lines."""
    found = page.evaluate(READABLE, 28 * height / 1080 - 0.05)
    return {"small": found["small"], "cut": found["cut"], "overlapping": found["overlapping"],
            "empty": found["where"] if found["emptiest"] > MOST_EMPTY else None,
            "emptiest": found["emptiest"]}


@pytest.mark.parametrize("width, height, lang", [
    (1920, 1080, "zh"), (1920, 1080, "en"), (3840, 2160, "zh"), (3840, 2160, "en"), (1366, 768, "zh")])
def test_every_view_is_read_from_across_the_room(wall_app, live_server, open_page, width, height, lang):
    """Every view at 1080p and 4K in both languages: it fits the screen, no text is below
    28 px per 1080 lines (56 px at 2160) or cut, and no slot leaves a tenth of the screen
    height empty."""
    app, _ = wall_app
    url = live_server(app)
    # The rotating wall as set up by default, footer links and view dots included.
    page = open_page(f"{url}/wall?lang={lang}", width, height, wait_for=".ob-view--active .ob-kpi")
    open_view(page, f"{url}/wall?lang={lang}")
    assert page.evaluate(FITS) == FITTING
    found = readable(page, height)
    assert (found["small"], found["cut"], found["overlapping"], found["empty"]) == ([], [], [], None), str(found)
    # Type scales with the screen: a KPI number is about 8-9 % of the height at both sizes.
    size = float(page.eval_on_selector(TILE.format(name="wip"), "e => parseFloat(getComputedStyle(e).fontSize)"))
    assert 0.07 * height <= size <= 0.1 * height
    for view in VIEWS:
        open_view(page, f"{url}/wall/{view}?kiosk=1&lang={lang}")
        assert page.evaluate(FITS) == FITTING, view
        found = readable(page, height)
        assert (found["small"], found["cut"], found["overlapping"], found["empty"]) == ([], [], [], None), f"{view}: {found}"


def test_the_overdue_view_shows_as_many_rows_as_fit(wall_app, live_server, open_page):
    """A full list in large type: the rows that fit, and how many more there are."""
    app, _ = wall_app
    url = live_server(app)
    for width, height in ((1920, 1080), (3840, 2160)):
        page = open_page(f"{url}/wall/overdue?kiosk=1&lang=en", width, height, wait_for=".ob-view--active .ob-list td")
        shown = page.eval_on_selector_all(".ob-view--active .ob-list tbody tr", "rows => rows.length")
        assert shown == OVERDUE_ROWS["overdue"]
        more = page.inner_text(".ob-view--active .ob-list-more")
        assert more.endswith(" more") and int(more.split()[0]) >= LATE_ORDERS + 1 - shown
        # An order number about 4.6 % of the screen height: readable at 5 m.
        size = page.eval_on_selector(".ob-view--active .ob-list td", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 0.045 * height


# Keeps only the widest row of a wall list and sets the list's row count to one, as the
# server does for a one-row list (so the CSS gives it its largest type).
ONE_WIDEST_ROW = """list => {
    const rows = [...list.querySelectorAll('tbody tr')];
    const widest = rows.reduce((a, b) => (b.scrollWidth > a.scrollWidth ? b : a));
    rows.filter(r => r !== widest).forEach(r => r.remove());
    list.style.setProperty('--ob-rows', 1);
}"""


def open_alerts(engine, line: str | None = None) -> tuple[int, int]:
    """(open, firing) alert instances in plain SQL; with ``line``, those about an order of
    that production line (the order number read from the labels by SQLite's JSON)."""
    where = "i.state = 'firing'"
    join = ""
    if line is not None:
        join = "JOIN orders o ON o.order_number = json_extract(i.labels, '$.order')"
        where += " AND o.production_line = :line"
    with engine.connect() as conn:
        open_, firing = conn.execute(text(
            f"SELECT sum(CASE WHEN i.acknowledged_at IS NULL THEN 1 ELSE 0 END), count(*) "
            f"FROM alert_instances i {join} WHERE {where}"), {"line": line}).one()
    return int(open_ or 0), int(firing)


def test_the_alerts_view_counts_like_plain_sql_and_lists_what_fits(wall_app, live_server, open_page):
    """The open-alerts tile against a plain SQL count of firing, unacknowledged alerts,
    for the whole flow and for one line; the list's rows and its "n more" against the
    firing ones; every screen size, including a 1366x768 TV, fits and is readable."""
    app, store = wall_app
    url = live_server(app)
    open_all, firing_all = open_alerts(store.engine)
    open_a, firing_a = open_alerts(store.engine, "Line A")
    assert firing_all > ALERT_ROWS and firing_all - open_all == 3 and 0 < open_a < open_all
    for width, height, lang, query, (open_, firing) in (
            (1920, 1080, "en", "", (open_all, firing_all)), (1366, 768, "zh", "", (open_all, firing_all)),
            (3840, 2160, "en", "&line=Line%20A", (open_a, firing_a))):
        page = open_page(f"{url}/wall/alerts?kiosk=1&lang={lang}{query}", width, height,
                         wait_for=".ob-view--active .ob-alert-list td")
        assert page.inner_text(TILE.format(name="open_alerts")) == f"{open_:,}"
        rows = page.eval_on_selector_all(".ob-view--active .ob-alert-list tbody tr", "rows => rows.length")
        assert rows == min(ALERT_ROWS, firing)
        if firing > rows:
            more = page.inner_text(".ob-view--active .ob-list-more")
            assert more == (f"{firing - rows} more" if lang == "en" else f"另有 {firing - rows} 条")
        assert page.evaluate(FITS) == FITTING, (width, height)
        found = readable(page, height)
        # A full list fills its view; a shorter one (how many alerts fire for one line
        # depends on the hour the demo data ends at) leaves room below it, as a one-row list does.
        empty = found["empty"] if rows == ALERT_ROWS else None
        assert (found["small"], found["cut"], found["overlapping"], empty) == ([], [], [], None), \
            f"{width}x{height}: {found}"
        href = page.get_attribute(".ob-view--active [data-metric=open_alerts]", "href")
        assert href == "/alerts" + ("?line=Line+A&lang=en" if query else f"?lang={lang}")
    # The open ones first: no acknowledged alert above an open one.
    acked = page.eval_on_selector_all(".ob-view--active .ob-alert-list tbody tr",
                                      "rows => rows.map(r => r.classList.contains('ob-alert--acked'))")
    assert acked == sorted(acked)
    # The widest rows (exceptions, in English) at the top of the list still fit.
    with store.engine.connect() as conn:
        others = conn.execute(text("SELECT id FROM alert_instances WHERE state = 'firing' "
                                   "AND acknowledged_at IS NULL AND rule <> 'exceptions'")).scalars().all()
    for instance_id in others:
        alert_store.acknowledge(store.engine, instance_id, "李四", datetime.now(timezone.utc))
    for width, height in ((1366, 768), (1920, 1080), (3840, 2160)):
        # refresh=5, the smallest cache period: a refresh is cut off just under its period,
        # and the first one after the acknowledgements computes the frame anew
        page = open_page(f"{url}/wall/alerts?kiosk=1&lang=en&refresh=5", width, height,
                         wait_for=".ob-view--active .ob-alert-list td")
        page.wait_for_function("(n) => document.querySelector('.ob-view--active [data-metric=open_alerts] "
                               ".ob-kpi-value').innerText === String(n)", arg=open_alerts(store.engine)[0],
                               timeout=30_000)
        first = page.inner_text(".ob-view--active .ob-alert-list tbody tr td")
        assert first.split(" · ")[1] in {kind_label(k, "en") for k in TABLES["kinds"]}, first
        assert page.evaluate(FITS) == FITTING, (width, height)
        found = readable(page, height)
        assert (found["small"], found["cut"], found["overlapping"], found["empty"]) == ([], [], [], None), \
            f"{width}x{height}: {found}"
        # The widest of them alone, in the largest type a one-row list gets, still fits the
        # width (a list of one row leaves room below it: no band check there).
        page.eval_on_selector(".ob-view--active .ob-alert-list", ONE_WIDEST_ROW)
        assert page.evaluate(FITS) == FITTING, (width, height, "alone")
        found = readable(page, height)
        assert (found["small"], found["cut"], found["overlapping"]) == ([], [], []), f"{width}x{height} alone: {found}"


def test_without_alert_rules_the_alerts_view_says_so(sqlite_store, tmp_path, live_server, open_page):
    """No rules: the view is one plain message (what the view would list and how to set
    rules up), filling the screen, not an empty list."""
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=11, n_orders=300, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    for width, height, lang, title in ((1920, 1080, "zh", "未配置预警规则"), (1366, 768, "en", "No alert rules are set up")):
        page = open_page(f"{url}/wall/alerts?kiosk=1&lang={lang}", width, height,
                         wait_for=".ob-view--active .ob-alerts-unset")
        assert page.inner_text(".ob-view--active .ob-alerts-unset-title") == title
        assert page.is_hidden(".ob-view--active [data-metric=open_alerts]")
        assert page.evaluate(FITS) == FITTING
        found = readable(page, height)
        assert (found["small"], found["cut"], found["overlapping"], found["empty"]) == ([], [], [], None), str(found)


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
    now = ctx.service.get(NAMESPACE, wall_params(ctx.store_key, config.filters), must_be_cached).value.summary.now
    result = CliRunner().invoke(cli, ["metrics", "--json", "--db", store.url, "--line", "Line A",
                                      "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    cli_summary = json.loads(result.output)
    values = {
        "orders_placed_today": cli_summary["placed_today"], "wip": cli_summary["wip"],
        "delay_rate": cli_summary["delay"]["rate"], "cycle_time_median": cli_summary["cycle_time"]["median_h"],
        "open_exceptions": cli_summary["exceptions"]["open_now"], "at_risk": cli_summary["delay"]["at_risk"],
    }
    assert shown == {name: value_parts(CATALOG[name], v, "en")[0] for name, v in values.items()}
    assert cli_summary["wip"] > 0 and cli_summary["delay"]["completed"] > 0
    assert "Line A" in page.inner_text(".ob-wall-scope")
    assert page.inner_text(".ob-wall-asof").startswith("data as of ")
    assert page.get_attribute(".ob-view--active [data-metric=wip]", "href") == "/stages/all?metric=wip&line=Line+A&lang=en"


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
        # plain words in the screen's language; the driver's message stays in the log
        banner = page.inner_text("#wall-banner")
        assert banner.startswith("订单库无法访问（自 ") and "的数据（" in banner
        assert "sqlite" not in banner.lower() and "Error" not in banner
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

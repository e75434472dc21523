"""The wall without a browser: layout, the refresh callback called directly, freshness."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from conftest import BrokenCache
from dash import no_update
from plotly.io.json import to_json_plotly
from screens import by_class, prop, props, render_wall, slot_ids, texts, walk

from dashboard import wall_frame
from dashboard.app import create_app
from dashboard.callbacks import wall as wall_callbacks
from dashboard.callbacks.wall import font_px
from dashboard.components.kpi import value_parts
from dashboard.figures import trend_figure
from dashboard.formatting import percent
from dashboard.layouts import wall as wall_layout
from dashboard.layouts.wall import KPI_TILES
from dashboard.pages import Page
from dashboard.url_state import parse_wall_settings
from dashboard.wall_frame import NAMESPACE, compute_wall, wall_params
from datasource.demo import generate, seed_store
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.settings import Settings
from metrics.catalog import CATALOG, STAGE_COLOUR
from metrics.summary import compute_summary
from metrics.window import Filters, Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PERIOD = timedelta(seconds=15)  # the default refresh, hence the wall's cache period
WALL_PAGES = [Page("/wall", wall_layout.layout, wall_callbacks.register),
              Page("/wall/<view>", wall_layout.layout, wall_callbacks.register)]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall(sqlite_store, tmp_path):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=5, n_orders=600, end=END))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    app = create_app(settings, engine=sqlite_store.engine, pages=WALL_PAGES)
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: END  # one cache period for the whole test
    return ctx, sqlite_store


def run(ctx, query: dict, view: str | None = None, screen=None, now=END):
    return render_wall(ctx, query, view, screen, now)


def test_layout_builds_without_touching_the_store(tmp_path):
    db = tmp_path / "never.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", cache_dir=str(tmp_path / "c")), pages=WALL_PAGES)
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    layout = wall_layout.layout(ctx, views="main,trend", kiosk="1", refresh="7", rotate="12", reload="2")
    assert not db.exists()
    timers = {c.id: c for c in walk(layout) if getattr(c, "id", None) in (wall_layout.REFRESH, wall_layout.ROTATE, wall_layout.RELOAD)}
    assert timers[wall_layout.REFRESH].interval == 7000
    assert timers[wall_layout.ROTATE].interval == 12000 and not timers[wall_layout.ROTATE].disabled
    assert timers[wall_layout.RELOAD].interval == 2 * 3600 * 1000
    assert "ob-wall--kiosk" in layout.className
    assert not any(getattr(c, "className", "") == "ob-wall-nav" for c in walk(layout))
    sections = [c for c in walk(layout) if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == wall_layout.VIEW]
    assert [s.id["view"] for s in sections] == ["main", "trend"]
    assert [s.className for s in sections] == ["ob-view ob-view--active", "ob-view"]


def test_one_view_does_not_rotate_and_reload_zero_never_reloads(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", cache_dir=str(tmp_path / "c")),
                     pages=WALL_PAGES)
    layout = wall_layout.layout(app.server.config["ORDERBOARD_CONTEXT"], view="trend", reload="0")
    timers = {c.id: c for c in walk(layout) if getattr(c, "id", None) in (wall_layout.ROTATE, wall_layout.RELOAD)}
    assert timers[wall_layout.ROTATE].disabled and timers[wall_layout.RELOAD].disabled
    assert any(getattr(c, "className", "") == "ob-wall-nav" for c in walk(layout))


def test_refresh_shows_the_summary_numbers(wall):
    ctx, store = wall
    _, html_ids, graph_ids, out = run(ctx, {"views": "main,bottleneck,trend,exceptions"})
    htmls, figures, as_of, status = out
    assert status == {"state": "ok", "at": "16:00", "age_s": 0.0}
    assert as_of == "数据时间 16:00:00"  # computed_at in Asia/Shanghai
    summary = compute_summary(store.engine, store.pipeline, Window.last_days(7, END, "Asia/Shanghai"),
                              Filters(), END)
    kpis = htmls[[i["slot"] for i in html_ids].index("kpi")]
    shown = {props(tile)["data-metric"]: (texts(tile)[1], texts(tile)[2], prop(tile, "className")) for tile in kpis}
    expected_values = {
        "orders_placed_today": summary.placed_today, "wip": summary.wip,
        "delay_rate": summary.delay.rate, "cycle_time_median": summary.cycle_time.median_h,
        "open_exceptions": summary.exceptions.open_now, "at_risk": summary.delay.at_risk,
    }
    assert list(shown) == list(KPI_TILES)
    for name, value in expected_values.items():
        number, unit = value_parts(CATALOG[name], value, "zh")
        assert shown[name] == (number, unit, f"ob-kpi ob-level-{CATALOG.level(name, value)}")
    assert summary.wip > 0 and summary.delay.completed > 0
    flow = htmls[[i["slot"] for i in html_ids].index("flow")]
    assert [props(t)["data-stage"] for t in flow] == summary.stages["code"].tolist()
    assert [by_class(t, "ob-flow-wip") for t in flow] == [f"{w:,}" for w in summary.stages["wip"]]
    # Each stage: open breaches now (coloured when there are any) and the 7-day breach
    # rate that colours the tile.
    for tile, row in zip(flow, summary.stages.itertuples(), strict=True):
        breach = next(c for c in walk(tile) if "ob-flow-breach" in (prop(c, "className") or ""))
        assert "".join(texts(breach)) == f"SLA {row.sla_hours:g}h · 超时 {row.open_breaches_now:,}"
        assert ("ob-flow-breach--late" in prop(breach, "className")) == (row.open_breaches_now > 0)
        rate = next(c for c in walk(tile) if "ob-flow-rate" in (prop(c, "className") or ""))
        assert "".join(texts(rate)) == f"近7天超时率 {percent(row.breach_rate)}"
        rate_level = CATALOG.level("sla_breach_rate", CATALOG["sla_breach_rate"].read_stage(row))
        assert prop(rate, "className") == f"ob-flow-rate ob-level-{rate_level}"
        share = row.open_breaches_now / row.wip if row.wip else None
        assert prop(tile, "className").startswith(f"ob-flow-stage ob-level-{CATALOG.level(STAGE_COLOUR, share)}")
    assert summary.stages["open_breaches_now"].gt(0).any() and summary.stages["open_breaches_now"].eq(0).any()
    assert [i["slot"] for i in graph_ids] == ["bottleneck", "trend", "kinds"]
    assert figures[0]["layout"]["font"]["size"] == 28
    assert len(figures[1]["data"][0]["x"]) == 14


def test_the_slots_are_cached_as_the_json_the_browser_receives(wall):
    """Plain data (no component objects): a hit unpickles and encodes it in C."""
    ctx, _ = wall
    layout, _, _, out = run(ctx, {"views": "main,bottleneck,trend,exceptions"})
    slots = [out[0], out[1]]
    assert json.loads(json.dumps(slots)) == slots
    direct = wall_frame.render_slots(
        compute_wall(ctx.engine, ctx.settings.pipeline, parse_wall_settings({}).filters, END),
        parse_wall_settings({}), slot_ids(layout, wall_layout.HTML_SLOT),
        slot_ids(layout, wall_layout.GRAPH_SLOT), 28)
    assert json.loads(to_json_plotly(list(direct))) == slots  # the same JSON as the components


def test_links_carry_the_filters(wall):
    ctx, _ = wall
    _, html_ids, _, out = run(ctx, {"views": "main", "line": "Line A", "channel": "direct"})
    kpis = out[0][[i["slot"] for i in html_ids].index("kpi")]
    assert prop(kpis[1], "href") == "/stages/all?metric=wip&line=Line+A&channel=direct&lang=zh"
    flow = out[0][[i["slot"] for i in html_ids].index("flow")]
    assert prop(flow[0], "href") == "/stages/placed?line=Line+A&channel=direct&lang=zh"
    assert all(prop(t, "title") and ":" in prop(t, "title") for t in kpis)  # the definition is reachable


def test_filters_reach_the_computation_and_the_cache_key(wall):
    ctx, store = wall
    config = parse_wall_settings({"line": "Line A", "lang": "en", "rotate": "40"})
    assert wall_params(ctx.store_key, config.filters)["filters"] == {"production_line": "Line A"}
    assert wall_params(ctx.store_key, config.filters) == wall_params(ctx.store_key, parse_wall_settings({"line": "Line A"}).filters)
    data = compute_wall(store.engine, store.pipeline, config.filters, END)
    direct = compute_summary(store.engine, store.pipeline, Window.last_days(7, END, "Asia/Shanghai"),
                             Filters(production_line="Line A"), END)
    assert data.summary.wip == direct.wip and data.summary.delay == direct.delay
    assert (data.overdue["production_line"] == "Line A").all()
    assert data.overdue_total == direct.delay.overdue_now
    assert data.trend.tail(7)["placed"].tolist() == direct.trend["placed"].tolist()
    hours = data.overdue["overdue_by_h"].tolist()
    assert hours == sorted(hours, reverse=True)


def test_screens_with_the_same_filters_share_one_computation(wall, monkeypatch):
    ctx, _ = wall
    calls = []
    monkeypatch.setattr(wall_frame, "compute_wall", lambda *a: calls.append(a[2]) or compute_wall(*a))
    renders = []
    real_render = wall_frame.render_slots
    monkeypatch.setattr(wall_frame, "render_slots", lambda *a: renders.append(a[1].lang) or real_render(*a))
    for lang in ("zh", "en", "zh", "en"):
        run(ctx, {"lang": lang, "views": "main"})
    assert len(calls) == 1  # language is presentation: one computation
    assert renders == ["zh", "en"]  # and one rendering per language
    run(ctx, {"line": "Line B", "views": "main"})
    assert len(calls) == 2 and calls[1].production_line == "Line B"


def as_json(out) -> str:
    """A refresh's output as the browser receives it (components do not compare equal)."""
    return to_json_plotly(list(out))


def tile(out, html_ids, name: str) -> str:
    """The number on one KPI tile of a refresh's output."""
    kpis = out[0][[i["slot"] for i in html_ids].index("kpi")]
    return next(texts(k)[1] for k in kpis if props(k)["data-metric"] == name)


def add_orders(store, n: int, at: datetime) -> None:
    numbers = [f"WALLUNIT{k}" for k in range(n)]
    ingest(store.engine, store.pipeline,
           orders=[OrderRecord(x, customer="Test", channel="online", promised_at=at + timedelta(days=9))
                   for x in numbers],
           events=[EventRecord(x, "placed", "enter", at) for x in numbers])


@pytest.mark.parametrize("slow", ["compute_wall", "render_slots"])
def test_a_new_period_serves_the_last_frame_while_one_refresh_runs(wall, monkeypatch, slow):
    """Once a screen has a frame, it never waits for a computation or a rendering; the
    next refresh after the background one shows the new numbers with their own time."""
    ctx, store = wall
    clock = Clock(END)
    ctx.service.clock = clock
    _, html_ids, _, first = run(ctx, {"views": "main"})
    placed = int(tile(first, html_ids, "orders_placed_today"))
    add_orders(store, 3, END - timedelta(minutes=1))
    clock.now = END + PERIOD
    started, release = threading.Event(), threading.Event()
    real = getattr(wall_frame, slow)

    def held(*args):
        started.set()
        release.wait(30)  # were this on the request path, the refresh would show new numbers
        return real(*args)

    monkeypatch.setattr(wall_frame, slow, held)
    try:
        _, _, _, during = run(ctx, {"views": "main"})
        assert started.wait(30)
        assert as_json(during) == as_json(first)  # the last frame: its numbers with its time
    finally:
        release.set()
    ctx.service.wait_for_refreshes()
    _, _, _, after = run(ctx, {"views": "main"})
    assert after[2] == "数据时间 16:00:15"  # the new summary's computed_at
    assert int(tile(after, html_ids, "orders_placed_today")) == placed + 3
    assert after[3]["state"] == "ok"


def test_a_hit_is_one_cache_read_and_no_store_read(wall, monkeypatch):
    ctx, _ = wall
    run(ctx, {"views": "main,trend"})
    versions, reads = [], []
    real_version, real_get = ctx.service.version, ctx.service.cache.get
    monkeypatch.setattr(ctx.service, "version", lambda: versions.append(1) or real_version())
    monkeypatch.setattr(ctx.service.cache, "get", lambda key: reads.append(key) or real_get(key))
    for _ in range(3):
        _, _, _, out = run(ctx, {"views": "main,trend"})
        assert out[3]["state"] == "ok"
    assert versions == [] and len(reads) == 3
    assert all(key.startswith(wall_frame.FRAME_NAMESPACE + ":") for key in reads)


def test_stale_store_keeps_the_numbers_under_a_banner(wall, monkeypatch):
    """The store goes away: the first refresh of the next period still shows the last
    frame while the background refresh finds the store down; from then on the last good
    numbers stay, with their own time, under the banner; when the store is back the next
    period is fresh again."""
    ctx, _ = wall
    clock = Clock(END)
    ctx.service.clock = clock
    _, _, _, good = run(ctx, {"views": "main"})
    real_version = ctx.service.version

    def unreachable():
        raise OSError("unable to open database file")

    monkeypatch.setattr(ctx.service, "version", unreachable)
    clock.now = END + PERIOD
    _, _, _, first = run(ctx, {"views": "main"})
    assert as_json(first) == as_json(good)
    ctx.service.wait_for_refreshes()
    clock.now = END + PERIOD + timedelta(seconds=5)
    _, _, _, out = run(ctx, {"views": "main"}, now=None)
    htmls, _, as_of, status = out
    # plain facts for the banner: no driver message, in the screen's zone
    assert status == {"state": "stale", "since": "16:00", "at": "16:00", "age_s": 20.0}
    assert as_of == good[2]  # the time of the last good data, not now
    assert texts(htmls) == texts(good[0])

    monkeypatch.setattr(ctx.service, "version", real_version)
    clock.now = END + 2 * PERIOD
    run(ctx, {"views": "main"})
    ctx.service.wait_for_refreshes()
    _, _, _, back = run(ctx, {"views": "main"})
    assert back[2] == "数据时间 16:00:30" and back[3]["state"] == "ok"


def test_a_broken_cache_computes_and_renders_directly(wall, caplog):
    ctx, _ = wall
    _, _, _, good = run(ctx, {"views": "main"})

    ctx.service.cache = BrokenCache(ConnectionError("Redis is down"))
    _, _, _, out = run(ctx, {"views": "main"})
    assert as_json(out) == as_json(good)
    assert "cache read" in caplog.text and "Redis is down" in caplog.text


def test_no_data_at_all_keeps_the_waiting_screen(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}", cache_dir=str(tmp_path / "c"))
    ctx = create_app(settings, pages=WALL_PAGES).server.config["ORDERBOARD_CONTEXT"]
    _, html_ids, _graph_ids, out = run(ctx, {"views": "main,trend"}, screen={"w": 3840, "h": 2160})
    htmls, figures, as_of, status = out
    assert htmls == [no_update] * len(html_ids)
    # The charts keep saying "waiting", in type sized to the screen (2160 lines: 56 px).
    assert [[(a.text, a.font.size) for a in f.layout.annotations] for f in figures] == [[("正在等待数据…", 72)]]
    assert as_of is no_update
    assert status["state"] == "nodata" and set(status) == {"state", "since"}


def test_a_rendering_bug_keeps_the_previous_screen(wall, monkeypatch):
    ctx, _ = wall
    monkeypatch.setattr(wall_frame, "kpi_tiles", lambda *a: 1 / 0)
    _, html_ids, _, out = run(ctx, {"views": "main"})
    assert out[0] == [no_update] * len(html_ids)
    assert out[2:] == (no_update, {"state": "kept"})


def test_the_refresh_timer_is_never_stopped(tmp_path):
    """dash-renderer does not undo ``running=`` after a network failure: a timer disabled
    while a refresh runs stays disabled for good. The refresh callback must not touch it."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", cache_dir=str(tmp_path / "c")),
                     pages=WALL_PAGES)
    entry = next(c for c in app._callback_list if "wall-as-of.children" in c["output"])
    assert not entry.get("running")
    assert entry["inputs"][0] == {"id": "wall-refresh", "property": "n_intervals"}
    assert not any("wall-refresh.disabled" in c["output"] for c in app._callback_list)


@pytest.mark.parametrize("screen, px", [(None, 28), ({"h": 1080}, 28), ({"h": 2160}, 56), ({"h": "x"}, 28), ({"h": 100}, 12)])
def test_chart_font_follows_the_screen_height(screen, px):
    assert font_px(screen) == px


def test_namespace_is_the_documented_one():
    assert NAMESPACE == "wall-summary"


def test_the_app_serves_the_wall_pages():
    from dashboard.pages import default_pages, resolve

    page, params = resolve(default_pages(), "/wall/trend", "?lang=en&line=Line%20A")
    assert page.pattern == "/wall/<view>" and page.layout is wall_layout.layout
    assert params == {"lang": "en", "line": "Line A", "view": "trend"}
    assert resolve(default_pages(), "/wall", "")[0].pattern == "/wall"


def test_wall_charts_are_finished_for_the_room_and_the_review_charts_are_not(wall):
    """Axis titles a line clear of their ticks and bar labels never shrunk, on the wall only
    (the review page and the exports call the same builders)."""
    ctx, _ = wall
    _, _, graph_ids, out = run(ctx, {"views": "bottleneck,trend,exceptions"}, screen={"w": 3840, "h": 2160})
    figures = dict(zip([i["slot"] for i in graph_ids], out[1]))
    for slot, fig in figures.items():
        axes = {k: v for k, v in fig["layout"].items() if k.startswith(("xaxis", "yaxis"))}
        assert axes and all(a["title"]["standoff"] == 56 for a in axes.values()), slot
        bars = [d for d in fig["data"] if d["type"] == "bar"]
        assert bars and all(d["constraintext"] == "none" for d in bars), slot
    review = trend_figure(compute_wall(ctx.engine, ctx.settings.pipeline, parse_wall_settings({}).filters, END).trend)
    assert review.layout.yaxis.title.standoff is None and review.data[0].constraintext is None


def test_tiles_and_lists_keep_apart_what_a_view_may_leave_out(wall):
    """The overview hides the limits' words and the SLA by CSS class; the exceptions list
    has the severity in a column of its own (in one cell with the kind it was cut short)."""
    ctx, _ = wall
    _, html_ids, _, out = run(ctx, {"views": "main,exceptions", "lang": "en"})
    slots = dict(zip([i["slot"] for i in html_ids], out[0]))
    delay = next(t for t in slots["kpi"] if props(t)["data-metric"] == "delay_rate")
    limits = [c for c in walk(delay) if "ob-kpi-limit" in (prop(c, "className") or "").split()]
    assert [(prop(c, "className"), "".join(texts(c))) for c in limits] == [
        ("ob-kpi-limit ob-level-warning", "warn≥5%"), ("ob-kpi-limit ob-level-critical", "crit≥10%")]
    assert by_class(delay, "ob-kpi-scope") == "7-day completions"
    assert "warn≥5% · crit≥10%" in prop(delay, "title")
    tile = slots["flow"][0]
    assert [by_class(tile, c) for c in ("ob-flow-sla", "ob-flow-sep", "ob-flow-late")] == ["SLA 4h", " · ", "late 0"]
    table = slots["exceptions"]
    head = [texts(c)[0] for c in walk(table) if (c.get("type") if isinstance(c, dict) else None) == "Th"]
    assert head == ["Order", "Kind", "Severity", "Stage", "Owner", "Open for"]
    first = next(c for c in walk(table) if "ob-severity-" in (prop(c, "className") or ""))
    cells = [texts(c) for c in prop(first, "children")]
    assert cells[2] == [prop(first, "className").removeprefix("ob-severity-")]  # high/medium/low
    overdue = run(ctx, {"views": "overdue"})[3][0][0]
    rows = [c for c in walk(overdue) if (c.get("type") if isinstance(c, dict) else None) == "Tr"]
    assert prop(overdue, "style") == {"--ob-rows": len(rows) - 1} and len(rows) > 1  # sizes a short list up


def test_overdue_order_links_are_encoded(monkeypatch):
    from types import SimpleNamespace

    import pandas as pd

    import dashboard.layouts.wall as views
    from dashboard.url_state import parse_wall_settings

    monkeypatch.setattr(views, "_stage_label", lambda *_: "付款")
    overdue = pd.DataFrame({"order_number": ["PO 2024/001 #订单"], "current_stage": ["paid"],
                            "owner": ["王芳"], "overdue_by_h": [12.0]})
    data = SimpleNamespace(overdue=overdue, overdue_total=1)
    table = views.overdue_table(data, parse_wall_settings({"views": "overdue"}), 5)
    link = table.children[0].children[1].children[0].children[0].children
    assert link.href == "/orders/PO%202024%2F001%20%23%E8%AE%A2%E5%8D%95"

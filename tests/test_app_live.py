"""The app factory and the live overview page, without a browser."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from dash import html, no_update

from dashboard.app import create_app, render_page
from dashboard.callbacks.live import update_live
from dashboard.pages import Page, default_pages, resolve
from datasource.demo import generate, seed_store
from datasource.settings import Settings
from datasource.snapshot import overview, stage_counts

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def _texts(component) -> list[str]:
    """All strings inside a component tree, depth first."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in _texts(c)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


def test_importing_the_dashboard_touches_no_database(tmp_path):
    db = tmp_path / "never.db"
    code = ("import dashboard, dashboard.app, dashboard.wsgi, dashboard.pages, "
            "dashboard.callbacks.live, orderboard.cli, orderboard.jobs, datasource.demo")
    env = {"ORDERBOARD_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert not db.exists()


def test_building_the_app_touches_no_database(tmp_path):
    db = tmp_path / "lazy.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", cache_dir=str(tmp_path / "cache")))
    assert app.config.suppress_callback_exceptions
    assert not db.exists()
    outputs = " ".join(app.callback_map)
    assert "live-stages.children" in outputs and "page.children" in outputs


def _app_over(store, tmp_path):
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    app = create_app(settings, engine=store.engine)
    return app, app.server.config["ORDERBOARD_CONTEXT"]


def test_live_callback_shows_the_counts_in_the_store(store, tmp_path):
    seed_store(store.engine, store.pipeline, generate(seed=4, n_orders=400, end=END))
    _, ctx = _app_over(store, tmp_path)
    as_of, totals, stages, banner, hidden = update_live(0, ctx, now=END)
    assert hidden is True and banner == ""
    assert as_of == "数据时间 data as of 16:00:00 (Asia/Shanghai)"
    counts = stage_counts(store.engine)
    shown = {card.id.removeprefix("stage-"): int(_texts(card)[2].replace(",", "")) for card in stages}
    expected = {s.code: counts.get(s.code, 0) for s in store.pipeline.flow_stages}
    assert shown == expected
    assert sum(expected.values()) > 0
    assert _texts(totals[0])[0] == f"{sum(counts.values()):,}"
    ov = overview(store.engine, END)
    assert [_texts(t)[0] for t in totals] == [
        f"{v:,}" for v in (ov.open_total, ov.overdue, ov.placed_24h, ov.completed_24h, ov.open_exceptions)
    ]


def test_unreachable_store_shows_a_banner_and_keeps_the_screen(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
                        cache_dir=str(tmp_path / "cache"))
    ctx = create_app(settings).server.config["ORDERBOARD_CONTEXT"]
    as_of, totals, stages, banner, hidden = update_live(0, ctx, now=END)
    assert (as_of, totals, stages) == (no_update, no_update, no_update)
    assert hidden is False and "store unreachable" in banner


def test_pages_match_paths_and_queries():
    page = Page("/stages/<code>", lambda ctx, **p: html.Div())
    assert page.match("/stages/produced") == {"code": "produced"}
    assert page.match("/stages/produced/") == {"code": "produced"}
    assert page.match("/stages") is None and page.match("/stages/a/b") is None
    pages = [page, *default_pages()]
    found = resolve(pages, "/stages/paid", "?line=A&code=x")
    assert found is not None and found[1] == {"line": "A", "code": "paid"}
    assert resolve(pages, "/live", "?refresh=15")[1] == {"refresh": "15"}
    assert resolve(pages, "/nowhere") is None


def test_root_is_served():
    assert resolve(default_pages(), "/") is not None


@pytest.mark.parametrize("path", ["/live", "/live/"])
def test_live_overview_is_served_at_live(path, sqlite_store, tmp_path):
    _, ctx = _app_over(sqlite_store, tmp_path)
    layout = render_page(ctx, default_pages(), path, "?refresh=10")
    ids = {getattr(c, "id", None) for c in layout.children}
    assert {"live-banner", "live-totals", "live-stages", "live-timer"} <= ids
    timer = next(c for c in layout.children if getattr(c, "id", None) == "live-timer")
    assert timer.interval == 10_000


def test_unknown_path_gets_a_not_found_page(sqlite_store, tmp_path):
    _, ctx = _app_over(sqlite_store, tmp_path)
    assert "404" in _texts(render_page(ctx, default_pages(), "/nope", ""))

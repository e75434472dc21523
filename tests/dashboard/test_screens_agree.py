"""Every screen and the command line show the same numbers for the same store: one open
order in a flow stage and one whose only event is the optional after-sales branch, both
promised yesterday, are WIP 1 and overdue 1 everywhere (both backends)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from screens import prop, render_wall, walk
from typer.testing import CliRunner

from dashboard.app import create_app
from dashboard.callbacks import overview as overview_cb
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.settings import Settings
from datasource.store import upgrade_store
from metrics.drilldown import orders_behind_page
from metrics.window import Window
from orderboard.cli import app as cli_app

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
YESTERDAY = NOW - timedelta(days=1)


def _probe(store) -> None:
    upgrade_store(store.engine, store.pipeline)
    start = NOW - timedelta(days=3)
    orders = [OrderRecord("P-FLOW", promised_at=YESTERDAY), OrderRecord("P-AFTER", promised_at=YESTERDAY)]
    events = [EventRecord("P-FLOW", code, "enter", start + timedelta(hours=i))
              for i, code in enumerate(("placed", "reviewed", "paid", "prepared", "produced"))]
    events.append(EventRecord("P-AFTER", "after_sales", "enter", start))
    ingest(store.engine, store.pipeline, orders, events, [])


def test_every_screen_agrees_on_the_probe_store(store, tmp_path):
    _probe(store)
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    app = create_app(settings, engine=store.engine)
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: NOW

    result = CliRunner().invoke(cli_app, ["metrics", "--json", "--db", store.url, "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    cli_numbers = json.loads(result.output)
    assert (cli_numbers["wip"], cli_numbers["delay"]["overdue_now"]) == (1, 1)

    kpis = overview_cb.overview_view(ctx, "?days=7", NOW)[0]
    overview = {prop(t, "id"): int(prop(t, "data-count")) for t in kpis}
    assert (overview["ov-kpi-wip"], overview["ov-kpi-overdue_now"]) == (1, 1)

    _, html_ids, _, out = render_wall(ctx, {"views": "main"}, None, None, NOW)
    slots = [i["slot"] for i in html_ids]
    tiles = out[0][slots.index("kpi")]
    wip_tile = next(t for t in tiles if prop(t, "data-metric") == "wip")
    wall_wip = next(str(prop(c, "children")) for c in walk(wip_tile) if prop(c, "className") == "ob-kpi-value")
    assert wall_wip == "1"
    overdue = out[0][slots.index("overdue")]
    listed = [c for c in walk(overdue) if isinstance(prop(c, "href"), str) and "/orders/" in prop(c, "href")]
    assert [prop(c, "children") for c in listed] == ["P-FLOW"]

    window = Window.last_days(7, NOW, store.pipeline.timezone)
    for what in ("wip", "overdue_now"):
        rows, total = orders_behind_page(store.engine, store.pipeline, what, window, None, NOW)
        assert total == 1 and rows["order_number"].tolist() == ["P-FLOW"]


def test_the_wall_and_the_overview_share_one_summary_computation(store, tmp_path, monkeypatch):
    from dashboard import summary_cache

    _probe(store)
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    ctx = create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: NOW
    calls = []
    real = summary_cache.compute_summary
    monkeypatch.setattr(summary_cache, "compute_summary", lambda *a: calls.append(a[2]) or real(*a))
    overview_cb.overview_view(ctx, "?days=7&line=Line%20A", NOW)
    render_wall(ctx, {"views": "main", "line": "Line A"}, None, None, NOW)
    overview_cb.overview_view(ctx, "?days=7&line=Line%20A", NOW)
    assert len(calls) == 1, "one 7-day summary for the wall and the overview"
    overview_cb.overview_view(ctx, "?days=30&line=Line%20A", NOW)
    assert len(calls) == 2  # another window is another summary

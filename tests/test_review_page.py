"""The review page without a browser: URL state, rendering through the cache, exports."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone

import openpyxl
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.app import create_app
from dashboard.callbacks.review import download, export_file, load_report, navigate, render
from dashboard.service import CachedService
from dashboard.layouts.review import RANGE, WEEK, query_of, selection_from, selection_window
from datasource.demo import generate, seed_store
from datasource.settings import Settings

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
TZ = "Asia/Shanghai"


def test_selection_defaults_to_last_week_and_round_trips_through_the_url():
    assert selection_from({}, NOW, TZ)["week"] == "2026-W47"
    week = selection_from({"week": "2026-w46", "lang": "en"}, NOW, TZ)
    assert (week["week"], week["lang"], week["error"]) == ("2026-W46", "en", None)
    assert query_of(week) == "?week=2026-W46&lang=en"
    dates = selection_from({"from": "2026-11-02", "to": "2026-11-15"}, NOW, TZ)
    assert query_of(dates) == "?from=2026-11-02&to=2026-11-15&lang=zh"
    window = selection_window(dates, TZ)
    assert (window.start.isoformat(), window.end.isoformat()) == (
        "2026-11-01T16:00:00+00:00", "2026-11-15T16:00:00+00:00")


def test_bad_query_falls_back_to_last_week_and_says_why():
    bad = selection_from({"week": "2026-W99"}, NOW, TZ)
    assert bad["week"] == "2026-W47" and "2026-W99" in bad["error"]
    reversed_range = selection_from({"from": "2026-11-15", "to": "2026-11-02"}, NOW, TZ)
    assert reversed_range["week"] == "2026-W47" and reversed_range["error"]


def test_navigate_waits_for_both_dates():
    current = {"week": "2026-W47", "lang": "en"}
    assert navigate("2026-W45", None, None, current, WEEK)[1] == "?week=2026-W45&lang=en"
    with pytest.raises(PreventUpdate):
        navigate("2026-W47", "2026-11-02", None, current, RANGE)
    new, query = navigate("2026-W47", "2026-11-02", "2026-11-08T00:00:00", current, RANGE)
    assert new["from"] == "2026-11-02" and query == "?from=2026-11-02&to=2026-11-08&lang=en"


@pytest.fixture
def ctx(sqlite_store, tmp_path):
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"))
    app = create_app(settings, engine=sqlite_store.engine)
    return app.server.config["ORDERBOARD_CONTEXT"]


def test_empty_store_renders_the_no_orders_note(ctx):
    body, period, error, hidden = render(ctx, selection_from({"lang": "en"}, NOW, TZ))
    assert hidden and error == ""
    assert period.startswith("2026-W")
    assert "No orders completed in this week" in str(body[0].children)


def test_render_is_cached_and_exports_match_the_page(ctx, sqlite_store):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=6, n_orders=300, end=NOW))
    selection = selection_from({"week": "2026-W47", "lang": "en"}, NOW, TZ)
    service = CachedService(ctx.service.cache, ctx.service.version, period_s=3600,
                            lock_dir=ctx.service.lock_dir)
    report = load_report(ctx, selection, service)
    assert load_report(ctx, selection, service).summary.delay == report.summary.delay
    assert service.computations == 1, "one computation per selection and data version"
    data, name = export_file(report, "kpis", "xlsx", "en")
    assert name == "orderboard-2026-W47-kpis.xlsx"
    rows = {r[0]: r[2] for r in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True)}
    assert rows["Orders completed"] == report.summary.delay.completed
    csv, name = export_file(report, "late_orders", "csv", "en")
    assert name.endswith(".csv") and csv.decode("utf-8-sig").count("\n") == len(report.late_orders) + 1
    png, name = export_file(report, "bottleneck", "png", "en")
    assert png.startswith(b"\x89PNG") and name == "orderboard-2026-W47-bottleneck.png"
    pdf, name = export_file(report, "report", "pdf", "en")
    assert pdf.startswith(b"%PDF") and name == "orderboard-2026-W47-review.pdf"
    with pytest.raises(ValueError):
        export_file(report, "nothing", "png", "en")


def test_chart_download_without_a_browser_says_why_at_once(ctx, sqlite_store, tmp_path, monkeypatch):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=6, n_orders=300, end=NOW))
    report = load_report(ctx, selection_from({"week": "2026-W47", "lang": "en"}, NOW, TZ))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    sent, error, hidden = download(report, "bottleneck", "png", "en")
    assert sent is no_update and hidden is False
    assert "chart export needs Chromium" in error and "apt-get install chromium" in error
    # Tables and the whole report need no browser: they still download.
    sent, error, hidden = download(report, "late_orders", "csv", "en")
    assert sent["filename"] == "orderboard-2026-W47-late_orders.csv" and error is no_update
    sent, _, _ = download(report, "report", "pdf", "en")
    assert base64.b64decode(sent["content"]).startswith(b"%PDF")

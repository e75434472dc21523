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


@pytest.mark.usefixtures("export_browser_present")
def test_render_is_cached_and_exports_match_the_page(ctx, sqlite_store):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=6, n_orders=300, end=NOW))
    selection = selection_from({"week": "2026-W47", "lang": "en"}, NOW, TZ)
    before = ctx.service.computations
    report = load_report(ctx, selection)
    assert load_report(ctx, selection).summary.delay == report.summary.delay
    assert ctx.service.computations - before == 1, "one computation per selection and data version"
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


# -- axes, workbook formats, order links ----------------------------------------------

def _ticks(axis) -> list[float]:
    """The tick values of a linear axis (range, tick0, dtick)."""
    low, high = axis.range
    count = round((high - low) / axis.dtick)
    return [axis.tick0 + i * axis.dtick for i in range(count + 1)]


@pytest.fixture
def seeded_report(ctx, sqlite_store):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=6, n_orders=300, end=NOW))
    return load_report(ctx, selection_from({"week": "2026-W47", "lang": "en"}, NOW, TZ))


def test_cycle_time_has_its_own_axis_and_rates_tick_at_round_numbers(seeded_report):
    from dashboard.figures.review import week_trend_figure
    from dashboard.figures.trend import trend_figure

    fig = week_trend_figure(seeded_report.trend, "en")
    median = next(t for t in fig.data if t.name == "Cycle time median (h)")
    assert median.yaxis == "y3"
    hours_axis = fig.layout.yaxis3
    assert hours_axis.visible is not False and hours_axis.title.text == "Cycle time median (h)"
    assert hours_axis.ticksuffix == " h" and hours_axis.overlaying == "y"
    assert fig.layout.yaxis.title.text != hours_axis.title.text   # not read on the order counts
    for figure in (fig, trend_figure(seeded_report.summary.trend, "en")):
        rate = figure.layout.yaxis2
        top = max(v for t in figure.data if t.yaxis == "y2" for v in t.y if v is not None)
        ticks = _ticks(rate)
        assert rate.dtick in (1, 2, 5, 10, 20, 50) and all(float(v).is_integer() for v in ticks)
        assert ticks[-1] == rate.range[1] >= top and len(ticks) <= 7


def test_the_weekly_workbook_carries_number_formats(seeded_report):
    from dashboard.report.xlsx import report_workbook

    book = openpyxl.load_workbook(io.BytesIO(report_workbook(seeded_report, "en")))

    def column(sheet: str, name: str) -> list:
        rows = list(book[sheet].iter_rows())
        at = [c.value for c in rows[0]].index(name)
        return [r[at] for r in rows[1:]]

    rate = column("Trend", "Delay rate")
    assert rate[-1].value == pytest.approx(seeded_report.summary.delay.rate)
    assert {c.number_format for c in rate} == {"0.0%"}
    assert {c.number_format for c in column("Stages", "Median (h)")} == {"#,##0.0"}
    assert {c.number_format for c in column("Stages", "SLA breach rate")} == {"0.0%"}
    kpis = {r[0].value: r for r in book["KPIs"].iter_rows(min_row=2)}
    delay_rate = next(v for k, v in kpis.items() if "delay" in k.lower() and "rate" in k.lower())
    assert delay_rate[2].number_format == "0.0%" and delay_rate[3].number_format == "0.0%"
    completed = column("Late orders", "Completed")
    assert completed and all(c.is_date and c.number_format == "yyyy-mm-dd hh:mm" for c in completed)
    assert {c.number_format for c in column("Late orders", "Late by (h)")} == {"#,##0.0"}
    data, _ = export_file(seeded_report, "trend", "xlsx", "en")   # one table from the page
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Delay rate") + 1).number_format == "0.0%"


def test_late_orders_link_to_their_encoded_order_page(seeded_report):
    import dataclasses

    from dashboard.layouts.review import review_body

    late = seeded_report.late_orders.copy()
    late.loc[late.index[0], "order_number"] = "PO 2024/001 #订单"
    body = review_body(dataclasses.replace(seeded_report, late_orders=late), "en")
    table = next(s for s in body if getattr(s, "id", None) == "review-table-late_orders").children[1]
    first = table.children[1].children[0].children[0].children
    assert first.href == "/orders/PO%202024%2F001%20%23%E8%AE%A2%E5%8D%95"
    assert first.children == "PO 2024/001 #订单"

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

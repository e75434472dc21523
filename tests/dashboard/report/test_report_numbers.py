"""The weekly report's numbers, read back from the PDF text and the XLSX cells, equal
``orderboard metrics --json`` for the same week (and the previous one), on a demo store.
A week without orders says so instead of showing 0 % rates."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import openpyxl
import pytest
from pypdf import PdfReader
from stores import demo_sqlite_url
from typer.testing import CliRunner

from orderboard.cli import app

END = datetime(2026, 11, 25, tzinfo=timezone.utc)
NOW = "2026-11-25T08:00:00+08:00"
WEEK, MONDAY, SUNDAY = "2026-W47", "2026-11-16", "2026-11-22"
PREV_MONDAY, PREV_SUNDAY = "2026-11-09", "2026-11-15"
runner = CliRunner()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    return demo_sqlite_url(tmp_path_factory.mktemp("report"), 900, END)


def metrics_json(url: str, first: str, last: str) -> dict:
    result = runner.invoke(app, ["metrics", "--db", url, "--from", first, "--to", last, "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def write_report(url: str, tmp_path, fmt: str, week: str = WEEK, lang: str = "en") -> bytes:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["report", "--db", url, "--week", week, "--format", fmt,
                                 "--out", str(out), "--now", NOW, "--lang", lang])
    assert result.exit_code == 0, result.output
    assert f"report of {week}" in result.output
    return out.read_bytes()


def pdf_lines(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def after(lines: list[str], label: str, n: int, start: int = 0) -> list[str]:
    i = lines.index(label, start)
    return lines[i + 1: i + 1 + n]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def h(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} h"


KPI_PATHS = {  # label in the report -> (path in metrics JSON, text format)
    "Orders completed": (("delay", "completed"), str),
    "Late orders": (("delay", "late"), str),
    "Delay rate": (("delay", "rate"), pct),
    "Cycle time (median)": (("cycle_time", "median_h"), h),
    "Cycle time (p90)": (("cycle_time", "p90_h"), h),
    "Orders placed": (("flow", "placed"), str),
    "Exceptions opened": (("exceptions", "opened_in_window"), str),
    "Exception response (median)": (("exceptions", "ack_median_h"), h),
    "Exception resolution (median)": (("exceptions", "resolve_median_h"), h),
}


def at(data: dict, path: tuple[str, ...]):
    for key in path:
        data = data[key]
    return data


def test_pdf_numbers_equal_the_metrics_command(store_url, tmp_path):
    this = metrics_json(store_url, MONDAY, SUNDAY)
    previous = metrics_json(store_url, PREV_MONDAY, PREV_SUNDAY)
    assert this["delay"]["completed"] > 20 and this["delay"]["late"] > 0  # a meaningful week
    lines = pdf_lines(write_report(store_url, tmp_path, "pdf"))
    assert f"{WEEK} · {MONDAY} – {SUNDAY}" in lines
    for label, (path, fmt) in KPI_PATHS.items():
        value, prev, _change = after(lines, label, 3)
        assert (value, prev) == (fmt(at(this, path)), fmt(at(previous, path))), label
    table = lines.index("Per-stage changes")
    for stage in this["stages"]:
        cells = after(lines, stage["label_en"], 12, table)
        prev = next(s for s in previous["stages"] if s["code"] == stage["code"])
        assert cells[1] == f"{stage['visits']:,}", stage["code"]
        assert cells[2:6] == [h(stage["mean_h"]), h(stage["median_h"]), h(prev["median_h"]),
                              h(stage["p90_h"])], stage["code"]
        assert cells[6:8] == [str(stage["breaches"]), str(prev["breaches"])], stage["code"]
        assert cells[8:10] == [pct(stage["breach_rate"]), pct(prev["breach_rate"])], stage["code"]
        assert cells[10:12] == [h(stage["delay_contribution_h"]), h(prev["delay_contribution_h"])], stage["code"]
    # Worst late orders: the right count, worst first.
    worst = lines.index("Worst late orders")
    late_by = [float(x[:-2].replace(",", "")) for x in lines[worst:lines.index("Exceptions by kind", worst)]
               if x.endswith(" h")][0::2]
    assert len(late_by) == min(10, this["delay"]["late"])
    assert late_by == sorted(late_by, reverse=True)
    assert "Metric definitions" in lines


def test_xlsx_cells_equal_the_metrics_command(store_url, tmp_path):
    this = metrics_json(store_url, MONDAY, SUNDAY)
    previous = metrics_json(store_url, PREV_MONDAY, PREV_SUNDAY)
    book = openpyxl.load_workbook(io.BytesIO(write_report(store_url, tmp_path, "xlsx")))
    assert book.sheetnames == ["Report", "KPIs", "Stages", "Late orders", "Exceptions", "Trend", "Definitions"]
    kpis = {row[0]: row[2:4] for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    for label, (path, _fmt) in KPI_PATHS.items():
        assert kpis[label] == (pytest.approx(at(this, path)), pytest.approx(at(previous, path))), label
    stages = {row[0]: row for row in book["Stages"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in book["Stages"][1]]
    for stage in this["stages"]:
        row = dict(zip(header, stages[stage["label_en"]]))
        assert row["Median (h)"] == pytest.approx(stage["median_h"])
        assert row["Breaches"] == stage["breaches"]
        assert row["Delay contr. (h)"] == pytest.approx(stage["delay_contribution_h"])
    trend = list(book["Trend"].iter_rows(min_row=2, values_only=True))
    assert len(trend) == 8 and trend[-1][0] == WEEK and trend[-2][0] == "2026-W46"
    assert trend[-1][2:4] == (this["delay"]["completed"], this["delay"]["late"])
    kinds = {row[0]: row[1:] for row in book["Exceptions"].iter_rows(min_row=2, values_only=True)}
    assert sum(n for n, _ in kinds.values()) == this["exceptions"]["opened_in_window"]
    late = list(book["Late orders"].iter_rows(min_row=2, values_only=True))
    assert len(late) == min(10, this["delay"]["late"])
    assert all(isinstance(row[4], datetime) and row[4].tzinfo is None for row in late)  # local, no tz


def test_a_week_without_orders_says_so(store_url, tmp_path):
    lines = pdf_lines(write_report(store_url, tmp_path, "pdf", week="2020-W10"))
    text = " ".join(lines)
    assert "No orders completed in this week" in text
    assert after(lines, "Delay rate", 3) == ["—", "—", "—"]
    assert after(lines, "Cycle time (median)", 3) == ["—", "—", "—"]
    assert "0.0%" not in text
    book = openpyxl.load_workbook(io.BytesIO(write_report(store_url, tmp_path, "xlsx", week="2020-W10")))
    kpis = {row[0]: row[2:] for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["Delay rate"] == (None, None, None)
    assert kpis["Orders completed"] == (0, 0, 0)
    notes = [row[1] for row in book["Report"].iter_rows(values_only=True)]
    assert any("No orders completed in this week" in str(n) for n in notes)


def test_report_command_in_chinese_and_bad_week(store_url, tmp_path):
    lines = pdf_lines(write_report(store_url, tmp_path, "pdf", lang="zh"))
    assert "每周履约复盘" in lines and "延误率" in lines
    result = runner.invoke(app, ["report", "--db", store_url, "--week", "2026-47", "--format", "pdf",
                                 "--out", str(tmp_path / "x.pdf")])
    assert (result.exit_code, result.stderr) == (2, "error: --week 2026-47 is not an ISO week (YYYY-Www, e.g. 2026-W47)\n")
    result = runner.invoke(app, ["report", "--db", store_url, "--week", WEEK, "--format", "doc",
                                 "--out", str(tmp_path / "x.doc")])
    assert (result.exit_code, result.stderr) == (2, "error: --format doc is not a report format: choose pdf or xlsx\n")

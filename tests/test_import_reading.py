"""Reading CSV and XLSX: line numbers, blank rows, and one line for unreadable files."""

from datetime import datetime

import openpyxl
import pytest

from datasource.importers.errors import ImportSetupError
from datasource.importers.reading import _blank, read_table


def test_csv_line_numbers_are_physical_lines_and_blank_rows_are_skipped(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('id,note\nA,"two\nlines"\n\nB,x\n,\nC,y\n', encoding="utf-8")
    table = read_table(path)
    assert table.header == ["id", "note"]
    assert list(table.rows()) == [(2, ["A", "two\nlines"]), (5, ["B", "x"]), (7, ["C", "y"])]
    assert (table.data_rows, table.blank_rows) == (3, 2)


def test_csv_bom_and_header_spaces_are_ignored_and_delimiter_is_configurable(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("\ufeff id ; stage \nA;placed\n".encode("utf-8"))
    table = read_table(path, delimiter=";")
    assert table.header == ["id", "stage"]
    assert list(table.rows()) == [(2, ["A", "placed"])]


def test_csv_in_another_encoding(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("单号,工序\nSO-1,质检\n".encode("gb18030"))
    assert list(read_table(path, encoding="gb18030").rows()) == [(2, ["SO-1", "质检"])]


def test_xlsx_rows_are_sheet_rows_padded_to_the_header(tmp_path):
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["id", "at", None])
    ws.append([1001, datetime(2026, 11, 1, 8, 30)])
    ws.append([None, None])
    ws.append(["B", None, "ignored: beyond the header"])
    book.save(path)
    table = read_table(path)
    assert table.header == ["id", "at"]
    assert list(table.rows()) == [(2, [1001, datetime(2026, 11, 1, 8, 30)]), (4, ["B", None])]
    assert (table.data_rows, table.blank_rows) == (2, 1)


def test_xlsx_sheet_by_name(tmp_path):
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["other"])
    book.create_sheet("orders").append(["id"])
    book["orders"].append(["A"])
    book.save(path)
    assert list(read_table(path, sheet="orders").rows()) == [(2, ["A"])]
    with pytest.raises(ImportSetupError, match=r"^f.xlsx: no sheet 'nope' \(sheets: Sheet, orders\)$"):
        read_table(path, sheet="nope")


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "empty.csv: the file is empty"),
    ("blank.csv", b"\n \n", "blank.csv: the file is empty"),
    ("latin.csv", "id\nJos\u00e9\n".encode("latin-1"),
     'latin.csv: not valid utf-8 text (byte 0xe9 on line 2); set encoding in the mapping (e.g. encoding = "gb18030")'),
    ("nul.csv", b"id\nA\x00B\n",
     "nul.csv: not a CSV text file (NUL byte on line 2); if it is UTF-16, set encoding in the mapping"),
    ("fake.xlsx", b"id,stage\nA,placed\n", "fake.xlsx: not a readable XLSX spreadsheet (File is not a zip file)"),
    ("zip.csv", b"PK\x03\x04garbage", "zip.csv: not a readable XLSX spreadsheet (File is not a zip file)"),
    ("old.xls", b"\xd0\xcf\x11\xe0rest", "old.xls: old Excel .xls files are not supported; save it as .xlsx or CSV"),
])
def test_unreadable_files_fail_with_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportSetupError) as exc:
        read_table(path)
    assert str(exc.value) == message


def test_missing_file(tmp_path):
    with pytest.raises(ImportSetupError, match="does not exist or is not a file$"):
        read_table(tmp_path / "nope.csv")


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,stage\n", encoding="utf-8")
    table = read_table(path)
    with pytest.raises(ImportSetupError) as exc:
        table.column_indexes(["id", "when", "who"])
    assert str(exc.value) == ("f.csv: column(s) 'when', 'who' named in the mapping are not in the "
                              "header (it has id, stage)")
    assert table.column_indexes(["stage", "id"]) == {"stage": 1, "id": 0}


@pytest.mark.parametrize("values, blank", [
    (["", " ", "\t"], True), (["", " x "], False), ([], True),
    ([None, " "], True), ([None, 0], False), ([" ", False], False), ([None, "\u3000"], True),
])
def test_a_blank_row_is_one_of_empty_or_whitespace_cells_only(values, blank):
    assert _blank(values) is blank

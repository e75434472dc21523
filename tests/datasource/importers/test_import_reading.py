"""Reading CSV and XLSX: line numbers, blank rows, and one line for unreadable files."""

import random
from datetime import datetime

import openpyxl
import pytest

from datasource.importers.errors import ImportSetupError
from datasource.importers.reading import Ambiguous, _blank, read_table

NOT_A_TABLE = "not a CSV or Excel file (save it from Excel as .xlsx or CSV)"


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
    ("nul.csv", b"id\nA\x00B\n", "nul.csv: " + NOT_A_TABLE),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "picture.csv: " + NOT_A_TABLE),
    ("noise.csv", random.Random(3).randbytes(4000), "noise.csv: " + NOT_A_TABLE),
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
    with pytest.raises(ImportSetupError, match=r"does not exist or is not a file$"):
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


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_the_encoding_is_found_from_the_bytes(tmp_path, encoding):
    """UTF-8 with or without BOM, GBK/GB18030 as Excel on a Chinese Windows saves, and
    UTF-16 tab-separated ("Unicode text", with its BOM)."""
    sep = "\t" if encoding == "utf-16" else ","
    text = sep.join(["单号", "客户", "交期"]) + "\n" + sep.join(["SO-1", "华东机电", "2026/11/3"]) + "\n"
    path = tmp_path / "ledger.csv"
    path.write_bytes(text.encode(encoding))
    table = read_table(path)
    assert table.header == ["单号", "客户", "交期"]
    assert list(table.rows()) == [(2, ["SO-1", "华东机电", "2026/11/3"])]
    assert table.encoding == {"gbk": "gb18030", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}.get(
        encoding, encoding)


def test_random_bytes_are_never_taken_for_text(tmp_path):
    path = tmp_path / "noise.csv"
    rng = random.Random(11)
    for size in (50, 500, 5000):
        for _ in range(20):
            path.write_bytes(rng.randbytes(size))
            with pytest.raises(ImportSetupError, match="not a CSV or Excel file"):
                read_table(path)


def test_utf16_without_a_mark_is_read_too(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("单号\t客户\nSO-1\t华东\n".encode("utf-16-le"))
    assert list(read_table(path).rows()) == [(2, ["SO-1", "华东"])]


def test_latin_text_is_read_as_windows_1252_and_the_mapping_encoding_overrides(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,José Müller\n".encode("latin-1"))
    assert list(read_table(path).rows()) == [(2, ["1", "José Müller"])]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("单号,工序\nSO-1,质检\n".encode("gb18030"))
    assert list(read_table(gbk, encoding="gb18030").rows()) == [(2, ["SO-1", "质检"])]
    with pytest.raises(ImportSetupError) as exc:
        read_table(gbk, encoding="utf-8")
    assert str(exc.value) == ("gbk.csv: not valid utf-8 text (byte 0xb5 on line 1); check encoding in "
                              "the mapping, or leave it out: the encoding is found from the file")


def test_title_rows_are_skipped_and_a_totals_row_is_left_out(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("2026年11月 订单台账,,\n制表：王芳,,\n\n单号,客户,数量\nSO-1,华东,3\n"
                    "SO-2,合计公司,4\n,,\n合计,,7\n", encoding="utf-8")
    table = read_table(path)
    assert (table.header_line, table.header) == (4, ["单号", "客户", "数量"])
    # a totals word in the middle is data (a customer may be called that); only the
    # bottom row is a totals row
    assert list(table.rows()) == [(5, ["SO-1", "华东", "3"]), (6, ["SO-2", "合计公司", "4"])]
    assert (table.data_rows, table.blank_rows, table.totals) == (2, 1, [(8, "合计")])


def test_the_header_is_the_row_with_the_mapped_columns_or_header_row(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("说明,请勿修改,表头\n单号,客户,数量\nSO-1,华东,3\n", encoding="utf-8")
    assert read_table(path).header_line == 1  # a text-only row as wide as the header
    assert read_table(path, expected=["单号", "数量"]).header_line == 2
    assert read_table(path, header_row=2).header == ["单号", "客户", "数量"]
    with pytest.raises(ImportSetupError, match="header_row 9 is blank or past the end of the file"):
        read_table(path, header_row=9)


def test_xlsx_merged_cells_fill_every_row_they_span(tmp_path):
    path = tmp_path / "ledger.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["十一月订单台账"])
    ws.merge_cells("A1:C1")  # the title across the columns
    ws.append(["单号", "客户", "环节"])
    for row in (["SO-1", "华东", "下单"], [None, None, "审核"], [None, None, "发货"], ["SO-2", "南方", "下单"]):
        ws.append(row)
    ws.merge_cells("A3:A5")
    ws.merge_cells("B3:B5")
    ws.append(["合计", None, None])
    book.save(path)
    table = read_table(path)
    assert (table.header_line, table.header) == (2, ["单号", "客户", "环节"])
    assert list(table.rows()) == [(3, ["SO-1", "华东", "下单"]), (4, ["SO-1", "华东", "审核"]),
                                  (5, ["SO-1", "华东", "发货"]), (6, ["SO-2", "南方", "下单"])]
    assert table.totals == [(7, "合计")]


def test_fill_down_gives_a_csv_saved_from_merged_cells_its_values(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("单号,环节\nSO-1,下单\n,审核\n\n,发货\nSO-2,下单\n", encoding="utf-8")
    table = read_table(path, fill_down=["单号"])
    assert list(table.rows()) == [(2, ["SO-1", "下单"]), (3, ["SO-1", "审核"]),
                                  (5, ["SO-1", "发货"]), (6, ["SO-2", "下单"])]
    with pytest.raises(ImportSetupError, match="fill_down column\\(s\\) '订单' are not in the header"):
        read_table(path, fill_down=["订单"])


def test_the_first_ambiguous_date_is_noted(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("单号,交期\nSO-1,2026/11/3\nSO-2,25/11/2026\nSO-3,03/12/2026\n", encoding="utf-8")
    assert read_table(path, date_columns=["交期"]).ambiguous == Ambiguous("交期", 4, "03/12/2026")
    assert read_table(path).ambiguous is None

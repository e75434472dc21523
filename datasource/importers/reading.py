"""Reading a CSV or XLSX file into a header and numbered rows, or failing with one line.

The whole file is read and checked before any row is handed out, so a file that turns
out to be unreadable halfway (a bad byte on line 90,000) fails before anything is
written. Line numbers are 1-based with the header on line 1; for CSV they are the
physical line a record starts on (a quoted field may span lines), for XLSX the sheet
row. Rows whose cells are all empty are skipped and counted in ``blank_rows``; they are
not data rows.

Format: ``.xlsx``/``.xlsm`` (or content starting like a ZIP file) is read as XLSX with
openpyxl; ``.xes``/``.xes.gz`` as an XES event log, streamed (``importers.xes``; its
columns are attribute keys, trace attributes prefixed ``case:``); ``.xls`` (the old
binary format) is refused; anything else is CSV.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasource.importers.errors import ImportSetupError
from datasource.importers.xes import is_xes, scan_xes, xes_rows

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Table:
    """A checked file: its header and its non-blank rows as ``(line, values)``.

    For CSV ``values`` are strings, exactly as many as the file's record has (which may
    differ from the header's width: the importer rejects such rows). For XLSX they are
    cell values (str, int, float, datetime, date, bool or None) padded or cut to the
    header's width.
    """

    path: Path
    kind: str
    header: list[str]
    data_rows: int
    blank_rows: int
    _text: str | None = field(default=None, repr=False)
    _delimiter: str = ","
    _rows: list[tuple[int, list[Any]]] | None = field(default=None, repr=False)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.kind == "xes":
            yield from xes_rows(self.path, self.header)
            return
        if self._rows is not None:
            yield from self._rows
            return
        assert self._text is not None
        for line, values in _csv_records(self._text, self._delimiter):
            if line > 1 and not _blank(values):
                yield line, values

    def column_indexes(self, columns: list[str]) -> dict[str, int]:
        """Position of each named column; ImportSetupError names any that are missing
        or that appear twice in the header."""
        missing = [c for c in columns if c not in self.header]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            raise ImportSetupError(
                f"{self.path.name}: column(s) {names} named in the mapping are not in the "
                f"header (it has {', '.join(self.header)})"
            )
        twice = [c for c in columns if self.header.count(c) > 1]
        if twice:
            raise ImportSetupError(f"{self.path.name}: column {twice[0]!r} appears twice in the header")
        return {c: self.header.index(c) for c in columns}


def read_table(path: str | Path, encoding: str = "utf-8", delimiter: str = ",",
               sheet: str | None = None) -> Table:
    """Open and check a CSV or XLSX file; ImportSetupError (one line) if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ImportSetupError(f"{path} does not exist or is not a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ImportSetupError(f"{path}: cannot be read ({exc.strerror})") from None
    suffix = path.suffix.lower()
    if is_xes(path, head):
        header, events, _traces = scan_xes(path)
        return Table(path, "xes", header, events, 0)
    if suffix == ".xls" or head.startswith(OLE_MAGIC):
        raise ImportSetupError(f"{path.name}: old Excel .xls files are not supported; save it as .xlsx or CSV")
    if suffix in (".xlsx", ".xlsm") or head.startswith(ZIP_MAGIC):
        return _read_xlsx(path, sheet)
    return _read_csv(path, encoding, delimiter)


def _read_csv(path: Path, encoding: str, delimiter: str) -> Table:
    raw = path.read_bytes()
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = raw.decode(codec)
    except LookupError:
        raise ImportSetupError(f"unknown encoding {encoding!r} in the mapping") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportSetupError(
            f"{path.name}: not valid {encoding} text (byte 0x{raw[exc.start]:02x} on line {line}); "
            f"set encoding in the mapping (e.g. encoding = \"gb18030\")"
        ) from None
    if not text.strip():
        raise ImportSetupError(f"{path.name}: the file is empty")
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportSetupError(
            f"{path.name}: not a CSV text file (NUL byte on line {text.count(chr(10), 0, nul) + 1}); "
            "if it is UTF-16, set encoding in the mapping"
        )
    header: list[str] | None = None
    data_rows = blank_rows = 0
    try:
        for line, values in _csv_records(text, delimiter):
            if header is None:
                header = [v.strip() for v in values]
            elif _blank(values):
                blank_rows += 1
            else:
                data_rows += 1
    except csv.Error as exc:
        raise ImportSetupError(f"{path.name}: not a readable CSV file ({exc})") from None
    if not header or _blank(header):
        raise ImportSetupError(f"{path.name}: line 1 has no column names")
    return Table(path, "csv", header, data_rows, blank_rows, _text=text, _delimiter=delimiter)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(first physical line, fields)`` of each CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    for values in reader:
        yield start, values
        start = reader.line_num + 1


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl  # imported here: only XLSX imports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # A file object, not the path: openpyxl would refuse a .csv name before looking inside.
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportSetupError(f"{path.name}: not a readable XLSX spreadsheet ({_first_line(exc)})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ImportSetupError(
                f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        ws.reset_dimensions()  # stored dimensions are often wrong; read what is there
        rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    except ImportSetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unreadable"
        raise ImportSetupError(f"{path.name}: not a readable XLSX spreadsheet ({_first_line(exc)})") from None
    finally:
        book.close()
    if not rows or all(_blank(r) for r in rows):
        raise ImportSetupError(f"{path.name}: the sheet is empty")
    header_cells = rows[0]
    while header_cells and header_cells[-1] in (None, ""):
        header_cells = header_cells[:-1]
    if not header_cells:
        raise ImportSetupError(f"{path.name}: row 1 has no column names")
    header = ["" if v is None else str(v).strip() for v in header_cells]
    width = len(header)
    body: list[tuple[int, list[Any]]] = []
    blank_rows = 0
    for line, values in enumerate(rows[1:], start=2):
        values = (values + [None] * width)[:width]
        if _blank(values):
            blank_rows += 1
        else:
            body.append((line, values))
    return Table(path, "xlsx", header, len(body), blank_rows, _rows=body)


def _blank(values: list[Any]) -> bool:
    try:  # all text (every CSV row): one join, blank when nothing but whitespace is left
        return not "".join(values).strip()
    except TypeError:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

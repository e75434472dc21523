"""Reading a CSV or XLSX file into a header and numbered rows, or failing with one line.

The whole file is read and checked before any row is handed out, so a file that turns
out to be unreadable halfway (a bad byte on line 90,000) fails before anything is
written. Line numbers are 1-based as the file shows them: for CSV the physical line a
record starts on (a quoted field may span lines), for XLSX the sheet row. Rows whose
cells are all empty are skipped and counted in ``blank_rows``; they are not data rows.

Ledgers as people keep them:

- the header row is found: the first row that holds every column the mapping names
  (``expected``), else the first row about as wide as the widest of the first rows and
  made of text only; title rows above it ("2026年11月 订单台账") are skipped.
  ``header_row`` says where it is instead.
- XLSX merged cells (an order number merged over the rows of its items) are read as
  their value on every row they span, in the merge's first column; for CSV (where a
  merge survives as one value and empty cells below it) ``fill_down`` names the columns
  whose empty cells take the value above.
- a totals row at the bottom (合计, 总计, 小计, Total...) is recognised and reported in
  ``totals``, not handed out as data.
- CSV text is decoded as ``importers.encoding`` finds it; the delimiter is a tab when the
  header line has tabs and no commas (Excel's "Unicode text").

Format: ``.xlsx``/``.xlsm`` (or content starting like a ZIP file) is read as XLSX with
openpyxl; ``.xes``/``.xes.gz`` as an XES event log, streamed (``importers.xes``; its
columns are attribute keys, trace attributes prefixed ``case:``); ``.xls`` (the old
binary format) is refused; anything else is CSV.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from datasource.importers.encoding import decode_text
from datasource.importers.errors import ImportSetupError
from datasource.importers.timestamps import is_ambiguous
from datasource.importers.xes import is_xes, scan_xes, xes_rows

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Rows looked at for the header (title rows, notes, a blank row or two above it).
HEADER_SEARCH = 30
TOTAL_WORDS = ("合计", "总计", "小计", "共计", "汇总", "总和", "合計", "總計",
               "total", "totals", "grandtotal", "subtotal", "sum")
# Rows at the bottom looked at for totals (小计 rows above a 合计 row).
TOTALS_LOOK = 5
_PUNCT = re.compile(r"[\s:：()（）\[\]【】.。]+")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+[0-9]+:[A-Z]+[0-9]+)\"")


@dataclass(frozen=True)
class Ambiguous:
    """The first year-last date of a file that reads both ways (03/11/2026)."""

    column: str
    line: int
    value: str


@dataclass
class Table:
    """A checked file: its header and its non-blank rows as ``(line, values)``.

    For CSV ``values`` are strings, exactly as many as the file's record has (which may
    differ from the header's width: the importer rejects such rows). For XLSX they are
    cell values (str, int, float, datetime, date, bool or None) padded or cut to the
    header's width. ``header_line``: where the header is (lines above it are titles);
    ``totals``: ``(line, label)`` of each totals row left out; ``encoding``: how the
    CSV text was decoded.
    """

    path: Path
    kind: str
    header: list[str]
    data_rows: int
    blank_rows: int
    header_line: int = 1
    totals: list[tuple[int, str]] = field(default_factory=list)
    encoding: str | None = None
    ambiguous: Ambiguous | None = None
    _text: str | None = field(default=None, repr=False)
    _delimiter: str = ","
    _rows: list[tuple[int, list[Any]]] | None = field(default=None, repr=False)
    _fill: tuple[int, ...] = ()
    #: the line end of a plain text (``line_end``), None for any other
    plain_end: str | None = None
    #: ``(line, column index)`` of the cells that took their value from a merged cell
    #: or from the row above (``fill_down``)
    filled: set[tuple[int, int]] = field(default_factory=set, repr=False)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.kind == "xes":
            yield from xes_rows(self.path, self.header)
            return
        if self._rows is not None:
            yield from self._rows
            return
        assert self._text is not None
        skip = {line for line, _ in self.totals}
        records = _csv_records(self._text, self._delimiter)
        for line, values in _filled(_after(records, self.header_line), self._fill):
            if line not in skip and not is_blank(values):
                yield line, values

    def column_indexes(self, columns: list[str]) -> dict[str, int]:
        """Position of each named column; ImportSetupError names any that are missing
        or that appear twice in the header."""
        missing = [c for c in columns if c not in self.header]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            where = f" on line {self.header_line}" if self.header_line != 1 else ""
            raise ImportSetupError(
                f"{self.path.name}: column(s) {names} named in the mapping are not in the "
                f"header{where} (it has {', '.join(self.header)})"
            )
        twice = [c for c in columns if self.header.count(c) > 1]
        if twice:
            raise ImportSetupError(f"{self.path.name}: column {twice[0]!r} appears twice in the header")
        return {c: self.header.index(c) for c in columns}


def read_table(path: str | Path, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None, *, header_row: int | None = None,
               expected: Iterable[str] = (), fill_down: Iterable[str] = (),
               date_columns: Iterable[str] = ()) -> Table:
    """Open and check a CSV or XLSX file; ImportSetupError (one line) if it cannot be read.

    ``expected``: column names the header should hold (the mapping's); ``date_columns``:
    columns whose first ambiguous year-last date is noted in ``Table.ambiguous``."""
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
    layout = _Layout(list(expected), list(fill_down), list(date_columns), header_row)
    if suffix in (".xlsx", ".xlsm") or head.startswith(ZIP_MAGIC):
        return _read_xlsx(path, sheet, layout)
    return _read_csv(path, encoding, delimiter, layout)


@dataclass
class _Layout:
    expected: list[str]
    fill_down: list[str]
    date_columns: list[str]
    header_row: int | None


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, layout: _Layout) -> Table:
    text, used = decode_text(path.read_bytes(), path.name, encoding)
    if not text or text.isspace():  # (strip() would copy the whole text)
        raise ImportSetupError(f"{path.name}: the file is empty")
    if delimiter is None:
        first = _first_text_line(text)
        delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        head = _head(text, delimiter, layout.header_row)
        header_line, header = _find_header(path, head, layout)
        fill = _indexes(path, header, layout.fill_down)
        dates = [(c, header.index(c)) for c in layout.date_columns if c in header]
        noted: set[tuple[int, int]] = set()
        counted = None if fill else _plain_counts(text, delimiter, header_line, dates)
        if counted is not None:
            data_rows, blank_rows, ambiguous, last, _end = counted
        else:
            data_rows = blank_rows = 0
            ambiguous = None
            tail: deque[tuple[int, list[Any]]] = deque(maxlen=TOTALS_LOOK)
            for line, values in _filled(_after(_csv_records(text, delimiter), header_line), fill,
                                        noted):
                if is_blank(values):
                    blank_rows += 1
                    continue
                data_rows += 1
                tail.append((line, values))
                if ambiguous is None and dates:
                    ambiguous = _first_ambiguous(dates, line, values)
            last = list(tail)
        trailing = _trailing_totals(last)
        data_rows -= len(trailing)
    except csv.Error as exc:
        raise ImportSetupError(f"{path.name}: not a readable CSV file ({exc})") from None
    return Table(path, "csv", header, data_rows, blank_rows, header_line, trailing, used,
                 ambiguous, _text=text, _delimiter=delimiter, _fill=fill, filled=noted,
                 plain_end=None if counted is None else counted[4])


def _first_text_line(text: str) -> str:
    """The first line with something in it (as ``splitlines`` splits), looked for in a
    growing start of the text rather than in all of it."""
    size = 1 << 16
    while True:
        whole = size >= len(text)
        lines = (text if whole else text[:size]).splitlines()
        if not whole:
            lines.pop()  # it may go on past the cut
        found = next((ln for ln in lines if ln.strip()), None)
        if found is not None or whole:
            return found or ""
        size *= 8


def _head(text: str, delimiter: str, header_row: int | None) -> list[tuple[int, list[Any]]]:
    """The first non-blank records, up to ``HEADER_SEARCH`` or the ``header_row``, read
    from a growing start of the text cut at a line end (a quoted field running over the
    cut makes the reader fail: then more is read)."""
    size = 1 << 16
    while True:
        cut = text.find("\n", size)
        part = text if cut < 0 else text[:cut + 1]
        head = []
        try:
            for line, values in _csv_records(part, delimiter):
                if not is_blank(values):
                    head.append((line, values))
                if len(head) >= HEADER_SEARCH or (header_row and line >= header_row):
                    return head
        except csv.Error:
            if part is text:
                raise
        else:
            if part is text:
                return head
        size *= 8


def line_end(text: str) -> str | None:
    """The line end of a *plain* CSV text, or None when it is not plain. Plain: no quote
    character, no NUL, no carriage return other than in CRLF line ends (``"\\r\\n"``
    is returned when every line ends so). Each physical line of a plain text is one
    record whose fields are the pieces between delimiters, exactly as ``csv.reader``
    reads them, so it can be split as text."""
    if '"' in text or "\x00" in text:
        return None
    if "\r" not in text:
        return "\n"
    crlf = text.count("\r\n")
    return "\r\n" if text.count("\r") == crlf == text.count("\n") else None


def _plain_counts(text: str, delimiter: str, header_line: int, dates: list[tuple[str, int]]
                  ) -> tuple[int, int, Ambiguous | None, list[tuple[int, list[str]]], str] | None:
    """What the pass of ``_read_csv`` over the records finds (data rows, blank rows, the
    first ambiguous date, the last rows), and the line end, found from the lines of a
    plain text (see ``line_end``) at a fraction of the cost; None when it is not plain."""
    end = line_end(text)
    if end is None or len(delimiter) != 1 or delimiter.isalnum():
        return None
    pieces = text.split(end, header_line)
    body = pieces[header_line] if len(pieces) > header_line else ""
    del pieces
    lines = body.split(end)
    if lines and lines[-1] == "":
        lines.pop()  # the last line end closes the last record
    if lines and max(map(len, lines)) >= csv.field_size_limit():
        return None  # csv.reader refuses such a field: let it say so
    first = header_line + 1
    # A line whose first character is a letter or digit is not blank: only the others
    # are looked at.
    blank = {i for i, ln in enumerate(lines)
             if not ln[:1].isalnum() and is_blank(ln.split(delimiter))}
    ambiguous = None
    if dates:
        for i in _year_last_lines(body):
            if i not in blank:
                ambiguous = _first_ambiguous(dates, first + i, lines[i].split(delimiter))
                if ambiguous is not None:
                    break
    last: list[tuple[int, list[str]]] = []
    for i in range(len(lines) - 1, -1, -1):
        if len(last) == TOTALS_LOOK:
            break
        if i not in blank:
            last.insert(0, (first + i, lines[i].split(delimiter)))
    return len(lines) - len(blank), len(blank), ambiguous, last, end


def _year_last_lines(body: str) -> list[int]:
    """The indexes of the lines of ``body`` that may hold a year-last date
    (``timestamps._XXY``: a separator ``-``, ``/`` or ``.``, maybe spaces, then four
    digits), found in its bytes at once. Any byte of a non-ASCII character counts as a
    digit (``\\d`` takes any Unicode digit), so no such line is missed; a few others
    are looked at."""
    if not body:
        return []
    data = np.frombuffer(body.encode("utf-8"), np.uint8)
    separator = data == ord("-")
    separator |= data == ord("/")
    separator |= data == ord(".")
    at = np.flatnonzero(separator)
    del separator
    if not len(at):
        return []
    spaces = np.frombuffer(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", np.uint8)
    q = np.minimum(at + 1, len(data) - 1)
    for _ in range(64):  # the separator's spaces: past this many, the line is looked at
        more = np.isin(data[q], spaces) & (q < len(data) - 1)
        if not more.any():
            break
        q[more] += 1
    found = more.copy()
    end = len(data) - 1
    digits = np.ones(len(q), bool)
    for k in range(4):
        byte = data[np.minimum(q + k, end)]
        digits &= ((byte >= ord("0")) & (byte <= ord("9"))) | (byte >= 0x80)
    found |= digits
    if not found.any():
        return []
    line_ends = np.flatnonzero(data == ord("\n"))
    return np.unique(np.searchsorted(line_ends, at[found])).tolist()


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(first physical line, fields)`` of each CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    for values in reader:
        yield start, values
        start = reader.line_num + 1


def _after(records: Iterable[tuple[int, list]], header_line: int) -> Iterator[tuple[int, list]]:
    for line, values in records:
        if line > header_line:
            yield line, values


def _filled(records: Iterable[tuple[int, list]], fill: tuple[int, ...],
            noted: set[tuple[int, int]] | None = None) -> Iterator[tuple[int, list]]:
    """Records with the empty cells of the ``fill`` columns taking the value above
    (noted in ``noted``)."""
    if not fill:
        return iter(records)
    return _fill_records(records, fill, noted)


def _fill_records(records: Iterable[tuple[int, list]], fill: tuple[int, ...],
                  noted: set[tuple[int, int]] | None) -> Iterator[tuple[int, list]]:
    last: dict[int, Any] = {}
    for line, values in records:
        if not is_blank(values):
            for i in fill:
                if i < len(values):
                    v = values[i]
                    if v is None or (isinstance(v, str) and not v.strip()):
                        if i in last:
                            values = list(values)
                            values[i] = last[i]
                            if noted is not None:
                                noted.add((line, i))
                    else:
                        last[i] = v
        yield line, values


def _find_header(path: Path, head: list[tuple[int, list[Any]]], layout: _Layout
                 ) -> tuple[int, list[str]]:
    """``(line, names)`` of the header among the first non-blank rows (see the module
    docstring)."""
    if not head:
        raise ImportSetupError(f"{path.name}: the file is empty")
    if layout.header_row is not None:
        chosen = next((r for r in head if r[0] == layout.header_row), None)
        if chosen is None:
            raise ImportSetupError(f"{path.name}: header_row {layout.header_row} is blank or past "
                                   "the end of the file")
        return chosen[0], _names(chosen[1])
    if layout.expected:
        for line, values in head:
            names = _names(values)
            if all(c in names for c in layout.expected):
                return line, names
    widest = max(_filled_count(v) for _, v in head)
    for line, values in head:
        count = _filled_count(values)
        if count >= max(2, 0.8 * widest) and all(_is_label(v) for v in values if not _empty(v)):
            return line, _names(values)
    line, values = head[0]
    return line, _names(values)


def _names(values: list[Any]) -> list[str]:
    names = ["" if v is None else str(v).strip() for v in values]
    while names and not names[-1]:
        names.pop()
    return names


def _indexes(path: Path, header: list[str], columns: list[str]) -> tuple[int, ...]:
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportSetupError(f"{path.name}: fill_down column(s) {', '.join(map(repr, missing))} "
                               f"are not in the header (it has {', '.join(header)})")
    return tuple(header.index(c) for c in columns)


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _filled_count(values: list[Any]) -> int:
    return sum(1 for v in values if not _empty(v))


def _is_label(v: Any) -> bool:
    """A cell that can be a column name: text that is not a number or a date."""
    if not isinstance(v, str):
        return False
    t = v.strip().replace(",", "")
    try:
        float(t)
    except ValueError:
        return not (t[:4].isdigit() and len(t) >= 8)
    return False


def _trailing_totals(last: Iterable[tuple[int, list[Any]]]) -> list[tuple[int, str]]:
    """``(line, label)`` of the totals rows at the end of the last rows (小计 then 合计)."""
    found: list[tuple[int, str]] = []
    for line, values in reversed(list(last)):
        label = _totals_label(values)
        if label is None:
            break
        found.append((line, label))
    return found[::-1]


def _totals_label(values: list[Any]) -> str | None:
    """The totals word of a row (合计, Total...), if one of its text cells is one."""
    for v in values:
        if isinstance(v, str) and v.strip():
            word = _PUNCT.sub("", v).casefold()
            if word in TOTAL_WORDS:
                return v.strip()
    return None


def _first_ambiguous(dates: list[tuple[str, int]], line: int, values: list[Any]) -> Ambiguous | None:
    for column, i in dates:
        if i < len(values) and is_ambiguous(values[i]):
            return Ambiguous(column, line, values[i].strip())
    return None


def _read_xlsx(path: Path, sheet: str | None, layout: _Layout) -> Table:
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
        noted = _fill_merged(rows, _merged_ranges(ws))
    except ImportSetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unreadable"
        raise ImportSetupError(f"{path.name}: not a readable XLSX spreadsheet ({_first_line(exc)})") from None
    finally:
        book.close()
    if not rows or all(is_blank(r) for r in rows):
        raise ImportSetupError(f"{path.name}: the sheet is empty")
    numbered = [(line, values) for line, values in enumerate(rows, start=1) if not is_blank(values)]
    header_line, header = _find_header(path, numbered[:HEADER_SEARCH], layout)
    if not header:
        raise ImportSetupError(f"{path.name}: row {header_line} has no column names")
    width = len(header)
    fill = _indexes(path, header, layout.fill_down)
    dates = [(c, header.index(c)) for c in layout.date_columns if c in header]
    body: list[tuple[int, list[Any]]] = []
    blank_rows = 0
    ambiguous: Ambiguous | None = None
    cut = [(line, (values + [None] * width)[:width])
           for line, values in enumerate(rows[header_line:], start=header_line + 1)]
    for line, values in _filled(cut, fill, noted):
        if is_blank(values):
            blank_rows += 1
            continue
        body.append((line, values))
        if ambiguous is None and dates:
            ambiguous = _first_ambiguous(dates, line, values)
    trailing = _trailing_totals(body[-TOTALS_LOOK:])
    if trailing:
        del body[-len(trailing):]
    return Table(path, "xlsx", header, len(body), blank_rows, header_line, trailing, None,
                 ambiguous, _rows=body, filled=noted)


def _merged_ranges(ws) -> list[tuple[int, int, int, int]]:
    """``(min_col, min_row, max_col, max_row)`` of the sheet's merged cells, read from
    the sheet's XML (openpyxl's read-only sheets do not parse them; the full reader
    would hold every cell as an object)."""
    from openpyxl.utils.cell import range_boundaries

    found: list[tuple[int, int, int, int]] = []
    tail = b""
    with ws._get_source() as src:
        while chunk := src.read(1 << 20):
            data = tail + chunk
            found.extend(range_boundaries(m.decode()) for m in _MERGE.findall(data))
            cut = data.rfind(b"<")
            tail = data[cut:] if cut >= 0 and b">" not in data[cut:] else b""
    return found


def _fill_merged(rows: list[list[Any]], ranges: list[tuple[int, int, int, int]]
                 ) -> set[tuple[int, int]]:
    """Give each row a vertical merge spans its value, in the merge's first column;
    returns the ``(row, column index)`` filled."""
    noted: set[tuple[int, int]] = set()
    for min_col, min_row, _max_col, max_row in ranges:
        if max_row <= min_row or min_row > len(rows):
            continue
        col = min_col - 1
        top = rows[min_row - 1]
        value = top[col] if col < len(top) else None
        for r in range(min_row, min(max_row, len(rows))):
            row = rows[r]
            if len(row) <= col:
                row.extend([None] * (col + 1 - len(row)))
            row[col] = value
            noted.add((r + 1, col))
    return noted


def is_blank(values: list[Any]) -> bool:
    """Whether a row has nothing but empty cells (not a data row)."""
    try:  # all text (every CSV row): one join, blank when nothing but whitespace is left
        return not "".join(values).strip()
    except TypeError:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_blank = is_blank  # its earlier name

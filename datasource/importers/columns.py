"""The rows of a plain event-log CSV as columns, read many at once (numpy), for the
fresh-store bulk load (``importers.bulkload``).

A CSV text is *plain* when it has no quote character, no NUL and no carriage return
other than in CRLF line ends: then each physical line is one record and its fields are
the pieces between delimiters, exactly as ``csv.reader`` reads them, so the text can be
split as text. A mapping is *plain* when it maps only event fields (order number, stage,
timestamp, operator, event type, note, event id): no order attributes, constants,
``fill_down`` or ``timestamp_format``.

A row is read here only when each of its values is in a form whose reading is certain:
its width is the header's, its order id, operator, note and event id are text within
their limits, its stage and event type are known (looked up once per distinct value
through the row parser's own functions), and its timestamp is ISO 8601 in one of the
forms ``iso_instants`` reads. Every other row (blank, a totals row, anything odd) is
left to the row parser (``eventlog.parse_event_row``), which stores or rejects it with
its reason exactly as an incremental import does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from datasource.importers.attributes import RowContext, text
from datasource.importers.errors import RowRejected
from datasource.importers.eventlog import NEEDS_STAGE, _event_type, _stage
from datasource.importers.limits import EVENT_ID_LIMIT, OPERATOR_LIMIT, ORDER_NUMBER_LIMIT
from datasource.importers.mapping import EVENT_FIELDS, SKIP, Mapping
from datasource.importers.reading import Table
from datasource.importers.timestamps import steady_offset
from datasource.instants import FIRST_US, LAST_US, US
from datasource.pipeline import Pipeline

PLAIN_FIELDS = frozenset({"order_number", *EVENT_FIELDS})
_BAD = object()


@dataclass
class EventColumns:
    """The rows read here (``line`` ascending) and those left to the row parser."""

    line: np.ndarray
    order_number: list[str]
    stage: list[str | None]
    event_type: list[str]
    at: np.ndarray  # microseconds since the epoch, UTC
    operator: list[str | None]
    note: list[str | None]
    event_id: list[str | None]
    others: list[tuple[int, list[str]]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # event type as written -> rows left out


def plain_mapping(mapping: Mapping) -> bool:
    return (mapping.shape == "events" and set(mapping.columns) <= PLAIN_FIELDS
            and not mapping.constants and not mapping.fill_down
            and mapping.timestamp_format is None)


def event_columns(table: Table, ctx: RowContext, pipeline: Pipeline) -> EventColumns | None:
    """The table's rows as columns (module docstring), or None when the file or the
    mapping is not plain."""
    if table.kind != "csv" or table._text is None or not plain_mapping(ctx.mapping):
        return None
    end = table.plain_end
    if end is None or len(table._delimiter) != 1:
        return None
    d = table._delimiter
    width = len(table.header)
    pieces = table._text.split(end, table.header_line)
    body = pieces[table.header_line] if len(pieces) > table.header_line else ""
    del pieces
    lines = body.split(end)
    del body
    if lines and lines[-1] == "":
        lines.pop()  # the last line end closes the last record
    first_line = table.header_line + 1
    counts = np.fromiter(map(str.count, lines, repeat(d)), np.int64, len(lines))
    regular = counts == width - 1
    skip = {total for total, _ in table.totals}
    for total in skip:
        if 0 <= total - first_line < len(lines):
            regular[total - first_line] = False
    idx = np.flatnonzero(regular)
    if not len(idx):
        flat: list[str] = []  # (splitting an empty text gives one empty field)
    elif len(idx) == len(lines):
        flat = d.join(lines).split(d)
    else:
        flat = d.join([lines[i] for i in idx.tolist()]).split(d)
    others = [(first_line + i, lines[i].split(d)) for i in np.flatnonzero(~regular).tolist()
              if first_line + i not in skip]
    positions = ctx.positions
    column = {name: flat[positions[name]::width] for name in positions}
    cols = _read_fields(column, ctx, pipeline, len(idx))
    ok, left_out = cols.pop("ok"), cols.pop("skipped")
    skipped = Counter(column["event_type"][i].strip() for i in np.flatnonzero(left_out).tolist())
    line: np.ndarray = first_line + idx
    if not ok.all():
        bad = np.flatnonzero(~ok & ~left_out)
        others.extend((int(line[i]), flat[i * width:(i + 1) * width]) for i in bad.tolist())
        others.sort(key=lambda r: r[0])
        keep = np.flatnonzero(ok)
        line = line[keep]
        cols = {name: (values[keep] if isinstance(values, np.ndarray)
                       else [values[i] for i in keep.tolist()]) for name, values in cols.items()}
    return EventColumns(line, cols["order_number"], cols["stage"], cols["event_type"], cols["at"],
                        cols["operator"], cols["note"], cols["event_id"], others, skipped)


def _read_fields(column: dict[str, list[str]], ctx: RowContext, pipeline: Pipeline,
                 n: int) -> dict[str, Any]:
    ok = np.ones(n, bool)
    numbers = list(map(str.strip, column["order_number"]))
    ok &= _lengths_within(numbers, 1, ORDER_NUMBER_LIMIT)

    skipped = np.zeros(n, bool)
    if "event_type" in column:
        def read_type(raw: str) -> str:
            value = text(raw)
            if value is not None and ctx.mapping.event_types.get(value.casefold()) == SKIP:
                return SKIP
            return _event_type(value, ctx)

        types, bad, needs = _looked_up(column["event_type"], read_type, lambda t: t in NEEDS_STAGE)
        ok &= ~bad
        if SKIP in ctx.mapping.event_types.values():
            skipped = np.fromiter((t == SKIP for t in types), bool, n)
            ok &= ~skipped
    else:
        types, needs = ["enter"] * n, np.ones(n, bool)
    stages, bad, missing = _looked_up(column["stage"], lambda raw: _stage(text(raw), ctx, pipeline),
                                      lambda s: s is None)
    ok &= ~bad & ~(missing & needs)

    at, readable = iso_instants(column["timestamp"], ctx.zone)
    ok &= readable

    optional: dict[str, list[str | None]] = {}
    for name, limit in (("operator", OPERATOR_LIMIT), ("note", None), ("event_id", EVENT_ID_LIMIT)):
        if name not in column:
            optional[name] = [None] * n
            continue
        stripped = list(map(str.strip, column[name]))
        if limit is not None:
            ok &= _lengths_within(stripped, 0, limit)
        optional[name] = [v or None for v in stripped]
    return {"ok": ok, "skipped": skipped, "order_number": numbers, "stage": stages, "event_type": types, "at": at,
            **optional}


def _lengths_within(values: list[str], low: int, high: int) -> np.ndarray:
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    return (lengths >= low) & (lengths <= high)


def _looked_up(values: list[str], read, test) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """``read`` of each value (called once per distinct value), whether it rejects the
    value, and ``test`` of what it read."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), sort=False)
    read_values = np.empty(len(distinct), dtype=object)
    bad = np.zeros(len(distinct), bool)
    tested = np.zeros(len(distinct), bool)
    for i, raw in enumerate(distinct.tolist()):
        try:
            read_values[i] = read(raw)
            tested[i] = test(read_values[i])
        except RowRejected:
            bad[i] = True
    return read_values[codes].tolist(), bad[codes], tested[codes]


# ISO 8601 forms read here, by length: date and time (T or space), seconds, then
# optional microseconds (6 digits) and an optional Z or +HH:MM offset.
_FORMS = {19: (False, None), 20: (False, "Z"), 25: (False, "+"),
          26: (True, None), 27: (True, "Z"), 32: (True, "+")}
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def iso_instants(values: list[str], zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC microseconds of each value and whether it was read: what
    ``parse_timestamp`` + ``to_utc`` give for ``YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|±HH:MM]``
    (year 1000 or later) written without surrounding spaces. A naive time is read in
    ``zone`` when one offset holds for its whole local hour (``steady_offset``); a time
    near a clock change, and any other form, is not read here."""
    n = len(values)
    at = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    lengths = np.fromiter(map(len, values), np.int64, n)
    for width, (fraction, offset) in _FORMS.items():
        idx = np.flatnonzero(lengths == width)
        if not len(idx):
            continue
        chunk = [values[i] for i in idx.tolist()]
        ascii_ = np.fromiter(map(str.isascii, chunk), bool, len(chunk))
        if not ascii_.all():
            idx = idx[ascii_]
            chunk = [values[i] for i in idx.tolist()]
        m = np.frombuffer("".join(chunk).encode("ascii"), np.uint8).reshape(-1, width)
        us, good = _read_form(m - np.uint8(ord("0")), fraction, offset, zone)
        at[idx] = us
        ok[idx] = good
    return at, ok


def _read_form(m: np.ndarray, fraction: bool, offset: str | None, zone: ZoneInfo
               ) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds and validity of the rows of ``m`` (characters minus '0', as uint8:
    a character below '0' wraps round to above 9)."""
    def char(c: str) -> int:
        return (ord(c) - ord("0")) % 256

    def digit(*cols: int) -> np.ndarray:
        good = np.ones(len(m), bool)
        for c in cols:
            good &= m[:, c] <= 9
        return good

    def number(*cols: int) -> np.ndarray:
        out = np.zeros(len(m), np.int64)
        for c in cols:
            out = out * 10 + m[:, c]
        return out

    good = digit(*_DIGITS)
    good &= (m[:, 4] == char("-")) & (m[:, 7] == char("-")) & (m[:, 13] == char(":"))
    good &= (m[:, 16] == char(":")) & ((m[:, 10] == char("T")) | (m[:, 10] == char(" ")))
    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second = number(11, 12), number(14, 15), number(17, 18)
    micro = np.zeros(len(m), np.int64)
    if fraction:
        good &= (m[:, 19] == char(".")) & digit(20, 21, 22, 23, 24, 25)
        micro = number(20, 21, 22, 23, 24, 25)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days_in = np.where(month_ok, _DAYS[np.clip(month, 0, 12)], 0) + (leap & (month == 2))
    good &= (year >= 1000) & month_ok & (day >= 1) & (day <= days_in)
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    days = _days_from_civil(year, np.clip(month, 1, 12), day)
    local = (((days * 24 + hour) * 60 + minute) * 60 + second) * US + micro
    width = m.shape[1]
    if offset == "Z":
        good &= m[:, width - 1] == char("Z")
        utc = local
    elif offset == "+":
        sign = m[:, width - 6]
        good &= ((sign == char("+")) | (sign == char("-"))) & digit(width - 5, width - 4)
        good &= (m[:, width - 3] == char(":")) & digit(width - 2, width - 1)
        off_h, off_m = number(width - 5, width - 4), number(width - 2, width - 1)
        good &= (off_h <= 23) & (off_m <= 59)
        utc = local - np.where(sign == char("-"), -1, 1) * (off_h * 3600 + off_m * 60) * US
    else:
        utc, steady = _naive_to_utc(days, hour, local, good, zone)
        good &= steady
    good &= (utc >= FIRST_US) & (utc <= LAST_US)
    return np.where(good, utc, 0), good


def _naive_to_utc(days: np.ndarray, hour: np.ndarray, local: np.ndarray, good: np.ndarray,
                  zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """``to_utc`` of naive local times: the steady offset of each local hour (the hours
    of ordinal days, as ``steady_offset`` counts them)."""
    hours = (days + 719_163) * 24 + hour  # date.toordinal() of 1970-01-01 is 719,163
    offsets = np.zeros(len(hours), np.int64)
    steady = np.zeros(len(hours), bool)
    wanted = np.flatnonzero(good)
    unique, inverse = np.unique(hours[wanted], return_inverse=True)
    per_hour = np.zeros(len(unique), np.int64)
    known = np.zeros(len(unique), bool)
    for i, h in enumerate(unique.tolist()):
        offset = steady_offset(zone, h)
        if offset is not None:
            per_hour[i] = offset.days * 86_400 * US + offset.seconds * US + offset.microseconds
            known[i] = True
    offsets[wanted] = per_hour[inverse.reshape(-1)]
    steady[wanted] = known[inverse.reshape(-1)]
    return local - offsets, steady


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468

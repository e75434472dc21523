"""Reading timestamps from a file and turning them into UTC instants.

A value is either *aware* (it carries an offset: ``2026-11-01T08:30:00+08:00``, ``...Z``)
and is converted to UTC as it is, or *naive* and is read as wall-clock time in the
import's zone. Wall-clock times around daylight-saving changes are resolved, never
dropped, and the resolution is reported as a warning for the row:

- a time that does not exist (clocks jumped forward over it) is read with the offset in
  force before the jump, i.e. it moves forward by the length of the gap
  (00:30 on a day clocks go 00:00 -> 01:00 becomes 01:30);
- a time that occurs twice (clocks went back) takes the earlier of its two readings.

A promised *date* (no time of day) means the end of that day: the instant of the next
local midnight. If that midnight does not exist (Brazil started DST at midnight), the day
ended when the clocks jumped, which is the same instant the rule above gives.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from datasource.importers.errors import RowRejected

UTC = timezone.utc
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R", "%p")
DATE_ORDERS = ("dmy", "mdy")

# Excel's 1900 date system: serial 1 is 1900-01-01 and Excel counts a 29 February 1900
# that never was, so from serial 61 (1900-03-01) on a serial is days since 1899-12-30.
EXCEL_EPOCH = datetime(1899, 12, 30)
# Serials read as dates: 1970-01-01 .. 2099-12-31. A smaller or larger number in a date
# column is a quantity or an id typed into the wrong cell, not a date.
EXCEL_FIRST, EXCEL_LAST = 25_569, 73_050
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")

# Morning/afternoon words before or after a 12-hour time (上午 9:00, 下午3点, 9:00 PM).
_AM = {"上午": False, "早上": False, "凌晨": False, "am": False, "a.m.": False,
       "下午": True, "晚上": True, "中午": True, "pm": True, "p.m.": True}
_HALF = r"(上午|早上|凌晨|下午|晚上|中午|am|pm|a\.m\.|p\.m\.)"
_TIME = (rf"(?:[T\s]*{_HALF}?\s*(\d{{1,2}})\s*(?:[:：时点])\s*(\d{{1,2}})?\s*分?"
         rf"(?:\s*[:：]\s*(\d{{1,2}}(?:\.\d+)?)\s*秒?|\s*(\d{{1,2}}(?:\.\d+)?)\s*秒)?\s*{_HALF}?)?")
# Year first: 2026-11-3, 2026/11/3 9:00, 2026.11.03, 2026年11月3日 下午3:00.
_YMD = re.compile(r"(\d{4})\s*([-/.年])\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME,
                  re.IGNORECASE)
# Year last: 03/11/2026, 3.11.2026 9:00 (day or month first: the mapping's date_order).
_XXY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})" + _TIME, re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """A parsed cell: the datetime as written (naive or aware) and whether it was a date only."""

    value: datetime
    date_only: bool


class AmbiguousDate(RowRejected):
    """A year-last date (03/11/2026) that reads both day-first and month-first, with no
    ``date_order`` to choose."""


def parse_timestamp(raw: object, fmt: str | None = None,
                    date_order: str | None = None) -> Reading | None:
    """Parse one cell. Empty -> None; unparseable -> RowRejected with the reason.

    Strings are parsed with ``fmt`` (``strptime``) when given, otherwise as written in
    ledgers: ISO 8601 (``2026-11-01T08:30+08:00``), year first with ``-``, ``/`` or ``.``
    (``2026/11/3 9:00``, ``2026-11-3``, ``2026.11.03``), Chinese (``2026年11月3日 下午3:00``,
    ``15时30分``), a 12-hour time with 上午/下午 or AM/PM, year last (``03/11/2026``: day
    or month first as ``date_order`` says, ``"dmy"`` or ``"mdy"``; without it only a
    value whose day is above 12 reads, the others raise ``AmbiguousDate``), and Excel
    serial numbers (``46329``, ``46329.375``; 1900 date system, 1970 to 2099).
    Spreadsheet cells that are dates or datetimes are taken as they are; number cells are
    Excel serials.
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return Reading(raw, False)
    if isinstance(raw, date):
        return Reading(datetime.combine(raw, time()), True)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _serial(raw, repr(raw))
    if not isinstance(raw, str):
        raise RowRejected(f"{raw!r} is not a timestamp")
    text = raw.strip()
    if not text:
        return None
    if fmt is not None:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            raise RowRejected(f"{text!r} does not match the format {fmt!r}") from None
        return Reading(value, not any(d in fmt for d in _TIME_DIRECTIVES))
    try:  # ISO 8601 first: the common case, and the only one with an offset
        value = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        date_only = len(text) <= 10 and "T" not in text and ":" not in text
        return Reading(value, date_only)
    if _SERIAL.fullmatch(text):
        return _serial(float(text), repr(text))
    match = _YMD.fullmatch(text)
    if match:
        year, month, day = int(match[1]), int(match[3]), int(match[4])
        return _reading(text, year, month, day, match.groups()[4:])
    match = _XXY.fullmatch(text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        order = date_order or _obvious_order(first, second)
        if order is None:
            raise AmbiguousDate(f"{text!r} reads as day/month or month/day; "
                                "set date_order = \"dmy\" or \"mdy\" in the mapping")
        day, month = (first, second) if order == "dmy" else (second, first)
        return _reading(text, year, month, day, match.groups()[3:])
    raise RowRejected(f"{text!r} is not a timestamp")


def is_ambiguous(raw: object) -> bool:
    """Whether a cell is a year-last date that reads both day-first and month-first."""
    if not isinstance(raw, str) or not raw[:2].strip()[:1].isdigit():
        return False
    match = _XXY.fullmatch(raw.strip())
    return match is not None and _obvious_order(int(match[1]), int(match[2])) is None


def _obvious_order(first: int, second: int) -> str | None:
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def _reading(text: str, year: int, month: int, day: int, clock: tuple) -> Reading:
    """The reading of a matched date and its optional time of day."""
    before, hour, minute, seconds, seconds_alone, after = clock
    half = before or after
    try:
        day_start = datetime(year, month, day)
        if hour is None:
            if half:
                raise ValueError(half)
            return Reading(day_start, True)
        h = int(hour)
        if half:  # 12-hour clock: 12 上午 is midnight, 12 下午 noon
            if not 1 <= h <= 12:
                raise ValueError(hour)
            h = h % 12 + (12 if _AM[half.lower()] else 0)
        sec = float(seconds or seconds_alone or 0)
        whole = int(sec)
        value = day_start.replace(hour=h, minute=int(minute or 0), second=whole,
                                  microsecond=round((sec - whole) * 1_000_000))
    except ValueError:
        raise RowRejected(f"{text!r} is not a timestamp") from None
    return Reading(value, False)


def _serial(number: float, shown: str) -> Reading:
    """An Excel serial: days since 1899-12-30, the fraction being the time of day
    (rounded to the second: Excel stores 9:00 as 0.375 but 9:10 as 0.381944...)."""
    if not (math.isfinite(number) and EXCEL_FIRST <= number <= EXCEL_LAST + 1):
        raise RowRejected(f"{shown} is not a timestamp (as an Excel date number it is not "
                          "between 1970 and 2099)")
    days = math.floor(number)
    seconds = round((number - days) * 86_400)
    value = EXCEL_EPOCH + timedelta(days=days, seconds=seconds)
    return Reading(value, seconds == 0 and float(number).is_integer())


def to_utc(value: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant of ``value`` and, for a naive wall-clock time that does not exist
    or exists twice in ``zone``, a warning saying how it was read. A time whose instant
    falls outside the years 1-9999 in UTC is rejected (``RowRejected``)."""
    try:
        return _to_utc(value, zone)
    except OverflowError:
        raise RowRejected(f"{value.isoformat()} is outside the years 1-9999 in UTC") from None


def _to_utc(value: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    if value.tzinfo is not None:
        return value.astimezone(UTC), None
    offset = steady_offset(zone, value.toordinal() * 24 + value.hour)
    if offset is not None:
        return (value - offset).replace(tzinfo=UTC), None
    first = value.replace(tzinfo=zone)
    second = value.replace(tzinfo=zone, fold=1)
    instant = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return instant, None
    back = instant.astimezone(zone)
    if back.replace(tzinfo=None) == value:
        return instant, (
            f"{value:%Y-%m-%d %H:%M:%S} occurs twice in {zone.key} (clocks went back); "
            f"read as the earlier, {back.isoformat()}"
        )
    return instant, (
        f"{value:%Y-%m-%d %H:%M:%S} does not exist in {zone.key} (clocks went forward); "
        f"read as {back.isoformat()}"
    )


@lru_cache(maxsize=1 << 16)
def steady_offset(zone: ZoneInfo, hour: int) -> timedelta | None:
    """The UTC offset of ``zone`` throughout a local hour (``hour`` counts hours from
    0001-01-01), when one offset holds for every time in it, read either way; None for
    an hour with a clock change in it. Reading a time is then one subtraction (a bulk
    import reads hundreds of thousands); clock changes take the exact path.
    (tz data has no two clock changes within one hour that would cancel out.)"""
    start = datetime.combine(date.fromordinal(hour // 24), time(hour % 24), tzinfo=zone)
    end = start.replace(minute=59, second=59, microsecond=999_999)
    offsets = {t.utcoffset() for t in (start, start.replace(fold=1), end, end.replace(fold=1))}
    return offsets.pop() if len(offsets) == 1 else None


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the local ``day`` ends: the next local midnight, or, when that
    midnight was skipped by a clock change, the moment the clocks jumped."""
    midnight = datetime.combine(day + timedelta(days=1), time())
    instant, _ = to_utc(midnight, zone)
    return instant

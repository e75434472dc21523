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

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from datasource.importers.errors import RowRejected

UTC = timezone.utc
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R", "%p")


@dataclass(frozen=True)
class Reading:
    """A parsed cell: the datetime as written (naive or aware) and whether it was a date only."""

    value: datetime
    date_only: bool


def parse_timestamp(raw: object, fmt: str | None = None) -> Reading | None:
    """Parse one cell. Empty -> None; unparseable -> RowRejected with the reason.

    Strings are parsed with ``fmt`` (``strptime``) when given, otherwise as ISO 8601 with
    ``/`` accepted as the date separator. Spreadsheet cells that are already dates or
    datetimes are taken as they are; numbers are refused (a date cell formatted as a
    number would otherwise become 1900-era nonsense).
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return Reading(raw, False)
    if isinstance(raw, date):
        return Reading(datetime.combine(raw, time()), True)
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
    for candidate in (text, text.replace("/", "-")):
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        date_only = len(candidate) <= 10 and "T" not in candidate and ":" not in candidate
        return Reading(value, date_only)
    raise RowRejected(f"{text!r} is not a timestamp")


def to_utc(value: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant of ``value`` and, for a naive wall-clock time that does not exist
    or exists twice in ``zone``, a warning saying how it was read."""
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

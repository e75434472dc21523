"""Instants as integers (microseconds since 1970-01-01 UTC, numpy ``int64``) and the texts
the store and the importers write for them, many at once.

Each text is exactly what Python's ``datetime`` writes for the same instant (the tests
compare them over the whole range of years), so a bulk load stores what a row-by-row
write would:

- ``stored_texts``: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (``bulk.sqlite_instant``,
  SQLAlchemy's SQLite ``DATETIME``; PostgreSQL reads it as its ``timestamp``);
- ``utc_isoformats``: ``datetime.isoformat()`` of the aware UTC instant (event ids);
- ``local_seconds_texts``: ``YYYY-MM-DD HH:MM:SS`` in a zone (``visits.local_text``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
HOUR_US = 3600 * US
#: instants whose texts numpy writes as Python does (4-digit years, and room for any
#: UTC offset on either side)
FIRST_US = (datetime(1000, 1, 3, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
LAST_US = (datetime(9999, 12, 29, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact)."""
    return (value - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """The aware UTC datetime of an instant (exact)."""
    return EPOCH + timedelta(microseconds=int(us))


def in_range(us: np.ndarray) -> np.ndarray:
    """Which instants are between 1000-01-03 and 9999-12-29 (UTC)."""
    return (us >= FIRST_US) & (us <= LAST_US)


def _texts(us: np.ndarray, unit: str, sep: str) -> list[str]:
    """``YYYY-MM-DD<sep>HH:MM:SS`` (``unit="s"``; the microseconds are cut off) or with
    ``.ffffff`` (``unit="us"``) of each instant (years 1000-9999), written digit by digit
    into a byte matrix: a tenth of the cost of formatting each one."""
    n = len(us)
    if not n:
        return []
    days, rest = np.divmod(us, 86_400 * US)
    year, month, day = _civil_from_days(days)
    seconds, micro = np.divmod(rest, US)
    hour, seconds = np.divmod(seconds, 3600)
    minute, second = np.divmod(seconds, 60)
    width = 26 if unit == "us" else 19
    out = np.empty((n, width + 1), np.uint8)  # each text and a line end, to split at

    def put(column: int, values: np.ndarray, digits: int) -> None:
        for k in range(digits - 1, -1, -1):
            values, digit = np.divmod(values, 10)
            out[:, column + k] = digit + ord("0")

    put(0, year, 4)
    put(5, month, 2)
    put(8, day, 2)
    put(11, hour, 2)
    put(14, minute, 2)
    put(17, second, 2)
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 10] = ord(sep)
    out[:, 13] = out[:, 16] = ord(":")
    if unit == "us":
        out[:, 19] = ord(".")
        put(20, micro, 6)
    out[:, width] = ord("\n")
    texts = out.tobytes().decode("ascii").split("\n")
    texts.pop()  # after the last line end
    return texts


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _python_or_numpy(us: np.ndarray, numpy_texts, python_text) -> list[str]:
    """numpy's texts where they are Python's; Python's for the other instants."""
    inside = in_range(us)
    if inside.all():
        return numpy_texts(us)
    out = [python_text(from_us(u)) for u in us.tolist()]
    idx = np.flatnonzero(inside)
    for i, text in zip(idx.tolist(), numpy_texts(us[idx])):
        out[i] = text
    return out


def stored_texts(us: np.ndarray) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC) of each instant."""
    return _python_or_numpy(
        us, lambda u: _texts(u, "us", " "),
        lambda d: d.replace(tzinfo=None).isoformat(" ", "microseconds"))


def utc_isoformats(us: np.ndarray) -> list[str]:
    """``datetime.isoformat()`` of each aware UTC instant: ``...T08:30:00+00:00``, with
    ``.ffffff`` only when the microseconds are not zero."""
    def numpy_texts(u: np.ndarray) -> list[str]:
        whole = u % US == 0
        out: list[str] = [""] * len(u)
        for mask, unit in ((whole, "s"), (~whole, "us")):
            idx = np.flatnonzero(mask)
            for i, text in zip(idx.tolist(), _texts(u[idx], unit, "T")):
                out[i] = text + "+00:00"
        return out

    return _python_or_numpy(us, numpy_texts, lambda d: d.isoformat())


def zone_offsets_us(us: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """The UTC offset of ``zone`` (microseconds) at each instant: looked up once per UTC
    hour, and per instant in an hour whose offset changes within it."""
    if not len(us):
        return np.zeros(0, np.int64)
    hours, inverse = np.unique(us // HOUR_US, return_inverse=True)
    per_hour = np.zeros(len(hours), np.int64)
    changing = np.zeros(len(hours), bool)
    for i, hour in enumerate(hours.tolist()):
        start = from_us(hour * HOUR_US)
        first = start.astimezone(zone).utcoffset()
        last = (start + timedelta(microseconds=HOUR_US - 1)).astimezone(zone).utcoffset()
        assert first is not None and last is not None
        per_hour[i] = first // timedelta(microseconds=1)
        changing[i] = first != last
    offsets = per_hour[inverse.reshape(-1)]
    for i in np.flatnonzero(changing[inverse.reshape(-1)]).tolist():
        offset = from_us(int(us[i])).astimezone(zone).utcoffset()
        assert offset is not None
        offsets[i] = offset // timedelta(microseconds=1)
    return offsets


def local_seconds_texts(us: np.ndarray, zone: ZoneInfo) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` of each instant in ``zone`` (``visits.local_text``)."""
    from datasource.visits import local_text

    local = us + zone_offsets_us(us, zone)
    seconds = local // US  # floor: the second the local time is in
    inside = in_range(us)
    if inside.all():
        return _texts(seconds * US, "s", " ")
    out = [local_text(from_us(u), zone) for u in us.tolist()]
    idx = np.flatnonzero(inside)
    for i, text in zip(idx.tolist(), _texts(seconds[idx] * US, "s", " ")):
        out[i] = text
    return out

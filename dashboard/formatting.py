"""Numbers, durations and times as people read them on a screen.

Every function returns text and shows a missing value (None, NaN, NaT) as ``MISSING``
("—"), never as 0 or "nan": an empty window has no delay rate, it does not have 0 %.
Durations switch from hours to days at ``DAYS_FROM_H`` so "146 h" reads as "6.1 d".
"""

from __future__ import annotations

import math
from datetime import datetime
from numbers import Real
from zoneinfo import ZoneInfo

MISSING = "—"
DAYS_FROM_H = 48.0



def is_missing(value: object) -> bool:
    """True for None, NaN, pandas NA/NaT and other values that are not a real number."""
    if value is None:
        return True
    if isinstance(value, datetime):
        return value != value  # NaT is a datetime subclass that is not equal to itself
    if isinstance(value, Real):
        return math.isnan(float(value))
    try:
        return bool(value != value)  # pandas.NA raises here
    except TypeError:
        return True


def number(value: float | int | None, digits: int = 0) -> str:
    """``1,234`` (thousands separated), ``digits`` decimals; "—" when missing."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}" if digits else f"{round(float(value)):,}"


def percent(ratio: float | None, digits: int = 1) -> str:
    """A ratio as a percentage: 0.1827 -> ``18.3%``; "—" when missing."""
    if is_missing(ratio):
        return MISSING
    return f"{float(ratio) * 100:.{digits}f}%"


def unit(name: str, lang: str = "zh") -> str:
    """The short word for a unit ("h", "d", "min") in ``lang`` (zh or en)."""
    from dashboard.words import word

    return word("common", f"unit_{name}", lang, default=(name, name))


def duration_parts(hours: float | None, lang: str = "zh") -> tuple[str, str]:
    """(number, unit) of a duration in hours: under 1 h in minutes, under
    ``DAYS_FROM_H`` in hours (one decimal under 10 h), else days with one decimal.
    Missing gives ("—", "")."""
    if is_missing(hours):
        return MISSING, ""
    h = float(hours)
    if abs(h) < 1:
        return f"{h * 60:.0f}", unit("min", lang)
    if abs(h) < DAYS_FROM_H:
        return (f"{h:.1f}" if abs(h) < 10 else f"{h:.0f}"), unit("h", lang)
    return f"{h / 24:.1f}", unit("d", lang)


def duration(hours: float | None, lang: str = "zh") -> str:
    """A duration in hours as one string: ``36 h``, ``6.1 d``, ``45 min`` (zh: 小时/天/分钟)."""
    text, name = duration_parts(hours, lang)
    if not name:
        return text
    return f"{text}{name}" if lang == "zh" else f"{text} {name}"


def hours(value: float | None, digits: int = 1) -> str:
    """Always in hours: ``54.6 h``; "—" when missing."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f} h"


def local_time(moment: datetime | None, tz: str | ZoneInfo, fmt: str = "%H:%M:%S") -> str:
    """``moment`` (tz-aware) in zone ``tz`` formatted with ``fmt``; "—" when missing."""
    if moment is None or is_missing(moment):
        return MISSING
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return moment.astimezone(zone).strftime(fmt)

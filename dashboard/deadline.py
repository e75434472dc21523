"""Promised deadlines as people read them: the promised day, closing at 23:59.

A promised *date* is stored as the end of that day in the data's zone, and two sources
write that end differently: importers store the instant the day ends (the next local
midnight, ``datasource.importers.timestamps.end_of_day``), the demo the day's last second
(23:59:59). Both are the same deadline; shown as they are, one reads "11-10 00:00" and
the other "11-09 23:59". So a deadline at exactly local midnight is shown one second
earlier: on the day it closes, at 23:59:59 (23:59 on screen). Stored data is unchanged,
and a deadline with a real time of day (14:00) is shown as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.formatting import MISSING, is_missing

DEADLINE_FMT = "%Y-%m-%d %H:%M"
_CLOSING = timedelta(seconds=1)


def local_deadline(moment: datetime | None, tz: str | ZoneInfo) -> pd.Timestamp | None:
    """The deadline ``moment`` (tz-aware) as a naive local time of ``tz``; a local
    midnight becomes 23:59:59 of the day before. None when missing."""
    if moment is None or is_missing(moment):
        return None
    local = pd.Timestamp(moment).tz_convert(tz).tz_localize(None)
    return local - _CLOSING if local == local.normalize() else local


def local_deadlines(values: pd.Series, tz: str | ZoneInfo) -> pd.Series:
    """``local_deadline`` over a column of UTC instants (a new series; NaT stays NaT)."""
    local = pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    at_midnight = local.notna() & (local == local.dt.normalize())
    return local.where(~at_midnight, local - _CLOSING)


def deadline_text(moment: datetime | None, tz: str | ZoneInfo, fmt: str = DEADLINE_FMT) -> str:
    """``local_deadline`` as text ("2026-11-09 23:59"); "—" when missing."""
    local = local_deadline(moment, tz)
    return MISSING if local is None else local.strftime(fmt)

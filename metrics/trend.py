"""Daily trend: orders placed, completed, cancelled, WIP at the end of each day, delay rate.

WIP at an instant t (``wip_at``) counts what happened strictly before t: orders placed
before t that were neither completed nor cancelled before t. With half-open windows this
makes the flow balance exact: WIP(end) = WIP(start) + placed - completed - cancelled, with
each count over ``[start, end)``.

- placed: placed_at in the day (any status).
- completed: not cancelled and completed_at in the day (as in ``cycle_time.completed_in``).
- cancelled: status cancelled and the effective cancel time in the day. The effective
  cancel time is cancelled_at, or placed_at when cancelled_at is unknown or earlier than
  placed_at: such an order is never WIP (it is placed and cancelled at the same instant).
- An order's WIP interval is [placed_at, end) with end = completed_at (not cancelled),
  the effective cancel time (cancelled), or open-ended.
Orders without placed_at are never counted.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from metrics.stats import ratio
from metrics.window import Window

TREND_COLUMNS = ("date", "placed", "completed", "cancelled", "late", "wip_end_of_day", "delay_rate")


def cancel_time(orders: pd.DataFrame) -> pd.Series:
    """The effective cancel time of cancelled orders (NaT for the others)."""
    cancelled = orders["status"] == "cancelled"
    placed = orders["placed_at"]
    when = orders["cancelled_at"].where(orders["cancelled_at"] >= placed, placed)
    return when.where(cancelled)


def wip_end(orders: pd.DataFrame) -> pd.Series:
    """When each order leaves WIP: completion, effective cancel time, or NaT (still in)."""
    completed = orders["completed_at"].where(orders["status"] != "cancelled")
    return cancel_time(orders).fillna(completed)


def wip_at(orders: pd.DataFrame, t: datetime) -> int:
    """Orders placed before t and neither completed nor cancelled before t."""
    end = wip_end(orders)
    inside = (orders["placed_at"] < t) & ~(end < t).fillna(False)
    return int(inside.fillna(False).sum())


def _count_in(values: pd.Series, begin: datetime, end: datetime) -> int:
    return int(((values >= begin) & (values < end)).fillna(False).sum())


def flow_counts(orders: pd.DataFrame, begin: datetime, end: datetime) -> dict[str, int]:
    """placed, completed, cancelled and late counts over ``[begin, end)``."""
    completed = orders["completed_at"].where(orders["status"] != "cancelled")
    done = (completed >= begin) & (completed < end)
    late = done & (orders["completed_at"] > orders["promised_at"])
    return {
        "placed": _count_in(orders["placed_at"], begin, end),
        "completed": int(done.fillna(False).sum()),
        "cancelled": _count_in(cancel_time(orders), begin, end),
        "late": int(late.fillna(False).sum()),
    }


def daily_trend(orders: pd.DataFrame, window: Window, tz: str, now: datetime) -> pd.DataFrame:
    """One row per local day (zone ``tz``) of the window, with ``TREND_COLUMNS``.

    ``orders`` must hold every order that is placed, completed, cancelled or in WIP
    during the window (``datasource.queries.window_orders``). wip_end_of_day is WIP at
    min(end of day, now), None for days that have not begun by now; delay_rate is
    late / completed of the day, None when nothing was completed.
    """
    placed = orders["placed_at"].to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT"))
    ends = wip_end(orders).to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT"))
    rows = []
    for day, begin, end in window.local_days(tz):
        counts = flow_counts(orders, begin, end)
        at = min(end, now)
        if begin <= now:
            t = np.datetime64(at.replace(tzinfo=None), "us")
            wip = int(((placed < t) & ~(ends < t)).sum())
        else:
            wip = None
        rows.append({
            "date": day, **counts, "wip_end_of_day": wip,
            "delay_rate": ratio(counts["late"], counts["completed"]),
        })
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))

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

from datetime import datetime, timezone

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


def _micros(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 microseconds, NaT as the largest int64 (never "before t")."""
    array = values.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT"))
    out = array.astype("int64")
    out[np.isnat(array)] = np.iinfo("int64").max
    return out


def _per_bucket(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many values fall in each bucket [edges[i], edges[i+1])."""
    left = np.searchsorted(np.sort(values), edges, side="left")
    return np.diff(left)


def daily_trend(orders: pd.DataFrame, window: Window, tz: str, now: datetime) -> pd.DataFrame:
    """One row per local day (zone ``tz``) of the window, with ``TREND_COLUMNS``.

    ``orders`` must hold every order that is placed, completed, cancelled or in WIP
    during the window (``metrics.frames.window_orders``). wip_end_of_day is WIP at
    min(end of day, now), None for days that have not begun by now; delay_rate is
    late / completed of the day, None when nothing was completed. Vectorised: each
    count is a search of the day boundaries in the sorted instants.
    """
    days = list(window.local_days(tz))
    if not days:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    us = lambda t: int(np.datetime64(t.astimezone(timezone.utc).replace(tzinfo=None), "us").astype("int64"))
    edges = np.array([us(b) for _, b, _ in days] + [us(days[-1][2])], dtype="int64")
    not_cancelled = orders["status"] != "cancelled"
    completed = orders["completed_at"].where(not_cancelled)
    late = completed.where(orders["completed_at"] > orders["promised_at"])
    placed = _micros(orders["placed_at"])
    done = _micros(completed)
    counts = {
        "placed": _per_bucket(placed, edges),
        "completed": _per_bucket(done, edges),
        "cancelled": _per_bucket(_micros(cancel_time(orders)), edges),
        "late": _per_bucket(_micros(late), edges),
    }
    # WIP(t) = #(placed < t) - #(max(end, placed) < t): taking the max keeps an order
    # that "ended" before it was placed (out-of-order data) out of both counts.
    placed_sorted = np.sort(placed)
    left_sorted = np.sort(np.maximum(_micros(wip_end(orders)), placed))
    now_us = us(now)
    rows = []
    for k, (day, begin, end) in enumerate(days):
        c = {name: int(values[k]) for name, values in counts.items()}
        wip = None
        if begin <= now:
            t = min(us(end), now_us)
            wip = int(np.searchsorted(placed_sorted, t, "left") - np.searchsorted(left_sorted, t, "left"))
        rows.append({"date": day, **c, "wip_end_of_day": wip,
                     "delay_rate": ratio(c["late"], c["completed"])})
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))

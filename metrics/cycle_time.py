"""Fulfillment cycle time (履约周期) of the orders completed in a window."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics.stats import mean, percentile
from metrics.window import Window


@dataclass(frozen=True)
class CycleTime:
    """Cycle time of ``count`` completed orders, in hours (None when there are none)."""

    count: int
    median_h: float | None
    mean_h: float | None
    p90_h: float | None

    @property
    def median_d(self) -> float | None:
        return None if self.median_h is None else self.median_h / 24

    @property
    def mean_d(self) -> float | None:
        return None if self.mean_h is None else self.mean_h / 24

    @property
    def p90_d(self) -> float | None:
        return None if self.p90_h is None else self.p90_h / 24


def completed_in(orders: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Orders completed in the window: status is not cancelled and completed_at (the
    instant the order entered the terminal stage) is in ``[start, end)``.

    Returns a new frame with the same columns; ``orders`` is not changed.
    """
    done = orders["completed_at"]
    mask = (orders["status"] != "cancelled") & (done >= window.start) & (done < window.end)
    return orders.loc[mask.fillna(False)].copy()


def cycle_hours(completed: pd.DataFrame) -> pd.Series:
    """completed_at - placed_at of each order, in hours."""
    return (completed["completed_at"] - completed["placed_at"]).dt.total_seconds() / 3600.0


def cycle_time(completed: pd.DataFrame) -> CycleTime:
    """Median, mean and p90 of completed_at - placed_at over ``completed`` (the frame
    of ``completed_in``), in hours. Percentiles interpolate linearly between closest
    ranks (numpy's default). Orders without placed_at are left out of the statistics."""
    values = cycle_hours(completed).dropna()
    return CycleTime(
        count=len(completed),
        median_h=percentile(values, 50),
        mean_h=mean(values),
        p90_h=percentile(values, 90),
    )

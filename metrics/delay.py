"""Delay (延误): late completions, open orders overdue now, open orders at risk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from metrics.stats import ratio


@dataclass(frozen=True)
class Delay:
    """Delay figures of a window.

    completed: orders completed in W; late: those with completed_at > promised_at;
    without_promise: completed orders with no promised_at (counted in ``completed``,
    never late); rate = late / completed, None when nothing was completed;
    overdue_now / at_risk: open orders in WIP now (see ``overdue`` and ``at_risk``).
    """

    completed: int
    late: int
    without_promise: int
    rate: float | None
    overdue_now: int
    at_risk: int


def late_mask(completed: pd.DataFrame) -> pd.Series:
    """True for completed orders with completed_at > promised_at. An order without a
    promised date is not late (it is counted as ``without_promise``)."""
    return (completed["completed_at"] > completed["promised_at"]).fillna(False).astype(bool)


def wip_now(orders: pd.DataFrame, now: datetime, flow_codes: Sequence[str]) -> pd.DataFrame:
    """Open orders (status open, placed at or before ``now``) whose current stage is a
    flow stage (before the terminal stage, not optional). A new frame."""
    mask = (
        (orders["status"] == "open")
        & (orders["placed_at"] <= now).fillna(False)
        & orders["current_stage"].isin(list(flow_codes))
    )
    return orders.loc[mask].copy()


def overdue_mask(wip: pd.DataFrame, now: datetime) -> pd.Series:
    """Open orders already past their promised date: promised_at < now."""
    return (wip["promised_at"] < now).fillna(False).astype(bool)


def remaining_hours(typical_h: Mapping[str, float], flow_codes: Sequence[str]) -> dict[str, float]:
    """For each flow stage, the sum of the typical hours of the flow stages after it."""
    out: dict[str, float] = {}
    total = 0.0
    for code in reversed(list(flow_codes)):
        out[code] = total
        total += typical_h[code]
    return out


def expected_completion(
    wip: pd.DataFrame, now: datetime, typical_h: Mapping[str, float], flow_codes: Sequence[str]
) -> pd.Series:
    """now + max(0, typical hours of the current stage - age in it) + typical hours of
    the remaining flow stages, for each open order (age = now - current_since)."""
    after = remaining_hours(typical_h, flow_codes)
    stage = wip["current_stage"]
    age_h = (now - wip["current_since"]).dt.total_seconds() / 3600.0
    left_here = (stage.map(typical_h).astype("float64") - age_h).clip(lower=0)
    left_h = left_here.fillna(0) + stage.map(after).astype("float64")
    return now + pd.to_timedelta(left_h, unit="h")


def at_risk_mask(
    wip: pd.DataFrame, now: datetime, typical_h: Mapping[str, float], flow_codes: Sequence[str]
) -> pd.Series:
    """Open orders not overdue yet whose expected completion (``expected_completion``)
    is after promised_at. Orders without promised_at are never at risk."""
    expected = expected_completion(wip, now, typical_h, flow_codes)
    promised = wip["promised_at"]
    return ((promised >= now) & (expected > promised)).fillna(False).astype(bool)


def delay(
    completed: pd.DataFrame, wip: pd.DataFrame, now: datetime,
    typical_h: Mapping[str, float], flow_codes: Sequence[str],
) -> Delay:
    """The ``Delay`` figures from the completed orders of W and the WIP now."""
    late = int(late_mask(completed).sum())
    n = len(completed)
    return Delay(
        completed=n,
        late=late,
        without_promise=int(completed["promised_at"].isna().sum()),
        rate=ratio(late, n),
        overdue_now=int(overdue_mask(wip, now).sum()),
        at_risk=int(at_risk_mask(wip, now, typical_h, flow_codes).sum()),
    )

"""Exceptions (异常): opened in the window by kind and stage, open now, response times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from metrics.stats import counts, percentile


@dataclass(frozen=True)
class Exceptions:
    """Exception figures of a window.

    opened_in_window: exceptions with opened_at in W; by_kind / by_stage: the same,
    counted by kind and by stage ("—" for no stage); matrix: kind x stage counts;
    open_now: opened at or before now and not resolved by now (resolved_at null or
    later than now), whenever opened; ack_median_h: median of acknowledged_at -
    opened_at over the exceptions opened in W acknowledged by now; resolve_median_h:
    median of resolved_at - opened_at over those resolved by now (None when none).
    """

    opened_in_window: int
    by_kind: dict[str, int]
    by_stage: dict[str, int]
    open_now: int
    acknowledged: int
    resolved: int
    ack_median_h: float | None
    resolve_median_h: float | None
    matrix: pd.DataFrame = field(repr=False, compare=False, default_factory=pd.DataFrame)


def response_hours(opened: pd.DataFrame, column: str, now: datetime) -> pd.Series:
    """``column`` - opened_at in hours, for exceptions where ``column`` is at or before now."""
    reached = opened[column].notna() & (opened[column] <= now)
    rows = opened.loc[reached]
    return (rows[column] - rows["opened_at"]).dt.total_seconds() / 3600.0


def kind_stage_matrix(opened: pd.DataFrame) -> pd.DataFrame:
    """Counts of exceptions opened, one row per kind, one column per stage."""
    if opened.empty:
        return pd.DataFrame()
    stage = opened["stage_code"].fillna("—")
    return pd.crosstab(opened["kind"], stage).rename_axis(index="kind", columns="stage")


def exception_summary(opened: pd.DataFrame, open_now: int, now: datetime) -> Exceptions:
    """The ``Exceptions`` figures from the exceptions opened in W (frame with kind,
    stage_code, opened_at, acknowledged_at, resolved_at) and the count open now."""
    ack = response_hours(opened, "acknowledged_at", now)
    resolve = response_hours(opened, "resolved_at", now)
    return Exceptions(
        opened_in_window=len(opened),
        by_kind=counts(opened["kind"].tolist()),
        by_stage=counts(opened["stage_code"].tolist()),
        open_now=int(open_now),
        acknowledged=len(ack),
        resolved=len(resolve),
        ack_median_h=percentile(ack, 50),
        resolve_median_h=percentile(resolve, 50),
        matrix=kind_stage_matrix(opened),
    )

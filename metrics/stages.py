"""Per-stage flow: WIP, throughput, time in stage, SLA breaches, rework, delay
contribution and the bottleneck.

Definitions (DESIGN.md section 4):

- Time in stage of a visit: ``duration_s``, from entering the stage to the start of the
  order's next visit (or to its ``complete`` event), visits in time order
  (``datasource.visits``). The visit that completes an order is its end point and has
  no duration: it is in no statistic. A negative duration cannot be derived any more;
  one found in an older store is left out and counted as ``anomalies``.
- A stage's statistics use the visits that *ended* (left_at) in the window: ``visits``,
  ``mean_h``, ``median_h``, ``p90_h`` (linear interpolation) and ``total_h`` (the
  load: the sum of their hours). Rework visits (visit_no > 1) are included and also
  counted in ``rework_visits``.
- ``breaches``: visits ended in W with time in stage > the stage SLA; ``breach_rate`` =
  breaches / visits (None without visits). ``open_breaches_now``: open orders whose
  current stage age (now - current_since) is already > SLA.
- ``throughput_per_day``: visits ended in W / elapsed days of W (days up to now).
- ``wip``: open orders whose current stage is this stage.
- ``delay_contribution_h``: over the late orders completed in W, the sum over their
  visits of this stage of max(0, time in stage - SLA), in hours; ``delayed_orders``
  counts the late orders with a positive contribution here.
- Bottleneck: the stage with the largest delay contribution (the first in pipeline
  order on a tie), None when every contribution is zero.
Only flow stages (every stage but the terminal one and optional branches) have a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from datasource.pipeline import Pipeline, Stage
from metrics.stats import mean, percentile, ratio
from metrics.window import Window

STAGE_COLUMNS = (
    "code", "label_zh", "label_en", "sla_hours", "wip", "open_breaches_now",
    "throughput_per_day", "visits", "mean_h", "median_h", "p90_h", "total_h", "breaches",
    "breach_rate",
    "rework_visits", "anomalies", "delayed_orders", "delay_contribution_h", "is_bottleneck",
)


def valid_visits(ended: pd.DataFrame) -> pd.DataFrame:
    """Visits with a known, non-negative duration (a new frame)."""
    return ended.loc[ended["duration_s"].notna() & (ended["duration_s"] >= 0)].copy()


def anomalies(ended: pd.DataFrame) -> dict[str, int]:
    """Negative durations among ``ended`` visits, by stage code (stages without any are
    left out)."""
    bad = ended.loc[ended["duration_s"] < 0, "stage_code"].astype(str)
    return {str(k): int(v) for k, v in bad.value_counts().sort_index().items() if v}


def open_breach_mask(wip: pd.DataFrame, now: datetime, pipeline: Pipeline) -> pd.Series:
    """Open orders whose age in their current stage (now - current_since) > its SLA."""
    sla_h = wip["current_stage"].map({s.code: s.sla_hours for s in pipeline.stages})
    age_h = (now - wip["current_since"]).dt.total_seconds() / 3600.0
    return (age_h > sla_h).fillna(False).astype(bool)


def delay_contributions(late_visits: pd.DataFrame, pipeline: Pipeline) -> pd.DataFrame:
    """Per late order and flow stage, the hours spent beyond the stage SLA: the sum over
    the order's valid visits of that stage of max(0, duration - SLA). Only positive
    contributions are returned. Columns: order_id, stage_code, contribution_h."""
    flow = {s.code: s.sla_hours * 3600 for s in pipeline.flow_stages}
    v = valid_visits(late_visits)
    v = v.loc[v["stage_code"].isin(list(flow))]
    excess = (v["duration_s"] - v["stage_code"].map(flow).astype("float64")).clip(lower=0)
    frame = pd.DataFrame({
        "order_id": v["order_id"], "stage_code": v["stage_code"], "contribution_h": excess / 3600.0,
    })
    frame = frame.groupby(["order_id", "stage_code"], as_index=False)["contribution_h"].sum()
    return frame.loc[frame["contribution_h"] > 0].reset_index(drop=True)


def _stage_row(
    stage: Stage, mine: pd.DataFrame, wip: pd.DataFrame, open_breach: pd.Series,
    contributions: pd.DataFrame, bad: dict[str, int], days: float,
) -> dict:
    hours = mine["duration_s"].to_numpy(dtype="float64") / 3600.0
    n = len(mine)
    breaches = int((hours > stage.sla_hours).sum())
    in_stage = wip["current_stage"] == stage.code
    contrib = contributions.loc[contributions["stage_code"] == stage.code, "contribution_h"]
    return {
        "code": stage.code,
        "label_zh": stage.label_zh,
        "label_en": stage.label_en,
        "sla_hours": stage.sla_hours,
        "wip": int(in_stage.sum()),
        "open_breaches_now": int((in_stage & open_breach).sum()),
        "throughput_per_day": n / days if days > 0 else None,
        "visits": n,
        "mean_h": mean(hours),
        "median_h": percentile(hours, 50),
        "p90_h": percentile(hours, 90),
        "total_h": float(hours.sum()),
        "breaches": breaches,
        "breach_rate": ratio(breaches, n),
        "rework_visits": int(mine["is_rework"].sum()),
        "anomalies": bad.get(stage.code, 0),
        "delayed_orders": len(contrib),
        "delay_contribution_h": float(contrib.sum()),
    }


def stage_table(
    ended: pd.DataFrame, wip: pd.DataFrame, late_visits: pd.DataFrame,
    pipeline: Pipeline, window: Window, now: datetime,
) -> pd.DataFrame:
    """One row per flow stage, in pipeline order, with the columns ``STAGE_COLUMNS``.

    ``ended``: visits ended in W (stage_code, duration_s, is_rework); ``wip``: the open
    orders now (current_stage, current_since); ``late_visits``: all visits of the late
    orders completed in W (order_id, stage_code, duration_s). Inputs are not changed.
    """
    visits = valid_visits(ended)
    open_breach = open_breach_mask(wip, now, pipeline)
    contributions = delay_contributions(late_visits, pipeline)
    bad = anomalies(ended)
    days = window.elapsed_days(now)
    by_stage = {str(code): part for code, part in visits.groupby("stage_code", observed=True)}
    empty = visits.iloc[0:0]
    rows = [
        _stage_row(s, by_stage.get(s.code, empty), wip, open_breach, contributions, bad, days)
        for s in pipeline.flow_stages
    ]
    table = pd.DataFrame(rows, columns=list(STAGE_COLUMNS[:-1]))
    table["is_bottleneck"] = table["code"] == bottleneck(table)
    return table


def bottleneck(table: pd.DataFrame) -> str | None:
    """The stage code with the largest delay contribution; None if all are zero."""
    if table.empty:
        return None
    contribution = table["delay_contribution_h"].to_numpy(dtype="float64")
    if not np.nanmax(contribution) > 0:
        return None
    return str(table["code"].iloc[int(np.nanargmax(contribution))])


def typical_hours(table: pd.DataFrame) -> dict[str, float]:
    """The typical time of each flow stage for the at-risk estimate: the median time in
    stage of the visits that ended in W, or the stage SLA when none ended in W."""
    return {
        row.code: float(row.median_h) if pd.notna(row.median_h) else float(row.sla_hours)
        for row in table.itertuples()
    }


def flow_codes(pipeline: Pipeline) -> Sequence[str]:
    return tuple(s.code for s in pipeline.flow_stages)

"""Metric definitions as data: what each number means, its labels, unit and thresholds.

Screens read labels and thresholds from ``DEFINITIONS``; colours belong to CSS classes
named after ``level``. Descriptions are exact and match DESIGN.md section 4; the
computations live in the modules named in each description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["up", "down"]
Level = Literal["good", "warning", "critical", "none"]


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: ``warning``/``critical`` are the values at which the level starts
    (reached or passed in the bad direction); None means the metric is not graded."""

    name: str
    label_zh: str
    label_en: str
    unit: str
    description: str
    good_direction: Direction
    warning: float | None = None
    critical: float | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


_W = "W = the window [start, end), filters restrict every order counted."

_DEFINITIONS = (
    MetricDefinition(
        "orders_placed_today", "今日下单", "Orders today", "orders",
        "Orders (any status, cancelled included) placed from local midnight of today "
        "(pipeline time zone) up to now.",
        "up",
    ),
    MetricDefinition(
        "wip", "在制订单", "WIP", "orders",
        "Open orders now: status open, placed at or before now, current stage a flow stage "
        "(before the terminal stage, not optional). Cancelled and completed orders are "
        "never WIP. Over time, WIP at t = orders placed before t, neither completed nor "
        "cancelled before t (cancelled at an unknown time: never WIP).",
        "down",
    ),
    MetricDefinition(
        "delay_rate", "延误率", "Delay rate", "ratio",
        "late / completed over the orders completed in W (not cancelled, completed_at in W); "
        "late = completed_at > promised_at. Orders without a promised date are counted in "
        "completed and never late. No completed orders: no value (—), never 0 % or 100 %. "
        + _W,
        "down", 0.05, 0.10,
    ),
    MetricDefinition(
        "cycle_time_median", "履约周期中位数", "Cycle time (median)", "h",
        "Median of completed_at - placed_at over the orders completed in W, in hours "
        "(days = hours / 24); completed_at = entering the terminal stage. " + _W,
        "down", 240, 336,
    ),
    MetricDefinition(
        "cycle_time_mean", "履约周期均值", "Cycle time (mean)", "h",
        "Mean of completed_at - placed_at over the orders completed in W, in hours. " + _W,
        "down", 264, 360,
    ),
    MetricDefinition(
        "cycle_time_p90", "履约周期P90", "Cycle time (p90)", "h",
        "90th percentile (linear interpolation between closest ranks) of completed_at - "
        "placed_at over the orders completed in W, in hours. " + _W,
        "down", 408, 504,
    ),
    MetricDefinition(
        "overdue_now", "当前逾期", "Overdue now", "orders",
        "Orders in WIP now whose promised_at is before now.",
        "down", 1, 20,
    ),
    MetricDefinition(
        "at_risk", "延误风险", "At risk", "orders",
        "Orders in WIP now, not overdue, with now + max(0, typical hours of the current "
        "stage - age in it) + typical hours of the remaining flow stages > promised_at. "
        "Age = now - current_since. Typical hours of a stage = median time in stage of its "
        "visits that ended in W (the stage SLA when none ended in W). Orders without a "
        "promised date are never at risk.",
        "down", 5, 30,
    ),
    MetricDefinition(
        "open_exceptions", "未关闭异常", "Open exceptions", "exceptions",
        "Exceptions opened at or before now and not resolved by now (resolved_at empty "
        "or after now), whenever they were opened.",
        "down", 5, 20,
    ),
    MetricDefinition(
        "exception_ack_median", "异常响应时间", "Exception response (median)", "h",
        "Median of acknowledged_at - opened_at, in hours, over exceptions opened in W and "
        "acknowledged by now. " + _W,
        "down", 2, 8,
    ),
    MetricDefinition(
        "exception_resolve_median", "异常解决时间", "Exception resolution (median)", "h",
        "Median of resolved_at - opened_at, in hours, over exceptions opened in W and "
        "resolved by now. " + _W,
        "down", 24, 72,
    ),
    MetricDefinition(
        "throughput", "吞吐量", "Throughput", "visits/day",
        "Per stage: visits that left the stage in W (left_at in W, non-negative duration, "
        "rework included) / elapsed days of W (days from start to min(end, now)). For the "
        "whole flow, orders placed and completed per local day (trend).",
        "up",
    ),
    MetricDefinition(
        "sla_breach_rate", "超时率", "SLA breach rate", "ratio",
        "Per stage: breaches / visits over the visits that ended in W with a non-negative "
        "duration (rework included); breach = time in stage > stage SLA. Open visits "
        "already older than the SLA are shown separately as open breaches now. No "
        "visits: no value. Negative durations are counted as anomalies instead.",
        "down", 0.10, 0.25,
    ),
    MetricDefinition(
        "delay_contribution", "延误贡献", "Delay contribution", "h",
        "Per stage: sum over the late orders completed in W of max(0, time in stage - "
        "stage SLA) per visit, in hours. The bottleneck is the stage with the largest "
        "contribution (none when all are zero). " + _W,
        "down",
    ),
)

DEFINITIONS: dict[str, MetricDefinition] = {d.name: d for d in _DEFINITIONS}


def level(name: str, value: float | None) -> Level:
    """The traffic-light level of ``value`` for metric ``name``: "none" for a missing
    value (None or NaN) or a metric without thresholds; otherwise "critical" when the
    value reaches the critical threshold in the bad direction, "warning" when it reaches
    the warning one, else "good"."""
    definition = DEFINITIONS[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    if definition.warning is None and definition.critical is None:
        return "none"
    worse = (lambda v, t: v >= t) if definition.good_direction == "down" else (lambda v, t: v <= t)
    if definition.critical is not None and worse(value, definition.critical):
        return "critical"
    if definition.warning is not None and worse(value, definition.warning):
        return "warning"
    return "good"

"""The metric catalog: every number OrderBoard shows, defined once (DESIGN.md section 4).

Each ``Metric`` holds its name, labels, unit, exact description, good direction and
warning/critical thresholds; how its value is read from a ``Summary`` (``value``, or
``stage_value`` from a row of ``Summary.stages`` for per-stage metrics); and the
population behind it: the drill-down (``metrics.populations``) that lists its rows, and
how many rows that is (``count``). The wall, the overview, the review, the reports, the
command line and the drill-down lists read metrics by name from here.

Colour rule, the same on every screen: a tile or figure is coloured by the level of the
metric whose value it shows (``Catalog.level``); a stage tile, which shows several
numbers, is coloured by ``stage_over_sla_now`` and says so in its title.

A deployment changes thresholds in its TOML file::

    [metrics.delay_rate]
    warning = 0.08
    critical = 0.15

(``Catalog.with_thresholds``; an unknown metric or key is an error naming the valid ones).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from metrics.summary import Summary

Direction = Literal["up", "down"]
Level = Literal["good", "warning", "critical", "none"]
Unit = Literal["orders", "ratio", "h", "exceptions", "visits", "visits/day", "alerts"]
Scope = Literal["today", "now", "window"]
Value = float | int | None


@dataclass(frozen=True)
class Metric:
    """One metric. ``warning``/``critical`` are the values at which that level starts
    (reached or passed in the bad direction); None means the metric is not graded.
    ``scope`` says which moment or period the value describes. ``population`` names the
    drill-down listing the rows behind the value (None: the value has no list of its own);
    ``count`` reads how many rows that list has (default: the value itself)."""

    name: str
    label_zh: str
    label_en: str
    unit: Unit
    description: str
    good_direction: Direction | None
    scope: Scope = "window"
    warning: float | None = None
    critical: float | None = None
    value: Callable[[Summary], Value] | None = None
    stage_value: Callable[[Any], Value] | None = None
    population: str | None = None
    count: Callable[[Summary], int] | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def describe(self, lang: str) -> str:
        """The exact definition in ``lang`` (``description`` is the English one)."""
        return self.description if lang == "en" else DESCRIPTIONS_ZH[self.name]

    def read(self, summary: Summary) -> Value:
        """The metric's value in ``summary`` (whole flow)."""
        if self.value is None:
            raise ValueError(f"{self.name} is a per-stage metric; read it with read_stage")
        return self.value(summary)

    def read_stage(self, row: Any) -> Value:
        """The metric's value for one stage (a row of ``Summary.stages``)."""
        if self.stage_value is None:
            raise ValueError(f"{self.name} is not a per-stage metric")
        return _plain(self.stage_value(row))

    def rows(self, summary: Summary) -> int | None:
        """How many rows its drill-down lists (None without a population)."""
        if self.population is None:
            return None
        if self.count is not None:
            return int(self.count(summary))
        value = self.read(summary)
        return None if value is None else int(value)

    def level(self, value: Value) -> Level:
        """The traffic-light level of ``value``: "none" for a missing value (None or NaN)
        or an ungraded metric; "critical" when the value reaches the critical threshold in
        the bad direction, "warning" when it reaches the warning one, else "good"."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "none"
        if (self.warning is None and self.critical is None) or self.good_direction is None:
            return "none"
        worse = (lambda v, t: v >= t) if self.good_direction == "down" else (lambda v, t: v <= t)
        if self.critical is not None and worse(value, self.critical):
            return "critical"
        if self.warning is not None and worse(value, self.warning):
            return "warning"
        return "good"


def _plain(value: Any) -> Value:
    """A plain int or float (numpy scalars converted), None for missing or NaN."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _share(part: Any, whole: Any) -> float | None:
    try:
        whole = float(whole)
        part = float(part)
    except (TypeError, ValueError):
        return None
    if not whole or math.isnan(whole) or math.isnan(part):
        return None
    return part / whole


_W = "W = the window [start, end), filters restrict every order counted."

_METRICS: tuple[Metric, ...] = (
    Metric(
        "orders_placed_today", "今日下单", "Orders today", "orders",
        "Orders (any status, cancelled included) placed from local midnight of today "
        "(pipeline time zone) up to now.",
        "up", scope="today", value=lambda s: s.placed_today, population="placed_today",
    ),
    Metric(
        "wip", "在制订单", "WIP", "orders",
        "Open orders now: status open, placed at or before now, current stage a flow stage "
        "(before the terminal stage, not optional). Cancelled and completed orders are "
        "never WIP. Over time, WIP at t = orders placed before t, neither completed nor "
        "cancelled before t (cancelled at an unknown time: never WIP).",
        "down", scope="now", value=lambda s: s.wip, population="wip",
        stage_value=lambda row: row.wip,
    ),
    Metric(
        "completed", "签收订单", "Orders completed", "orders",
        "Orders completed in W: not cancelled, completed_at (entering the terminal stage) "
        "in W. Rates and cycle times are over these orders. " + _W,
        "up", value=lambda s: s.delay.completed, population="completed",
    ),
    Metric(
        "late", "延误订单", "Late orders", "orders",
        "Orders completed in W with completed_at > promised_at. " + _W,
        "down", value=lambda s: s.delay.late, population="late",
    ),
    Metric(
        "delay_rate", "延误率", "Delay rate", "ratio",
        "late / completed over the orders completed in W (not cancelled, completed_at in W); "
        "late = completed_at > promised_at. Orders without a promised date are counted in "
        "completed and never late. No completed orders: no value (—), never 0 % or 100 %. "
        + _W,
        "down", warning=0.05, critical=0.10, value=lambda s: s.delay.rate,
        population="late", count=lambda s: s.delay.late,
    ),
    Metric(
        "cycle_time_median", "履约周期中位数", "Cycle time (median)", "h",
        "Median of completed_at - placed_at over the orders completed in W, in hours "
        "(days = hours / 24); completed_at = entering the terminal stage. " + _W,
        "down", warning=240, critical=336, value=lambda s: s.cycle_time.median_h,
        population="completed", count=lambda s: s.cycle_time.count,
    ),
    Metric(
        "cycle_time_mean", "履约周期均值", "Cycle time (mean)", "h",
        "Mean of completed_at - placed_at over the orders completed in W, in hours. " + _W,
        "down", warning=264, critical=360, value=lambda s: s.cycle_time.mean_h,
        population="completed", count=lambda s: s.cycle_time.count,
    ),
    Metric(
        "cycle_time_p90", "履约周期P90", "Cycle time (p90)", "h",
        "90th percentile (linear interpolation between closest ranks) of completed_at - "
        "placed_at over the orders completed in W, in hours. " + _W,
        "down", warning=408, critical=504, value=lambda s: s.cycle_time.p90_h,
        population="completed", count=lambda s: s.cycle_time.count,
    ),
    Metric(
        "overdue_now", "当前逾期", "Overdue now", "orders",
        "Orders in WIP now whose promised_at is before now.",
        "down", scope="now", warning=1, critical=20, value=lambda s: s.delay.overdue_now,
        population="overdue_now",
    ),
    Metric(
        "at_risk", "延误风险", "At risk", "orders",
        "Orders in WIP now, not overdue, with now + max(0, typical hours of the current "
        "stage - age in it) + typical hours of the remaining flow stages > promised_at. "
        "Age = now - current_since. Typical hours of a stage = median time in stage of its "
        "visits that ended in W (the stage SLA when none ended in W). Orders without a "
        "promised date are never at risk.",
        "down", scope="now", warning=5, critical=30, value=lambda s: s.delay.at_risk,
        population="at_risk",
    ),
    Metric(
        "placed", "下单", "Orders placed", "orders",
        "Orders with placed_at in W, any status. " + _W,
        None, value=lambda s: s.flow.placed,
    ),
    Metric(
        "open_exceptions", "未关闭异常", "Open exceptions", "exceptions",
        "Exceptions opened at or before now and not resolved by now (resolved_at empty "
        "or after now), whenever they were opened.",
        "down", scope="now", warning=5, critical=20, value=lambda s: s.exceptions.open_now,
        population="open_exceptions",
    ),
    Metric(
        "open_alerts", "未确认预警", "Open alerts", "alerts",
        "Alert instances firing now and not acknowledged (state firing, acknowledged_at "
        "empty), of every alert rule; pending ones (inside their rule's 'for') are not "
        "counted. With filters: the alerts about an order (or its exception) that passes "
        "them, and the metric alerts whose rule's scope is exactly those filters. Listed on "
        "the /alerts page.",
        "down", scope="now", warning=1, critical=10, value=lambda s: s.open_alerts,
    ),
    Metric(
        "exceptions_opened", "新增异常", "Exceptions opened", "exceptions",
        "Exceptions with opened_at in W, by kind and stage. " + _W,
        "down", value=lambda s: s.exceptions.opened_in_window, population="exceptions_opened",
    ),
    Metric(
        "exception_ack_median", "异常响应时间", "Exception response (median)", "h",
        "Median of acknowledged_at - opened_at, in hours, over exceptions opened in W and "
        "acknowledged by now. " + _W,
        "down", warning=2, critical=8, value=lambda s: s.exceptions.ack_median_h,
        population="exceptions_opened", count=lambda s: s.exceptions.opened_in_window,
    ),
    Metric(
        "exception_resolve_median", "异常解决时间", "Exception resolution (median)", "h",
        "Median of resolved_at - opened_at, in hours, over exceptions opened in W and "
        "resolved by now. " + _W,
        "down", warning=24, critical=72, value=lambda s: s.exceptions.resolve_median_h,
        population="exceptions_opened", count=lambda s: s.exceptions.opened_in_window,
    ),
    Metric(
        "time_in_stage", "工序停留时间", "Time in stage", "h",
        "Per stage: time from entering the stage to the start of the order's next visit "
        "(or the stage's own complete event), over the visits that ended in W, rework "
        "included; shown as mean, median, p90 and total. " + _W,
        "down", stage_value=lambda row: row.median_h, population="stage_visits",
    ),
    Metric(
        "throughput", "吞吐量", "Throughput", "visits/day",
        "Per stage: visits that left the stage in W (left_at in W, non-negative duration, "
        "rework included) / elapsed days of W (days from start to min(end, now)). For the "
        "whole flow, orders placed and completed per local day (trend).",
        "up", stage_value=lambda row: row.throughput_per_day, population="stage_visits",
    ),
    Metric(
        "sla_breach_rate", "超时率", "SLA breach rate", "ratio",
        "Per stage: breaches / visits over the visits that ended in W with a non-negative "
        "duration (rework included); breach = time in stage > stage SLA. Open visits "
        "already older than the SLA are shown separately as open breaches now. No "
        "visits: no value. " + _W,
        "down", warning=0.10, critical=0.25, stage_value=lambda row: row.breach_rate,
        population="stage_breaches",
    ),
    Metric(
        "stage_over_sla_now", "超SLA占比(在制)", "Share over SLA now", "ratio",
        "Per stage: orders in the stage now whose age in it exceeds the stage SLA (open "
        "breaches now) / orders in the stage now. No orders in the stage: no value. This "
        "colours the stage tiles.",
        "down", scope="now", warning=0.10, critical=0.25,
        stage_value=lambda row: _share(row.open_breaches_now, row.wip),
        population="stage_open_breaches",
    ),
    Metric(
        "delay_contribution", "延误贡献", "Delay contribution", "h",
        "Per stage: sum over the late orders completed in W of max(0, time in stage - "
        "stage SLA) per visit, in hours. The bottleneck is the stage with the largest "
        "contribution (none when all are zero). " + _W,
        "down", stage_value=lambda row: row.delay_contribution_h, population="stage_delayed",
    ),
)

THRESHOLD_KEYS = ("warning", "critical")
# The metric that colours a stage tile (it shows several numbers; its title names this one).
STAGE_COLOUR = "stage_over_sla_now"


class Catalog(Mapping[str, Metric]):
    """The metrics by name, in catalog order; ``level(name, value)`` grades a value."""

    def __init__(self, metrics: tuple[Metric, ...]) -> None:
        self._metrics = {m.name: m for m in metrics}

    def __getitem__(self, name: str) -> Metric:
        try:
            return self._metrics[name]
        except KeyError:
            raise KeyError(f"unknown metric {name!r} (one of {', '.join(self._metrics)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._metrics)

    def __len__(self) -> int:
        return len(self._metrics)

    def level(self, name: str, value: Value) -> Level:
        return self[name].level(value)

    def with_thresholds(self, overrides: Mapping[str, Mapping[str, Any]] | None) -> Catalog:
        """A catalog with a deployment's thresholds (``{name: {"warning": x, "critical":
        y}}``); unknown names or keys and non-numbers raise ValueError."""
        if not overrides:
            return self
        metrics = dict(self._metrics)
        for name, values in overrides.items():
            if name not in metrics:
                raise ValueError(f"[metrics.{name}]: unknown metric (one of {', '.join(metrics)})")
            if not isinstance(values, Mapping):
                raise ValueError(f"[metrics.{name}] must be a table with warning and/or critical")
            changes: dict[str, float | None] = {}
            for key, value in values.items():
                if key not in THRESHOLD_KEYS:
                    raise ValueError(f"[metrics.{name}] {key}: unknown key (warning, critical)")
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"[metrics.{name}] {key} must be a number, not {value!r}")
                changes[key] = float(value)
            metrics[name] = replace(metrics[name], **changes)  # type: ignore[arg-type]
            metric = metrics[name]
            if metric.good_direction is None:
                raise ValueError(f"[metrics.{name}]: {name} is not graded; it takes no thresholds")
            if metric.warning is not None and metric.critical is not None:
                ordered = (metric.warning <= metric.critical if metric.good_direction == "down"
                           else metric.warning >= metric.critical)
                if not ordered:
                    raise ValueError(f"[metrics.{name}]: warning {metric.warning:g} must come before "
                                     f"critical {metric.critical:g} (good direction: {metric.good_direction})")
        return Catalog(tuple(metrics.values()))


_W_ZH = "W = 时间窗 [开始, 结束)；筛选条件限定计入的每个订单。"

# The definitions in Chinese, one per metric, saying exactly what ``description`` says.
DESCRIPTIONS_ZH: dict[str, str] = {
    "orders_placed_today": "今天（流程时区）零点起至现在下单的订单（任何状态，含已取消）。",
    "wip": "现在未关闭的订单：状态为进行中、下单时间不晚于现在、当前环节为流转环节（签收之前、非可选环节）。"
           "已取消和已签收的订单从不计入。某时刻 t 的在制 = t 之前下单、t 之前既未签收也未取消的订单"
           "（取消时间未知的从不计入）。",
    "completed": "在 W 内签收的订单：未取消，签收时间（进入终点环节）在 W 内。比率和履约周期都以这些订单为准。" + _W_ZH,
    "late": "在 W 内签收且签收时间晚于承诺交期的订单。" + _W_ZH,
    "delay_rate": "延误订单 / 签收订单，均为 W 内签收的订单（未取消，签收时间在 W 内）；延误 = 签收时间 > 承诺交期。"
                  "没有承诺交期的订单计入签收、从不算延误。没有签收订单时无值（—），不是 0 % 或 100 %。" + _W_ZH,
    "cycle_time_median": "W 内签收订单的（签收时间 − 下单时间）的中位数，单位小时（天 = 小时 / 24）；"
                         "签收时间 = 进入终点环节的时间。" + _W_ZH,
    "cycle_time_mean": "W 内签收订单的（签收时间 − 下单时间）的平均值，单位小时。" + _W_ZH,
    "cycle_time_p90": "W 内签收订单的（签收时间 − 下单时间）的第 90 百分位数（相邻秩线性插值），单位小时。" + _W_ZH,
    "overdue_now": "现在在制、承诺交期早于现在的订单。",
    "at_risk": "现在在制、尚未逾期，且 现在 + （当前环节典型时长 − 已停留时长，不小于 0）"
               "+ 其余流转环节典型时长之和 > 承诺交期的订单。已停留时长 = 现在 − 进入当前环节的时间。"
               "环节典型时长 = W 内结束的该环节停留的中位数"
               "（W 内没有结束的停留时取该环节 SLA）。没有承诺交期的订单从不算有延误风险。",
    "placed": "下单时间在 W 内的订单，任何状态。" + _W_ZH,
    "open_exceptions": "不晚于现在发生、到现在仍未解决（解决时间为空或晚于现在）的异常，无论何时发生。",
    "open_alerts": "现在触发中、尚未确认的预警（状态为触发中、确认时间为空），所有预警规则的；待定的（仍在规则"
                   "规定的持续时间内）不计入。有筛选条件时：关于通过筛选的订单（或其异常）的预警，以及规则范围"
                   "恰好是这些筛选条件的指标预警。预警页面逐条列出。",
    "exceptions_opened": "发生时间在 W 内的异常，按类型和环节。" + _W_ZH,
    "exception_ack_median": "W 内发生、到现在已确认的异常的（确认时间 − 发生时间）中位数，单位小时。" + _W_ZH,
    "exception_resolve_median": "W 内发生、到现在已解决的异常的（解决时间 − 发生时间）中位数，单位小时。" + _W_ZH,
    "time_in_stage": "按环节：从进入该环节到订单下一次停留开始（或该环节自身的完成事件）的时间，取 W 内结束的停留，"
                     "含返工；显示平均值、中位数、第 90 百分位数和合计。" + _W_ZH,
    "throughput": "按环节：W 内离开该环节的停留数（离开时间在 W 内、时长非负、含返工）/ W 已过去的天数"
                  "（从开始到结束与现在中较早者）。整个流程：每个本地日的下单数和签收数（趋势）。",
    "sla_breach_rate": "按环节：超时停留数 / 停留数，取 W 内结束且时长非负的停留（含返工）；"
                       "超时 = 停留时长 > 环节 SLA。已超过 SLA 的未结束停留单独显示为当前超时。"
                       "没有停留时无值。" + _W_ZH,
    "stage_over_sla_now": "按环节：现在在该环节、停留已超过环节 SLA 的订单（当前超时）/ 现在在该环节的订单。"
                          "该环节没有订单时无值。环节卡片的颜色由它决定。",
    "delay_contribution": "按环节：W 内签收的延误订单每次停留的（停留时长 − 环节 SLA，不小于 0）之和，单位小时。"
                          "瓶颈是贡献最大的环节（全部为零时没有瓶颈）。" + _W_ZH,
}
assert set(DESCRIPTIONS_ZH) == {m.name for m in _METRICS}, "every metric is defined in both languages"

CATALOG = Catalog(_METRICS)

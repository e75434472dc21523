"""The whole wall summary for a window and filters, in six indexed queries.

``compute_summary`` selects the frames (``metrics.frames``) and hands them to the
pure functions of ``cycle_time``, ``delay``, ``stages``, ``exceptions`` and ``trend``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from datasource.alert_firing import open_alert_count
from datasource.pipeline import Pipeline
from metrics import frames
from metrics.catalog import CATALOG
from metrics.cycle_time import CycleTime, completed_in, cycle_time
from metrics.delay import Delay, delay, wip_now
from metrics.exceptions import Exceptions, exception_summary
from metrics.stages import anomalies, bottleneck, flow_codes, stage_table, typical_hours
from metrics.stats import clean, frame_records
from metrics.trend import daily_trend, flow_counts, wip_at
from metrics.window import Filters, Window, as_utc, local_midnight


@dataclass(frozen=True)
class Flow:
    """The flow balance of W: wip_end = wip_start + placed - completed - cancelled
    (WIP at an instant as defined in ``metrics.trend``)."""

    wip_start: int
    placed: int
    completed: int
    cancelled: int
    wip_end: int


@dataclass(frozen=True)
class Summary:
    window: Window
    filters: Filters
    now: datetime
    timezone: str
    cycle_time: CycleTime
    delay: Delay
    wip: int
    placed_today: int
    exceptions: Exceptions
    stages: pd.DataFrame = field(repr=False)
    bottleneck: str | None
    trend: pd.DataFrame = field(repr=False)
    anomalies: dict[str, int]
    flow: Flow
    open_alerts: int | None = None  # alerts firing now, not acknowledged (catalog: open_alerts)

    def to_dict(self) -> dict:
        """Everything as JSON-serialisable values (NaN/None -> null, instants ISO 8601)."""
        ct = self.cycle_time
        x = self.exceptions
        return {
            "window": {"start": clean(self.window.start), "end": clean(self.window.end)},
            "filters": {k: list(v) if isinstance(v, tuple) else v for k, v in self.filters.active().items()},
            "now": clean(self.now),
            "timezone": self.timezone,
            "cycle_time": {
                "count": ct.count, "median_h": ct.median_h, "mean_h": ct.mean_h, "p90_h": ct.p90_h,
                "median_d": ct.median_d, "mean_d": ct.mean_d, "p90_d": ct.p90_d,
            },
            "delay": {k: clean(v) for k, v in self.delay.__dict__.items()},
            "wip": self.wip,
            "placed_today": self.placed_today,
            "exceptions": {
                "opened_in_window": x.opened_in_window, "by_kind": x.by_kind,
                "by_stage": x.by_stage, "open_now": x.open_now,
                "acknowledged": x.acknowledged, "resolved": x.resolved,
                "ack_median_h": x.ack_median_h, "resolve_median_h": x.resolve_median_h,
                "matrix": {str(k): {str(s): int(n) for s, n in row.items()}
                           for k, row in x.matrix.to_dict("index").items()},
            },
            "stages": frame_records(self.stages),
            "bottleneck": self.bottleneck,
            "trend": frame_records(self.trend),
            "anomalies": {"negative_durations": self.anomalies,
                          "total": sum(self.anomalies.values())},
            "flow": dict(self.flow.__dict__),
            "open_alerts": self.open_alerts,
        }


def today_start(now: datetime, tz: str) -> datetime:
    """Local midnight of ``now``'s day in ``tz``, as a UTC instant."""
    return local_midnight(as_utc(now).astimezone(ZoneInfo(tz)).date(), tz)


def compute_summary(
    engine: Engine, pipeline: Pipeline, window: Window, filters: Filters | None, now: datetime
) -> Summary:
    """The wall summary of ``window`` under ``filters`` as of ``now`` (see the modules
    for each definition). "Now" figures (WIP, overdue, at risk, open exceptions, open
    breaches, placed today) describe the store as of ``now``; the open alerts are those
    open when the summary is computed (alert states are kept as they are now, not as
    they were)."""
    filters = filters or Filters()
    now = as_utc(now)
    active = filters.active()
    codes = flow_codes(pipeline)
    orders = frames.window_orders(engine, window.start, window.end, active)
    ended = frames.visits_ended(engine, window.start, window.end, pipeline.codes, active)
    flow_sla = {s.code: s.sla_hours * 3600 for s in pipeline.flow_stages}
    late_visits = frames.late_order_visits(engine, window.start, window.end, active, flow_sla)
    opened = frames.exceptions_opened(engine, window.start, window.end, active)
    open_exceptions = frames.count_open_exceptions(engine, now, active)
    placed_today = frames.count_placed(engine, today_start(now, pipeline.timezone), now, active)
    open_alerts = open_alert_count(engine, active)

    completed = completed_in(orders, window)
    wip = wip_now(orders, now, codes)
    stages = stage_table(ended, wip, late_visits, pipeline, window, now)
    counts = flow_counts(orders, window.start, window.end)
    return Summary(
        window=window,
        filters=filters,
        now=now,
        timezone=pipeline.timezone,
        cycle_time=cycle_time(completed),
        delay=delay(completed, wip, now, typical_hours(stages), codes),
        wip=len(wip),
        placed_today=placed_today,
        exceptions=exception_summary(opened, open_exceptions, now),
        stages=stages,
        bottleneck=bottleneck(stages),
        trend=daily_trend(orders, window, pipeline.timezone, now),
        anomalies=anomalies(ended),
        flow=Flow(
            wip_start=wip_at(orders, window.start),
            placed=counts["placed"],
            completed=counts["completed"],
            cancelled=counts["cancelled"],
            wip_end=wip_at(orders, window.end),
        ),
        open_alerts=open_alerts,
    )


def _fmt(value: float | None, digits: int = 1, scale: float = 1.0, suffix: str = "") -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value * scale:.{digits}f}{suffix}"


# The whole-flow metrics ``orderboard metrics`` prints, by catalog name, in order.
TEXT_KPIS = (
    "completed", "late", "delay_rate", "cycle_time_median", "cycle_time_mean", "cycle_time_p90",
    "wip", "overdue_now", "at_risk", "orders_placed_today", "exceptions_opened", "open_exceptions",
    "exception_ack_median", "exception_resolve_median",
)
TEXT_NOTES = {"late": lambda s: f"   (without promised date: {s.delay.without_promise})"}


def render_text(summary: Summary, lang: str = "en") -> str:
    """A plain-text rendering of the summary (for ``orderboard metrics``)."""
    tz = ZoneInfo(summary.timezone)
    w = summary.window
    last_day = (w.end - timedelta(microseconds=1)).astimezone(tz)
    lines = [
        f"Window {w.start.astimezone(tz):%Y-%m-%d %H:%M} .. {last_day:%Y-%m-%d %H:%M} "
        f"({summary.timezone}); now {summary.now.astimezone(tz):%Y-%m-%d %H:%M:%S}",
    ]
    if summary.filters:
        lines.append("Filters: " + ", ".join(f"{k}={v}" for k, v in summary.filters.active().items()))
    lines.append("")
    for name in TEXT_KPIS:
        metric = CATALOG[name]
        value = metric.read(summary)
        if metric.unit == "ratio":
            shown = _fmt(value, 2, 100, " %")
        elif metric.unit == "h":
            shown = _fmt(value, 1, 1, " h")
            if name.startswith("cycle_time"):
                shown += f"  ({_fmt(None if value is None else value / 24, 2, 1, ' d')})"
        else:
            shown = f"{value}"
        lines.append(f"{metric.label_en:<30}{shown}{TEXT_NOTES.get(name, lambda s: '')(summary)}")
    lines += [
        f"{'Bottleneck':<30}{summary.bottleneck or '—'}",
        f"{'Anomalies':<30}{sum(summary.anomalies.values())} negative stage durations",
        "",
    ]
    wip = CATALOG["wip"].label_en
    header = (f"{'stage':<12}{wip:>7}{'thru/d':>9}{'visits':>8}{'mean h':>8}{'med h':>8}"
              f"{'p90 h':>8}{'SLA h':>7}{'breach':>8}{'rate':>8}{'rework':>8}{'delay h':>10}")
    lines.append(header)
    for row in summary.stages.itertuples():
        label = row.label_en if lang == "en" else row.label_zh
        mark = " *" if row.is_bottleneck else ""
        lines.append(
            f"{label[:12]:<12}{row.wip:>7}{_fmt(row.throughput_per_day):>9}{row.visits:>8}"
            f"{_fmt(row.mean_h):>8}{_fmt(row.median_h):>8}{_fmt(row.p90_h):>8}{row.sla_hours:>7.0f}{row.breaches:>8}"
            f"{_fmt(row.breach_rate, 1, 100, '%'):>8}{row.rework_visits:>8}{row.delay_contribution_h:>10.1f}{mark}"
        )
    lines += ["", f"{'date':<12}{'placed':>8}{'done':>8}{'late':>6}{wip:>8}{'delay':>8}"]
    for row in summary.trend.itertuples():
        wip = "—" if row.wip_end_of_day is None or pd.isna(row.wip_end_of_day) else str(int(row.wip_end_of_day))
        lines.append(f"{row.date!s:<12}{row.placed:>8}{row.completed:>8}{row.late:>6}{wip:>8}"
                     f"{_fmt(row.delay_rate, 1, 100, '%'):>8}")
    return "\n".join(lines)

"""The charts of the weekly review, by id: the page, the chart downloads and the PDF all
call ``review_figure`` so the exported chart is the one on screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard.figures import bottleneck_figure, exceptions_figure, trend_figure
from dashboard.figures.review import stage_time_figure, week_trend_figure
from metrics.review import WeeklyReport


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title_zh: str
    title_en: str
    build: Callable[[WeeklyReport, str, str], go.Figure]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("weeks", "近8期趋势", "Trend over 8 periods",
              lambda r, lang, theme: week_trend_figure(r.trend, lang, theme)),
    ChartSpec("days", "本期每日", "Day by day in this period",
              lambda r, lang, theme: trend_figure(r.summary.trend, lang, theme)),
    ChartSpec("stage_time", "各工序停留时间 (中位数) 与上期对比", "Time in stage (median) against the previous period",
              lambda r, lang, theme: stage_time_figure(r.stages, lang, theme)),
    ChartSpec("bottleneck", "延误贡献 (超出SLA的小时)", "Delay contribution (hours beyond SLA)",
              lambda r, lang, theme: bottleneck_figure(r.summary.stages, lang, theme)),
    ChartSpec("exceptions", "新增异常 (按类型)", "Exceptions opened, by kind",
              lambda r, lang, theme: exceptions_figure(r.summary.exceptions.by_kind, lang, theme)),
)
CHART_IDS: tuple[str, ...] = tuple(c.id for c in CHARTS)


def chart_spec(chart_id: str) -> ChartSpec:
    for spec in CHARTS:
        if spec.id == chart_id:
            return spec
    raise KeyError(f"unknown review chart {chart_id!r} (one of {CHART_IDS})")


def review_figure(report: WeeklyReport, chart_id: str, lang: str = "en", theme: str = "light") -> go.Figure:
    """The review chart ``chart_id`` of ``report`` (no title: pages and documents set theirs)."""
    return chart_spec(chart_id).build(report, lang, theme)

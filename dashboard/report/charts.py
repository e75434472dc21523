"""The charts of the weekly review, by id: the page, the chart downloads and the PDF all
call ``review_figure`` so the exported chart is the one on screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard.figures import bottleneck_figure, exceptions_figure, trend_figure
from dashboard.figures.review import stage_time_figure, week_trend_figure
from dashboard.words import word
from metrics.review import WeeklyReport


@dataclass(frozen=True)
class ChartSpec:
    id: str
    build: Callable[[WeeklyReport, str, str], go.Figure]

    def title(self, lang: str) -> str:
        return word("review", f"chart_{self.id}", lang)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("weeks", lambda r, lang, theme: week_trend_figure(r.trend, lang, theme)),
    ChartSpec("days", lambda r, lang, theme: trend_figure(r.summary.trend, lang, theme)),
    ChartSpec("stage_time", lambda r, lang, theme: stage_time_figure(r.stages, lang, theme)),
    ChartSpec("bottleneck", lambda r, lang, theme: bottleneck_figure(r.summary.stages, lang, theme)),
    ChartSpec("exceptions", lambda r, lang, theme: exceptions_figure(r.summary.exceptions.by_kind, lang, theme)),
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

"""Figures of the weekly review that the wall does not have: the trend over several weeks
and time in stage against the previous period. Same conventions as the other builders:
results in, ``go.Figure`` out, theme-aware, inputs never changed."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.axes import percent_axis
from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.words import word
from metrics.catalog import CATALOG


def _w(key: str, lang: str) -> str:
    return word("figures", key, lang)


def week_trend_figure(trend: pd.DataFrame, lang: str = "zh", theme: str | Theme = "light",
                      font_px: int | None = None, title: str | None = None) -> go.Figure:
    """Orders completed per period (bars, the last period, the one under review, in the
    primary colour and the earlier ones muted), the delay rate (%, right axis, round
    ticks) and the median cycle time (h, dotted, on its own right axis with its title and
    unit: hours never read on the order-count axis). ``trend`` is
    ``WeeklyReport.trend`` (period, completed, delay_rate, median_h); periods without
    completions have no rate and no median point."""
    th = get_theme(theme)
    if trend.empty or not (trend["completed"] > 0).any():
        return empty_figure(word("figures", "no_trend", lang), th, font_px, title)
    periods = trend["period"].astype(str).tolist()
    colours = [th.secondary] * (len(periods) - 1) + [th.primary]
    rate = [None if pd.isna(r) else float(r) * 100 for r in trend["delay_rate"]]
    median = [None if pd.isna(h) else float(h) for h in trend["median_h"]]
    fig = go.Figure([
        go.Bar(x=periods, y=trend["completed"].astype(int).tolist(), name=CATALOG["completed"].label(lang),
               marker={"color": colours}, text=trend["completed"].astype(int).tolist(),
               textposition="inside", insidetextanchor="start",
               textfont={"color": "#ffffff"}, hovertemplate="%{x}: %{y}<extra></extra>"),
        go.Scatter(x=periods, y=rate, name=CATALOG["delay_rate"].label(lang) + " %", yaxis="y2",
                   mode="lines+markers", connectgaps=False,
                   line={"color": th.critical, "width": 3}, marker={"size": 9},
                   hovertemplate="%{x}: %{y:.1f}%<extra></extra>"),
        go.Scatter(x=periods, y=median, name=_w("median_h", lang), yaxis="y3",
                   mode="lines+markers", connectgaps=False,
                   line={"color": th.warning, "width": 2, "dash": "dot"}, marker={"size": 7},
                   hovertemplate="%{x}: %{y:.0f} h<extra></extra>"),
    ])
    styled(fig, th, font_px, title)
    top = max((r for r in rate if r is not None), default=0.0)
    fig.update_layout(
        bargap=0.35,
        # the plot leaves room on the right for the two right-hand axes
        xaxis={"domain": [0, 0.86]},
        yaxis={"title": {"text": word("figures", "orders", lang)}, "rangemode": "tozero"},
        yaxis2={"title": {"text": CATALOG["delay_rate"].label(lang) + " %", "font": {"color": th.critical}},
                "overlaying": "y", "side": "right", "anchor": "x", "showgrid": False,
                "tickfont": {"color": th.critical}, **percent_axis(top)},
        # Hours have their own axis, beside the rate's: never read on the order counts.
        yaxis3={"title": {"text": _w("median_h", lang), "font": {"color": th.warning}},
                "overlaying": "y", "side": "right", "anchor": "free", "position": 1.0,
                "rangemode": "tozero", "showgrid": False, "ticksuffix": " h",
                "tickfont": {"color": th.warning}},
    )
    return fig


def stage_time_figure(stages: pd.DataFrame, lang: str = "zh", theme: str | Theme = "light",
                      font_px: int | None = None, title: str | None = None) -> go.Figure:
    """Median time in stage per flow stage, this period against the previous one (grouped
    horizontal bars, first stage on top), with each stage's SLA as a tick mark. ``stages``
    is ``WeeklyReport.stages`` (label_zh, label_en, sla_hours, median_h, median_h_prev)."""
    th = get_theme(theme)
    if stages.empty or (stages["median_h"].isna().all() and stages["median_h_prev"].isna().all()):
        return empty_figure(_w("no_visits", lang), th, font_px, title)
    labels = stages["label_en" if lang == "en" else "label_zh"].astype(str).tolist()

    def hours(column: str) -> list[float | None]:
        return [None if pd.isna(v) else float(v) for v in stages[column]]

    fig = go.Figure([
        go.Bar(y=labels, x=hours("median_h_prev"), orientation="h", name=_w("previous", lang),
               marker={"color": th.secondary}, hovertemplate="%{y}: %{x:.1f} h<extra></extra>"),
        go.Bar(y=labels, x=hours("median_h"), orientation="h", name=_w("this", lang),
               marker={"color": th.primary}, hovertemplate="%{y}: %{x:.1f} h<extra></extra>"),
        go.Scatter(y=labels, x=stages["sla_hours"].astype(float).tolist(), mode="markers",
                   name=_w("sla", lang), marker={"symbol": "line-ns-open", "size": 22,
                                                 "color": th.critical, "line": {"width": 3}},
                   hovertemplate="SLA %{y}: %{x:.0f} h<extra></extra>"),
    ])
    styled(fig, th, font_px, title)
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.05)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    # Log scale: stages take from an hour to several days; linear bars hide the short ones.
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
    fig.update_xaxes(type="log", title={"text": _w("hours", lang) + " (log)"},
                     tickmode="array", tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    return fig

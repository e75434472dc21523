"""The daily trend: orders placed and completed per day, and the day's delay rate."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.axes import percent_axis
from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.words import word
from metrics.catalog import CATALOG


def trend_figure(trend: pd.DataFrame, lang: str = "zh", theme: str | Theme = "light",
                 font_px: int | None = None, title: str | None = None) -> go.Figure:
    """Bars of orders placed and completed per local day and a line of the delay rate
    (late / completed of the day, in %, right axis; no point on days without completions).
    ``trend`` is a ``metrics.trend.daily_trend`` frame (date, placed, completed, delay_rate)."""
    th = get_theme(theme)
    if trend.empty:
        return empty_figure(word("figures", "no_trend", lang), th, font_px, title)
    size = int(font_px or th.font_px)
    days = [pd.Timestamp(d).strftime("%m-%d") for d in trend["date"]]
    rate = [None if pd.isna(r) else float(r) * 100 for r in trend["delay_rate"]]
    fig = go.Figure([
        go.Bar(x=days, y=trend["placed"].astype(int).tolist(), name=CATALOG["placed"].label(lang),
               marker={"color": th.secondary}, hovertemplate="%{x}: %{y}<extra></extra>"),
        go.Bar(x=days, y=trend["completed"].astype(int).tolist(), name=CATALOG["completed"].label(lang),
               marker={"color": th.primary}, hovertemplate="%{x}: %{y}<extra></extra>"),
        go.Scatter(x=days, y=rate, name=CATALOG["delay_rate"].label(lang) + " %", yaxis="y2",
                   mode="lines+markers", connectgaps=False,
                   line={"color": th.critical, "width": max(2, size // 6)}, marker={"size": max(6, size // 2)},
                   hovertemplate="%{x}: %{y:.1f}%<extra></extra>"),
    ])
    styled(fig, th, font_px, title, revision="trend")
    fig.update_layout(
        barmode="group", bargap=0.25,
        xaxis={"type": "category"},  # "11-16" is a day label, not a date to re-parse
        yaxis={"title": {"text": word("figures", "orders", lang)}, "rangemode": "tozero"},
        yaxis2={"title": {"text": CATALOG["delay_rate"].label(lang) + " %"}, "overlaying": "y",
                "side": "right", "showgrid": False, "tickfont": {"color": th.critical},
                **percent_axis(max((r for r in rate if r is not None), default=0.0))},
    )
    return fig

"""Exceptions opened in the window, by kind."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.words import kind_label, word


def exceptions_figure(by_kind: Mapping[str, int], lang: str = "zh", theme: str | Theme = "light",
                      font_px: int | None = None, title: str | None = None) -> go.Figure:
    """Horizontal bars of exception counts per kind (``Exceptions.by_kind``), the most
    frequent on top, with the count written at the end of each bar."""
    th = get_theme(theme)
    items = sorted(((k, int(n)) for k, n in by_kind.items() if int(n) > 0), key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return empty_figure(word("figures", "no_exceptions", lang), th, font_px, title)
    labels = [kind_label(k, lang) for k, _ in items]
    counts = [n for _, n in items]
    fig = go.Figure(go.Bar(
        x=counts, y=labels, orientation="h", marker={"color": th.warning},
        text=[str(n) for n in counts], textposition="outside", cliponaxis=False,
        textfont={"size": int((font_px or th.font_px) * 1.15)},
        customdata=[k for k, _ in items], name=word("figures", "exceptions", lang),
        hovertemplate="%{y}: %{x}<extra></extra>",
    ))
    styled(fig, th, font_px, title, revision="exceptions")
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(range=[0, max(counts) * 1.25], showticklabels=False, showgrid=False,
                     title={"text": word("figures", "exceptions", lang)})
    return fig

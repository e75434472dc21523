"""WIP now split by an order attribute (production line, channel, ...)."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled

EMPTY = ("没有在制订单", "No open orders")


def breakdown_figure(counts: Mapping[str, int], selected: str | None = None, lang: str = "zh",
                     theme: str | Theme = "light", font_px: int | None = None,
                     title: str | None = None) -> go.Figure:
    """Horizontal bars of ``counts`` (value -> orders), largest on top, the ``selected``
    value in the primary colour and the others muted when one is selected. Each bar's
    ``customdata`` is its value ("" for orders without one), for click-to-filter."""
    th = get_theme(theme)
    items = sorted(((str(k), int(n)) for k, n in counts.items() if int(n) > 0),
                   key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return empty_figure(EMPTY[1] if lang == "en" else EMPTY[0], th, font_px, title)
    names = [k or "—" for k, _ in items]
    values = [n for _, n in items]
    colours = [th.primary if selected in (None, k) else th.secondary for k, _ in items]
    fig = go.Figure(go.Bar(
        x=values, y=names, orientation="h", marker={"color": colours},
        text=[f"{n:,}" for n in values], textposition="outside", cliponaxis=False,
        customdata=[k for k, _ in items], hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    styled(fig, th, font_px, title)
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(range=[0, max(values) * 1.25], showticklabels=False, showgrid=False)
    return fig

"""WIP now split by an order attribute (production line, channel, ...).

Orders without a value (no line recorded) are not a bar: a bar is a filter a manager can
click, and "no line" is not a line to filter the overview by; it is a data-quality gap.
They are counted in a note under the bars ("另有 12 单未指定 · 12 more without a value"),
so the bars and the note still add up to the WIP.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.words import word


def breakdown_figure(counts: Mapping[str, int], selected: str | None = None, lang: str = "zh",
                     theme: str | Theme = "light", font_px: int | None = None,
                     title: str | None = None, what: str = "production_line") -> go.Figure:
    """Horizontal bars of ``counts`` (value -> orders), largest on top, the ``selected``
    value in the primary colour and the others muted when one is selected. Each bar's
    ``customdata`` is its value, for click-to-filter. Orders without a value (key "" or
    None) are a note under the bars naming ``what`` (the filtered column, e.g.
    ``production_line``), not a bar."""
    th = get_theme(theme)
    unset = sum(int(n) for k, n in counts.items() if k is None or str(k) == "")
    items = sorted(((str(k), int(n)) for k, n in counts.items()
                    if int(n) > 0 and k is not None and str(k) != ""),
                   key=lambda kv: (-kv[1], kv[0]))
    note = word("figures", "unset", lang, n=unset, what=word("filters", what, lang)) if unset else None
    if not items:
        fig = empty_figure(word("figures", "no_open", lang), th, font_px, title)
        if note:
            fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.3, xref="paper", yref="paper",
                               font={"color": th.muted})
        return fig
    names = [k for k, _ in items]
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
    if note:
        size = int(font_px or th.font_px)
        fig.add_annotation(text=note, showarrow=False, x=0, y=0, xref="paper", yref="paper",
                           xanchor="left", yanchor="top", yshift=-4, font={"color": th.muted},
                           name="unset-note")
        fig.update_layout(margin={"b": int(size * 2.4)})
    return fig

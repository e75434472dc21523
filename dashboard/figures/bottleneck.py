"""Delay contribution per stage: where the late orders lost their time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.formatting import number
from dashboard.words import word


def bottleneck_figure(stages: pd.DataFrame, lang: str = "zh", theme: str | Theme = "light",
                      font_px: int | None = None, title: str | None = None) -> go.Figure:
    """Horizontal bars of ``delay_contribution_h`` per stage (a ``metrics.stages.stage_table``
    frame: code, label_zh, label_en, delay_contribution_h, is_bottleneck), first stage on
    top, the bottleneck in the critical colour. Each bar's ``customdata`` is its stage
    code (the wall links a click to ``/stages/<code>``)."""
    th = get_theme(theme)
    if stages.empty or not (stages["delay_contribution_h"].fillna(0) > 0).any():
        return empty_figure(word("figures", "no_delay", lang), th, font_px, title)
    labels = stages["label_en" if lang == "en" else "label_zh"].astype(str).tolist()
    hours = stages["delay_contribution_h"].fillna(0.0).astype(float).tolist()
    is_neck = stages["is_bottleneck"].fillna(False).astype(bool).tolist()
    colours = [th.critical if b else th.primary for b in is_neck]
    neck = word("figures", "bottleneck", lang)
    text = [f"{number(h)} h" + (f"  ◀ {neck}" if b else "") for h, b in zip(hours, is_neck)]
    fig = go.Figure(go.Bar(
        x=hours, y=labels, orientation="h", marker={"color": colours},
        text=text, textposition="outside", cliponaxis=False,
        textfont={"size": int((font_px or th.font_px) * 1.15)},
        customdata=stages["code"].astype(str).tolist(),
        hovertemplate="%{y}: %{x:,.0f} h<extra></extra>",
        name=word("figures", "delay_hours", lang),
    ))
    styled(fig, th, font_px, title, revision="bottleneck")
    fig.update_layout(showlegend=False, bargap=0.25)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    # Room on the right for the outside labels, so the longest bar's text stays visible.
    fig.update_xaxes(range=[0, max(hours) * 1.45], title={"text": word("figures", "delay_hours", lang)},
                     showticklabels=False, showgrid=False)
    return fig

"""One order's stage Gantt: one bar per stage visit, SLA markers, rework visits distinct.

Input: the order's visits (``datasource.order_detail.order_visits``: stage_code, visit_no,
is_rework, entered_at, left_at, duration_s) and the pipeline. A visit still open runs to
``now``. The bar is in the good colour when the visit stayed within the stage SLA, in the
critical colour beyond it; rework visits (visit_no > 1) are hatched and labelled. A
diamond marks where each visit's SLA ran out. Times are shown in zone ``tz``.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.i18n import pick
from datasource.pipeline import Pipeline

WORDS = {
    "within": ("SLA内", "within SLA"), "beyond": ("超SLA", "beyond SLA"),
    "rework": ("返工", "rework"), "sla": ("SLA到期", "SLA due"), "open": ("进行中", "in progress"),
    "none": ("暂无环节记录", "No stage visits recorded"),
}


def _w(key: str, lang: str) -> str:
    return pick(WORDS[key], lang)


def visit_bars(visits: pd.DataFrame, pipeline: Pipeline, now: datetime, tz: str) -> pd.DataFrame:
    """Per visit: stage label, local start/end (open visits end at ``now``), hours, SLA
    hours, SLA due time, over SLA, rework, open. A new frame, input unchanged."""
    sla = {s.code: s.sla_hours for s in pipeline.stages}
    label = {s.code: f"{s.label_zh} {s.label_en}" for s in pipeline.stages}
    v = visits.copy()
    start = pd.to_datetime(v["entered_at"], utc=True)
    is_open = v["left_at"].isna()
    end = pd.to_datetime(v["left_at"], utc=True).where(~is_open, pd.Timestamp(now))
    hours = (end - start).dt.total_seconds() / 3600.0
    sla_h = v["stage_code"].map(sla).astype("float64")
    return pd.DataFrame({
        "stage_code": v["stage_code"],
        "stage": v["stage_code"].map(label).fillna(v["stage_code"]),
        "visit_no": v["visit_no"].astype(int),
        "start": start.dt.tz_convert(tz).dt.tz_localize(None),
        "end": end.dt.tz_convert(tz).dt.tz_localize(None),
        "hours": hours,
        "sla_h": sla_h,
        "sla_due": (start + pd.to_timedelta(sla_h, unit="h")).dt.tz_convert(tz).dt.tz_localize(None),
        "over_sla": hours > sla_h,
        "rework": v["is_rework"].astype(bool) | (v["visit_no"].astype(int) > 1),
        "open": is_open,
    })


def timeline_figure(visits: pd.DataFrame, pipeline: Pipeline, now: datetime, tz: str,
                    lang: str = "zh", theme: str | Theme = "light", font_px: int | None = None,
                    title: str | None = None, promised_at: datetime | None = None) -> go.Figure:
    """The order's stage Gantt (see the module docstring); stages top to bottom in
    pipeline order; a dashed line at the promised time and, while a visit is open, at now."""
    th = get_theme(theme)
    if visits.empty:
        return empty_figure(_w("none", lang), th, font_px, title)
    bars = visit_bars(visits, pipeline, now, tz)
    order = [f"{s.label_zh} {s.label_en}" for s in pipeline.stages if s.code in set(bars["stage_code"])]
    fig = go.Figure()
    groups = (("within", False, False), ("beyond", True, False), ("rework", None, True))
    for key, over, rework in groups:
        part = bars.loc[bars["rework"]] if rework else bars.loc[~bars["rework"] & (bars["over_sla"] == over)]
        if part.empty:
            continue
        colour = [th.critical if o else th.good for o in part["over_sla"]] if rework else (
            th.critical if over else th.good)
        ms = (part["end"] - part["start"]).dt.total_seconds() * 1000
        text = [
            (f"#{n} " if r else "") + f"{h:.1f} h" + (f" · {_w('open', lang)}" if o else "")
            for n, r, h, o in zip(part["visit_no"], part["rework"], part["hours"], part["open"])
        ]
        fig.add_trace(go.Bar(
            y=part["stage"], x=ms, base=part["start"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            orientation="h", name=_w(key, lang), text=text, textposition="inside",
            insidetextanchor="start", textangle=0, cliponaxis=False,
            marker={"color": colour, "line": {"color": th.text, "width": 1 if rework else 0},
                    "pattern": {"shape": "/" if rework else "", "fgcolor": th.paper, "solidity": 0.3}},
            customdata=list(zip(part["start"].dt.strftime("%m-%d %H:%M"),
                                part["end"].dt.strftime("%m-%d %H:%M"), part["sla_h"])),
            hovertemplate="%{y}<br>%{customdata[0]} → %{customdata[1]}<br>%{text}"
                          " (SLA %{customdata[2]:g} h)<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        y=bars["stage"], x=bars["sla_due"].dt.strftime("%Y-%m-%d %H:%M:%S"), mode="markers",
        name=_w("sla", lang), marker={"symbol": "diamond", "size": 11, "color": th.warning,
                                      "line": {"color": th.text, "width": 1}},
        hovertemplate="%{y}: " + _w("sla", lang) + " %{x|%m-%d %H:%M}<extra></extra>",
    ))
    lines = [(promised_at, th.critical, "承诺 promised" if lang == "zh" else "promised")]
    if bars["open"].any():
        lines.append((now, th.muted, "现在 now" if lang == "zh" else "now"))
    for moment, colour, text in lines:
        if moment is None or pd.isna(moment):
            continue
        x = pd.Timestamp(moment).tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S")
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
                      line={"color": colour, "dash": "dash", "width": 2})
        fig.add_annotation(x=x, y=1, yref="paper", text=text, showarrow=False, yanchor="bottom",
                           font={"color": colour})
    styled(fig, th, font_px, title)
    # labels that do not fit their bar are hidden (the hover still has them), not shrunk
    fig.update_layout(barmode="overlay", bargap=0.35, height=max(260, 70 + 48 * len(order)),
                      uniformtext={"minsize": 11, "mode": "hide"})
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], showgrid=False)
    fig.update_xaxes(type="date", tickformat="%m-%d\n%H:%M")
    return fig

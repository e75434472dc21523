"""One order's stage Gantt: one bar per stage visit, SLA markers, rework visits distinct.

Input: the order's visits (``datasource.order_detail.order_visits``: stage_code, visit_no,
is_rework, entered_at, left_at, duration_s) and the pipeline. A visit still open runs to
``now`` while the order runs; for a completed or cancelled order a visit without an
end (its terminal stage) ends at the order's completion or cancellation. The bar is in
the good colour when the visit stayed within the stage SLA, in the critical colour
beyond it; rework visits (visit_no > 1) are hatched and labelled. A diamond marks
where each visit's SLA ran out. Times are shown in zone ``tz``.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import Theme, empty_figure, get_theme, styled
from dashboard.words import pick, word
from datasource.pipeline import Pipeline

# this figure's names for its words in the figures table
_KEYS = {"within": "within", "beyond": "beyond", "rework": "rework", "sla": "sla_due",
         "open": "in_progress", "end": "end", "none": "no_visits_recorded"}


def _w(key: str, lang: str) -> str:
    return word("figures", _KEYS.get(key, key), lang)


def visit_bars(visits: pd.DataFrame, pipeline: Pipeline, now: datetime, tz: str,
               closed_at: datetime | None = None, lang: str = "zh") -> pd.DataFrame:
    """Per visit: stage label, local start/end (visits without an end end at ``now``, or
    at ``closed_at``, the completion or cancellation of a closed order, never before they
    start), hours, SLA hours, SLA due time, over SLA, rework, open (still running). A new
    frame, input unchanged."""
    sla = {s.code: s.sla_hours for s in pipeline.stages}
    label = {s.code: pick((s.label_zh, s.label_en), lang) for s in pipeline.stages}
    v = visits.copy()
    start = pd.to_datetime(v["entered_at"], utc=True)
    no_end = v["left_at"].isna()
    is_open = no_end & (closed_at is None)
    until = pd.Timestamp(now if closed_at is None else closed_at)
    end = pd.to_datetime(v["left_at"], utc=True).where(~no_end, start.clip(lower=until))
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
        # the order's end point: closed when entered, with no duration
        "end_point": v["left_at"].notna() & v["duration_s"].isna(),
    })


def timeline_figure(visits: pd.DataFrame, pipeline: Pipeline, now: datetime, tz: str,
                    lang: str = "zh", theme: str | Theme = "light", font_px: int | None = None,
                    title: str | None = None, promised_at: datetime | None = None,
                    running: bool = True, closed_at: datetime | None = None) -> go.Figure:
    """The order's stage Gantt (see the module docstring); stages top to bottom in
    pipeline order; a dashed line at the promised time and, while the order runs
    (``running``: its status is open; visits are not asked), at now. ``closed_at``: the
    completion or cancellation of a closed order, where its unended visits end.
    The lines' labels sit inside the plot (promised at the top, now at the bottom), clear
    of the legend above it and of each other when the two times are close."""
    th = get_theme(theme)
    if visits.empty:
        return empty_figure(_w("none", lang), th, font_px, title)
    all_visits = visit_bars(visits, pipeline, now, tz, None if running else closed_at, lang)
    order = [pick((s.label_zh, s.label_en), lang) for s in pipeline.stages
             if s.code in set(all_visits["stage_code"])]
    ends = all_visits.loc[all_visits["end_point"]]
    bars = all_visits.loc[~all_visits["end_point"]]
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
    if not ends.empty:
        fig.add_trace(go.Scatter(
            y=ends["stage"], x=ends["start"].dt.strftime("%Y-%m-%d %H:%M:%S"), mode="markers",
            name=_w("end", lang), marker={"symbol": "circle", "size": 14, "color": th.good,
                                          "line": {"color": th.text, "width": 1}},
            hovertemplate="%{y}: " + _w("end", lang) + " %{x|%m-%d %H:%M}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        y=bars["stage"], x=bars["sla_due"].dt.strftime("%Y-%m-%d %H:%M:%S"), mode="markers",
        name=_w("sla", lang), marker={"symbol": "diamond", "size": 11, "color": th.warning,
                                      "line": {"color": th.text, "width": 1}},
        hovertemplate="%{y}: " + _w("sla", lang) + " %{x|%m-%d %H:%M}<extra></extra>",
    ))
    lines = [(promised_at, th.critical, word("figures", "promised", lang), 1.0, "top")]
    if running:
        lines.append((now, th.muted, word("figures", "now", lang), 0.0, "bottom"))
    for moment, colour, text, y, anchor in lines:
        if moment is None or pd.isna(moment):
            continue
        x = pd.Timestamp(moment).tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S")
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
                      line={"color": colour, "dash": "dash", "width": 2})
        fig.add_annotation(x=x, y=y, yref="paper", text=text, showarrow=False, yanchor=anchor,
                           xanchor="right", xshift=-4, bgcolor=th.paper, font={"color": colour})
    styled(fig, th, font_px, title)
    # labels that do not fit their bar are hidden (the hover still has them), not shrunk
    fig.update_layout(barmode="overlay", bargap=0.35, height=max(260, 70 + 48 * len(order)),
                      uniformtext={"minsize": 11, "mode": "hide"})
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], showgrid=False)
    fig.update_xaxes(type="date", tickformat="%m-%d\n%H:%M")
    return fig

"""Figure builders: pure functions from metrics frames to figures (read through fig.data)."""

from __future__ import annotations

import base64
import json
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import THEMES, bottleneck_figure, exceptions_figure, trend_figure


def _stages() -> pd.DataFrame:
    return pd.DataFrame({
        "code": ["placed", "paid", "produced"],
        "label_zh": ["下单", "付款", "生产"],
        "label_en": ["Placed", "Paid", "Produced"],
        "delay_contribution_h": [5.0, 227.75, 206.6],
        "is_bottleneck": [False, True, False],
    })


def _trend() -> pd.DataFrame:
    return pd.DataFrame({
        "date": [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)],
        "placed": [18, 31, 8], "completed": [20, 16, 0], "cancelled": [0, 0, 0],
        "late": [1, 4, 0], "wip_end_of_day": [110, 125, 119], "delay_rate": [0.05, 0.25, None],
    })


def _decoded(fig: go.Figure, trace: int, key: str) -> list:
    """A trace array from the figure JSON (plotly 7 writes numbers as base64 arrays)."""
    value = json.loads(fig.to_json())["data"][trace][key]
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def test_bottleneck_bars_per_stage_with_the_bottleneck_marked():
    stages = _stages()
    before = stages.copy()
    fig = bottleneck_figure(stages, lang="en", theme="dark", font_px=30)
    bar = fig.data[0]
    assert list(bar.y) == ["Placed", "Paid", "Produced"]
    assert _decoded(fig, 0, "x") == [5.0, 227.75, 206.6]
    assert list(bar.customdata) == ["placed", "paid", "produced"]
    dark = THEMES["dark"]
    assert list(bar.marker.color) == [dark.primary, dark.critical, dark.primary]
    assert list(bar.text) == ["5 h", "228 h  ◀ bottleneck", "207 h"]
    assert fig.layout.yaxis.autorange == "reversed"  # first stage on top
    assert fig.layout.font.size == 30
    assert fig.layout.uirevision == "bottleneck"
    pd.testing.assert_frame_equal(stages, before)


def test_bottleneck_in_chinese_and_light_theme():
    fig = bottleneck_figure(_stages(), lang="zh", theme="light")
    assert list(fig.data[0].y) == ["下单", "付款", "生产"]
    assert fig.layout.font.size == THEMES["light"].font_px
    assert fig.layout.paper_bgcolor == THEMES["light"].paper


def test_bottleneck_without_delay_says_so():
    stages = _stages().assign(delay_contribution_h=0.0, is_bottleneck=False)
    fig = bottleneck_figure(stages, lang="en", theme="dark")
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text == "No late orders in this period"
    assert bottleneck_figure(stages.iloc[0:0], lang="zh").layout.annotations[0].text == "所选时段没有延误订单"


def test_trend_bars_and_delay_rate_line():
    trend = _trend()
    before = trend.copy()
    fig = trend_figure(trend, lang="en", theme="dark", font_px=28)
    placed, completed, rate = fig.data
    assert (placed.name, completed.name, rate.name) == ("Orders placed", "Orders completed", "Delay rate %")
    assert list(placed.x) == ["11-19", "11-20", "11-21"]
    assert _decoded(fig, 0, "y") == [18, 31, 8]
    assert _decoded(fig, 1, "y") == [20, 16, 0]
    assert list(rate.y) == [5.0, 25.0, None]  # no completions, no rate (not 0 %)
    assert rate.yaxis == "y2"
    assert fig.layout.xaxis.type == "category"
    pd.testing.assert_frame_equal(trend, before)


def test_trend_empty():
    fig = trend_figure(_trend().iloc[0:0], lang="zh", theme="dark")
    assert fig.layout.annotations[0].text == "暂无数据"


def test_exceptions_by_kind_most_frequent_first():
    by_kind = {"shortage": 7, "payment_overdue": 1, "customer_change": 4, "odd_kind": 0}
    fig = exceptions_figure(by_kind, lang="zh", theme="dark")
    bar = fig.data[0]
    assert list(bar.y) == ["缺料", "客户变更", "付款逾期"]
    assert _decoded(fig, 0, "x") == [7, 4, 1]
    assert list(bar.text) == ["7", "4", "1"]
    assert list(bar.customdata) == ["shortage", "customer_change", "payment_overdue"]
    assert by_kind == {"shortage": 7, "payment_overdue": 1, "customer_change": 4, "odd_kind": 0}


def test_exceptions_unknown_kind_and_empty():
    fig = exceptions_figure({"machine_breakdown": 2}, lang="en")
    assert list(fig.data[0].y) == ["Machine breakdown"]
    assert exceptions_figure({}, lang="en").layout.annotations[0].text == "No exceptions opened in this period"

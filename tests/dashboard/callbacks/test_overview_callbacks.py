"""The manager overview without a browser: controls and chart clicks -> URL, the URL ->
tiles and charts under the filters, back-button sync of the controls."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from dash import no_update
from screens import demo_context

from dashboard.app import render_page
from dashboard.callbacks import overview as cb
from dashboard.layouts import overview as ui
from dashboard.pages import default_pages
from dashboard.url_state import parse
from metrics.drilldown import wip_by
from metrics.summary import compute_summary
from metrics.window import Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai
TZ = "Asia/Shanghai"


@pytest.fixture
def ctx(sqlite_store, tmp_path):
    return demo_context(sqlite_store, tmp_path, 500, END)


def click(**point) -> dict:
    return {"points": [point]}


@pytest.mark.parametrize("trigger, value, before, after", [
    (ui.DAYS, 30, "?line=A", "?days=30&line=A"),
    (ui.DAYS, 0, "?days=30", "?days=30"),  # "custom": wait for dates
    (ui.DATES, ("2026-11-02", "2026-11-08"), "?days=30", "?from=2026-11-02&to=2026-11-08"),
    (ui.DATES, (None, None), "?from=2026-11-02&to=2026-11-08", ""),
    (ui.FILTER_IDS["customer"], "acme", "?days=14", "?days=14&customer=acme"),
    (ui.FILTER_IDS["owner"], None, "?owner=wang&line=A", "?line=A"),
    (ui.BOTTLENECK, click(customdata="produced", pointIndex=4), "", "?stage=produced"),
    (ui.BOTTLENECK, click(customdata="produced", pointIndex=4), "?stage=produced", ""),  # toggles
    (ui.BY_LINE, click(customdata="Line A"), "?channel=online", "?line=Line+A&channel=online"),
    (ui.BY_LINE, click(customdata="Line A"), "?line=Line+A", ""),
    (ui.BY_CHANNEL, click(customdata="online"), "", "?channel=online"),
    (ui.TREND, click(pointIndex=6, x="11-20"), "", "?from=2026-11-20&to=2026-11-20"),
    (ui.TREND, click(pointIndex=0, x="11-14"), "", "?from=2026-11-14&to=2026-11-14"),
    (ui.FOCUS_CLEAR, 1, "?stage=paid&line=A", "?line=A"),
    (ui.RESET, 1, "?stage=paid&line=A&days=30", ""),
])
def test_next_state(trigger, value, before, after):
    from dashboard.url_state import to_search

    assert to_search(cb.next_state(parse(before), trigger, {trigger: value}, TZ, END)) == after


def test_sync_writes_the_url_and_clears_clicks(ctx):
    out = cb.sync(ctx, "?days=7", ui.BY_LINE, {ui.BY_LINE: click(customdata="Line B")}, now=END)
    assert out[0] == "?line=Line+B"
    assert out[1:9] == (no_update,) * 8       # the controls already show it
    assert out[9:] == (None,) * 4             # clicks cleared, so a second click registers
    same = cb.sync(ctx, "?line=A", ui.FILTER_IDS["line"], {ui.FILTER_IDS["line"]: "A"}, now=END)
    assert same[0] is no_update


def test_back_button_sets_the_controls(ctx):
    out = cb.sync(ctx, "?from=2026-11-02&to=2026-11-08&customer=acme", ui.URL, {}, now=END)
    assert out[0] is no_update
    assert out[1:9] == (0, "2026-11-02", "2026-11-08", None, "acme", None, None, None)
    out = cb.sync(ctx, "?days=30", ui.URL, {}, now=END)
    assert out[1:4] == (30, None, None)


def test_every_chart_and_tile_follows_the_filters(ctx):
    search = "?days=30&line=Line+A&channel=direct"
    (kpis, flow, neck, trend, by_line, by_channel, kinds, as_of, focus_hidden, _focus, banner,
     banner_hidden, filter_warning) = cb.overview_view(ctx, search, now=END)
    assert filter_warning == []
    pipeline = ctx.settings.pipeline
    state = parse(search)
    window = Window.last_days(30, END, TZ)
    expected = compute_summary(ctx.engine, pipeline, window, state.filters(), END)
    counts = {k.id: int(k.to_plotly_json()["props"]["data-count"]) for k in kpis}
    assert counts["ov-kpi-wip"] == expected.wip
    assert counts["ov-kpi-delay_rate"] == expected.delay.late
    assert [c.id for c in flow] == [f"ov-stage-{s.code}" for s in pipeline.flow_stages]
    assert list(neck.data[0].customdata) == expected.stages["code"].tolist()
    assert list(trend.data[0].y) == expected.trend["placed"].tolist()
    # the line chart shows every line (so one can switch), under the other filters
    assert dict(zip(by_line.data[0].customdata, by_line.data[0].x)) == {
        k: v for k, v in wip_by(ctx.engine, pipeline, "production_line", state.with_(line=None).filters(), END).items()
        if v > 0}
    # the channel chart drops the channel filter and keeps the line filter
    line_only = compute_summary(ctx.engine, pipeline, window, state.with_(channel=None).filters(), END)
    assert sum(by_channel.data[0].x) == line_only.wip > expected.wip
    assert dict(zip(by_channel.data[0].customdata, by_channel.data[0].x))["direct"] == expected.wip
    assert "近30天" in as_of and "line=Line A" in as_of
    assert focus_hidden is True and banner_hidden is True and banner == ""
    assert sum(kinds.data[0].x) == sum(expected.exceptions.by_kind.values()) > 0


def test_stage_focus_highlights_and_narrows_the_breakdowns(ctx):
    out = cb.overview_view(ctx, "?stage=produced", now=END)
    neck, by_line, focus_hidden, focus_text = out[2], out[4], out[8], out[9]
    colours = list(neck.data[0].marker.color)
    codes = list(neck.data[0].customdata)
    if not neck.layout.annotations:  # a figure with bars
        assert colours[codes.index("produced")] != colours[codes.index("paid")]
    summary = compute_summary(ctx.engine, ctx.settings.pipeline, Window.last_days(7, END, TZ), None, END)
    in_stage = summary.stages.set_index("code").loc["produced", "wip"]
    assert sum(by_line.data[0].x) == in_stage
    assert focus_hidden is False and focus_text == "聚焦环节：生产"
    card = next(c for c in out[1] if c.id == "ov-stage-produced")
    assert "ob-mstage--focus" in card.className


def test_filter_options_are_the_distinct_values(ctx):
    options = cb.filter_options(ctx)
    lines = [o["value"] for o in options[0]]
    assert lines == sorted(lines) and "Line A" in lines
    assert all(options[i] for i in range(5))


def test_root_serves_the_overview_with_the_url_state(ctx):
    layout = render_page(ctx, default_pages(), "/", "?days=30&line=Line+A&stage=paid")
    ids = {getattr(c, "id", None) for c in layout.children}
    assert {ui.URL, ui.KPIS, ui.FLOW, ui.FOCUS, ui.TIMER} <= ids
    days = layout.children[2].children[0].children[1]
    assert days.id == ui.DAYS and days.value == 30
    line = layout.children[2].children[2].children[1]
    assert line.id == ui.FILTER_IDS["line"] and line.value == "Line A"


def test_orders_without_a_line_are_a_labelled_note_not_a_dead_bar():
    from dashboard.figures.breakdown import breakdown_figure

    fig = breakdown_figure({"Line A": 30, "Line B": 12, "": 5}, None, "zh", "light")
    bar = fig.data[0]
    assert list(bar.y) == ["Line A", "Line B"] and list(bar.customdata) == ["Line A", "Line B"]
    assert "—" not in bar.y   # every bar is a line a click can filter by
    notes = [a.text for a in fig.layout.annotations]
    assert notes == ["另有 5 单未指定产线"]
    assert sum(bar.x) + 5 == 47   # the bars and the note add up to the WIP
    en = breakdown_figure({"": 3, "online": 2, None: 1}, None, "en", "light", what="channel")
    assert [a.text for a in en.layout.annotations] == ["4 more without a channel"]
    only_unset = breakdown_figure({"": 4}, None, "en", "light")
    assert "4 more without a line" in [a.text for a in only_unset.layout.annotations]

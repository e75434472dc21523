"""A filter value that matches no order is said on the page, and an unknown stage code is a
404 page, never a healthy-looking board or the list of every order."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from screens import demo_context, texts

from dashboard.callbacks import overview as overview_cb
from dashboard.filter_check import unknown_filters, warning_text
from dashboard.layouts import stage as stage_layout
from metrics.window import Filters

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def ctx(sqlite_store, tmp_path):
    return demo_context(sqlite_store, tmp_path, 300, END)


def test_a_value_no_order_has_is_named_with_the_values_that_exist(ctx):
    assert unknown_filters(ctx, Filters(production_line="Line A")) == []
    [unknown] = unknown_filters(ctx, Filters(production_line="LineA", channel="online"))
    assert (unknown.column, unknown.value) == ("production_line", "LineA")
    assert {"Line A", "Line B"} <= set(unknown.existing)
    text = warning_text(unknown, "en")
    assert "“LineA”" in text and "Line A, Line B" in text
    assert "“LineA”" in warning_text(unknown, "zh") and "现有产线" in warning_text(unknown, "zh")


def test_the_overview_shows_the_warning_above_its_zeros(ctx):
    out = overview_cb.overview_view(ctx, "?line=LineA", END)
    shown = " ".join(texts(out[-1]))
    assert "LineA" in shown and "Line A" in shown
    assert overview_cb.overview_view(ctx, "?line=Line%20A", END)[-1] == []


def test_the_stage_list_warns_too_and_an_unknown_stage_is_a_404_page(ctx):
    from dashboard.callbacks import stage as stage_cb  # noqa: F401 - registered with the app

    page = stage_layout.layout(ctx, code="nosuch", line="Line A")
    assert page.className == "ob-page ob-notfound"
    assert "nosuch" in " ".join(texts(page)) and "produced" in " ".join(texts(page))
    listed = stage_layout.layout(ctx, code="produced")
    assert "ob-stage-page" in listed.className
    with pytest.raises(stage_layout.UnknownStage):
        stage_layout.list_spec("nosuch", stage_layout.parse(""), ctx.settings.pipeline)


def test_a_wall_filtered_on_a_missing_line_says_so_in_its_header(ctx):
    from dashboard.callbacks.wall import filter_warning_text
    from dashboard.url_state import parse_wall_settings

    typo = parse_wall_settings({"line": "LineA", "lang": "en"}).to_store()
    text = filter_warning_text(ctx, typo)
    assert "“LineA”" in text and "Line A" in text
    assert filter_warning_text(ctx, parse_wall_settings({"line": "Line A"}).to_store()) == ""

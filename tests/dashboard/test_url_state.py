"""View state <-> URL query: round trips, defaults left out, lenient parsing."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from dashboard.url_state import ViewState, href, parse, to_search
from metrics.window import Filters, Window

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai


def test_default_view_has_no_query():
    assert to_search(ViewState()) == ""
    assert parse("") == ViewState() and parse(None) == ViewState() and parse("?") == ViewState()


def test_round_trip_of_every_field():
    state = ViewState(start=date(2026, 11, 2), end=date(2026, 11, 8), line="Line A", customer="上海申江化工",
                      channel="online", product="Valves", owner="王芳", stage="produced",
                      metric="delay_rate", view="breached", sort="-time_in_stage_h", q="SO26",
                      page=3, column_filters=(("customer", "申江"), ("owner", "王")))
    text = to_search(state)
    assert parse(text) == state
    assert text.startswith("?from=2026-11-02&to=2026-11-08&line=Line+A&customer=")
    assert text.endswith("&f.customer=%E7%94%B3%E6%B1%9F&f.owner=%E7%8E%8B&page=3")


def test_wall_links_parse():
    state = parse("?metric=delay_rate&line=Line+A&channel=online")
    assert (state.metric, state.line, state.channel) == ("delay_rate", "Line A", "online")
    assert state.filters() == Filters(production_line="Line A", channel="online")


@pytest.mark.parametrize("query, expected", [
    ("?days=abc", ViewState()),
    ("?days=0", ViewState(days=1)),
    ("?days=99999", ViewState(days=3660)),
    ("?page=-4", ViewState()),
    ("?from=2026-11-08&to=2026-11-02", ViewState()),  # reversed: ignored
    ("?from=2026-11-02", ViewState()),                 # half a range: ignored
    ("?from=nope&to=2026-11-02", ViewState()),
    ("?line=&customer=%20&q=", ViewState()),          # blanks mean "all"
    ("?f.customer=&f.owner=wang", ViewState(column_filters=(("owner", "wang"),))),
    ("?unknown=1", ViewState()),
])
def test_lenient_parsing(query, expected):
    assert parse(query) == expected


def test_windows_relative_and_absolute():
    tz = "Asia/Shanghai"
    assert parse("?days=7").window(NOW, tz) == Window.last_days(7, NOW, tz)
    absolute = parse("?from=2026-11-02&to=2026-11-08").window(NOW, tz)
    assert absolute == Window.between_dates(date(2026, 11, 2), date(2026, 11, 8), tz)
    # cache keys hold the relative window, never an instant
    assert parse("?days=7").window_key() == {"days": 7}
    assert parse("?from=2026-11-02&to=2026-11-08").window_key() == {"from": "2026-11-02", "to": "2026-11-08"}


def test_scope_keeps_window_and_filters_only():
    state = parse("?days=30&line=A&stage=paid&metric=wip&sort=owner&page=2&q=x")
    assert href("/stages/all", state.scope().with_(metric="at_risk")) == "/stages/all?days=30&line=A&metric=at_risk"

"""Per-screen wall settings from the URL: good values parsed, bad values fall back."""

from __future__ import annotations

import pytest

from dashboard.url_state import (
    DEFAULT_VIEWS,
    WALL_SETTINGS,
    WallConfig,
    parse_views,
    parse_wall_settings,
)
from metrics.window import Filters


def test_defaults_when_nothing_is_given():
    assert parse_wall_settings({}) == WallConfig(
        views=DEFAULT_VIEWS, rotate_s=30, refresh_s=15, line=None, channel=None,
        lang="zh", kiosk=False, reload_h=6.0)


def test_a_full_bookmark():
    config = parse_wall_settings({
        "views": "kpi,flow,bottleneck,trend,overdue,exceptions", "rotate": "20", "refresh": "10",
        "line": "Line A", "channel": "online", "lang": "en", "kiosk": "1", "reload": "12",
    })
    assert config == WallConfig(
        views=("kpi", "flow", "bottleneck", "trend", "overdue", "exceptions"), rotate_s=20,
        refresh_s=10, line="Line A", channel="online", lang="en", kiosk=True, reload_h=12.0)
    assert config.filters == Filters(production_line="Line A", channel="online")
    assert config.filter_query() == "?line=Line+A&channel=online"


@pytest.mark.parametrize("params, field, expected", [
    ({"rotate": "abc"}, "rotate_s", 30),
    ({"rotate": "1"}, "rotate_s", 5),
    ({"rotate": "99999"}, "rotate_s", 3600),
    ({"refresh": "-3"}, "refresh_s", 2),
    ({"refresh": "nan"}, "refresh_s", 15),
    ({"refresh": "inf"}, "refresh_s", 15),
    ({"refresh": "7.9"}, "refresh_s", 7),
    ({"reload": "0"}, "reload_h", 0.0),
    ({"reload": "1000"}, "reload_h", 168.0),
    ({"reload": ""}, "reload_h", 6.0),
    ({"lang": "fr"}, "lang", "zh"),
    ({"lang": "EN"}, "lang", "en"),
    ({"kiosk": "true"}, "kiosk", True),
    ({"kiosk": "0"}, "kiosk", False),
    ({"kiosk": "maybe"}, "kiosk", False),
    ({"line": "   "}, "line", None),
    ({"line": "x" * 500}, "line", "x" * 100),
])
def test_bad_or_odd_values_fall_back_or_clamp(params, field, expected):
    assert getattr(parse_wall_settings(params), field) == expected


def test_views_keep_order_drop_unknown_and_repeats():
    assert parse_views("trend, KPI,nonsense,trend") == ("trend", "kpi")
    assert parse_views("nonsense") == DEFAULT_VIEWS
    assert parse_views(None) == DEFAULT_VIEWS


def test_a_path_view_pins_the_screen_to_it():
    assert parse_wall_settings({"views": "kpi,trend"}, view="bottleneck").views == ("bottleneck",)
    assert parse_wall_settings({"views": "kpi,trend"}, view="bogus").views == ("kpi", "trend")


def test_store_round_trip_and_damaged_store():
    config = parse_wall_settings({"views": "trend,kpi", "line": "Line B", "lang": "en", "kiosk": "1"})
    assert WallConfig.from_store(config.to_store()) == config
    assert WallConfig.from_store(None) == WallConfig()
    assert WallConfig.from_store({"views": 5, "rotate_s": "x"}) == WallConfig()


def test_no_filters_no_query():
    assert WallConfig().filter_query() == ""
    assert not WallConfig().filters


def test_every_setting_is_declared():
    names = {s.name for s in WALL_SETTINGS}
    assert names == {"views", "rotate", "refresh", "line", "channel", "lang", "kiosk", "reload"}
    assert all(s.help for s in WALL_SETTINGS)


@pytest.mark.parametrize("value, hours", [("0.0001", 1.0), ("0.5", 1.0), ("0", 0.0), ("2", 2.0), ("-3", 0.0)])
def test_reload_is_never_more_often_than_hourly(value, hours):
    assert parse_wall_settings({"reload": value}).reload_h == hours

"""Every page's state <-> URL query: round trips, defaults left out, lenient parsing, and one
declaration and one reader per parameter name for every page."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from dashboard.layouts.review import query_of, selection_from
from dashboard.url_state import (
    PARAM,
    PARAMS,
    VIEWS,
    WALL_SETTINGS,
    ViewState,
    WallConfig,
    href,
    lang_state,
    params_of,
    parse,
    parse_wall_settings,
    query_values,
    to_search,
    wall_search,
)
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


# -- one model: every page's parameters declared once, read and written by one machinery ----

STATES = [
    ViewState(),
    ViewState(days=30, line="Line A", lang="en"),
    ViewState(start=date(2026, 11, 2), end=date(2026, 11, 2), customer="上海申江化工", owner="王芳"),
    ViewState(days=1, product="Valves & Co", channel="online", stage="produced", metric="delay_rate"),
    ViewState(view="breached", sort="-time_in_stage_h", q="SO26 #1", page=12, lang="zh",
              column_filters=(("customer", "申江"), ("order_number", "PO/1"))),
]


@pytest.mark.parametrize("state", STATES)
def test_manager_state_round_trip(state):
    search = to_search(state)
    assert parse(search) == state
    assert parse(query_values(search)) == state  # the router hands the query split


CONFIGS = [
    WallConfig(),
    WallConfig(views=("alerts",), lang="en", kiosk=True, reload_h=0.0),
    WallConfig(views=("trend", "kpi", "flow"), rotate_s=5, refresh_s=600, line="Line A", channel="线上 & 门店",
               lang="zh", reload_h=1.5),
    WallConfig(views=VIEWS, rotate_s=3600, refresh_s=2, reload_h=168.0),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_wall_settings_round_trip(config):
    assert parse_wall_settings(wall_search(config)) == config
    assert parse_wall_settings(wall_search(config), default_lang="en") == config  # the language is kept
    assert WallConfig.from_store(config.to_store()) == config


def test_wall_search_leaves_defaults_out():
    assert wall_search(WallConfig()) == "?lang=zh"
    assert wall_search(WallConfig(views=("kpi", "trend"), refresh_s=5, line="Line A", lang="en", kiosk=True)) == (
        "?views=kpi%2Ctrend&refresh=5&line=Line+A&lang=en&kiosk=1")


@pytest.mark.parametrize("query", ["?week=2026-W45&lang=en", "?from=2026-11-02&to=2026-11-15&lang=zh"])
def test_review_selection_round_trip(query):
    now = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    selection = selection_from(query_values(query), now, "Asia/Shanghai")
    assert query_of(selection) == query
    assert selection_from(query_values(query_of(selection)), now, "Asia/Shanghai") == selection


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_without_a_window_carry_their_language(lang):
    assert lang_state(to_search(ViewState(lang=lang))) == ViewState(lang=lang)
    assert lang_state({"lang": f" {lang.upper()} ", "line": "A", "days": "3"}) == ViewState(lang=lang)
    assert lang_state("?lang=fr") == ViewState()


@pytest.mark.parametrize("value", ["Line A", "  Line A ", "", "   ", "x" * 500, "线 A", None])
@pytest.mark.parametrize("name", ["line", "channel"])
def test_a_filter_reads_the_same_on_the_wall_and_the_manager_pages(name, value):
    query = {name: value} if value is not None else {}
    assert getattr(parse_wall_settings(query), name) == getattr(parse(query), name)


@pytest.mark.parametrize("value", ["en", " EN", "zh", "fr", "", None])
def test_the_language_reads_the_same_on_every_page(value):
    query = {"lang": value} if value is not None else {}
    assert parse(query).lang == lang_state(query).lang
    assert parse_wall_settings(query, default_lang="zh").lang == (parse(query).lang or "zh")


def test_every_name_a_page_writes_is_declared():
    state = STATES[-1].with_(start=date(2026, 1, 1), end=date(2026, 1, 2), line="a", customer="b",
                             channel="c", product="d", owner="e", stage="f", metric="g")
    written = {k if not k.startswith("f.") else "f.<column>" for k in query_values(to_search(state))}
    assert written <= {p.name for p in params_of("stages")} | {p.name for p in params_of("overview")}
    every = WallConfig(views=("kpi",), rotate_s=9, refresh_s=9, line="a", channel="b", kiosk=True, reload_h=2)
    assert set(query_values(wall_search(every))) == {p.name for p in WALL_SETTINGS}
    assert set(query_values(query_of({"week": "2026-W01", "lang": "en"}))) <= {p.name for p in params_of("review")}


def test_every_parameter_has_help_pages_and_a_reader_that_takes_anything():
    assert len(PARAM) == len(PARAMS)
    for param in PARAMS:
        assert param.help and param.pages
        for junk in (None, "", " ", "nan", "inf", "-1", "x" * 300, "\u00a0", "1e309"):
            param.read(junk)  # never raises: a bad value falls back to the default


def test_the_readme_lists_every_parameter_as_declared():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### URL parameters", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{p.name}` | {f'`{p.default}`' if p.default else ''} | {', '.join(p.pages)} | {p.help} |"
                    for p in PARAMS]

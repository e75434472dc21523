"""Bookmarked URLs keep their meaning: every form of wall URL a TV may have been set up
with, and the manager pages' links, read as they always have.

The expected values were taken from the URL parsing before the wall's settings and the
manager pages' state became one model (``dashboard.url_state``); a change here changes
what a bookmark shows.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from dashboard.layouts.review import query_of, selection_from
from dashboard.pages import default_pages, resolve
from dashboard.url_state import parse, parse_wall_settings, to_search

DEFAULT = ("main", "bottleneck", "trend", "exceptions")
X100 = "x" * 100


def wall_settings_of(url: str, default_lang: str = "zh") -> dict:
    """The settings a screen opened at ``url`` runs with (through the page router)."""
    parts = urlsplit(url)
    _page, params = resolve(default_pages(), parts.path, parts.query)
    view = params.pop("view", None)
    config = parse_wall_settings(params, view, default_lang=default_lang)
    return {"views": config.views, "rotate": config.rotate_s, "refresh": config.refresh_s,
            "line": config.line, "channel": config.channel, "lang": config.lang,
            "kiosk": config.kiosk, "reload": config.reload_h, "links": config.link_query()}


def settings(views=DEFAULT, rotate=30, refresh=15, line=None, channel=None, lang="zh", kiosk=False,
             reload=6.0, links="?lang=zh") -> dict:
    return {"views": views, "rotate": rotate, "refresh": refresh, "line": line, "channel": channel,
            "lang": lang, "kiosk": kiosk, "reload": reload, "links": links}


WALL_URLS = [
    ("/wall?views=main,trend&rotate=30&refresh=15&line=Line%20A&channel=online&lang=en&kiosk=1&reload=6", "zh",
     settings(("main", "trend"), line="Line A", channel="online", lang="en", kiosk=True,
              links="?line=Line+A&channel=online&lang=en")),
    ("/wall", "zh", settings()),
    ("/wall", "en", settings(lang="en", links="?lang=en")),
    ("/wall/", "zh", settings()),
    ("/wall/trend", "zh", settings(("trend",))),
    ("/wall/TREND?views=kpi", "zh", settings(("trend",))),
    ("/wall/bogus?views=kpi", "zh", settings(("kpi",))),
    ("/wall?views=main,alerts", "zh", settings(("main", "alerts"))),
    ("/wall/alerts?kiosk=1&lang=en&refresh=2", "zh",
     settings(("alerts",), refresh=2, lang="en", kiosk=True, links="?lang=en")),
    ("/wall?views=main&refresh=5&lang=en", "zh", settings(("main",), refresh=5, lang="en", links="?lang=en")),
    ("/wall?views=kpi,trend&rotate=5&lang=en", "zh",
     settings(("kpi", "trend"), rotate=5, lang="en", links="?lang=en")),
    ("/wall?line=Line+A&views=main,kpi", "en",
     settings(("main", "kpi"), line="Line A", lang="en", links="?line=Line+A&lang=en")),
    ("/wall/overdue?kiosk=1&lang=en", "zh", settings(("overdue",), lang="en", kiosk=True, links="?lang=en")),
    ("/wall?rotate=abc&refresh=nan&reload=0.5&kiosk=yes&lang=FR&views=bogus,TREND,trend,kpi", "zh",
     settings(("trend", "kpi"), kiosk=True, reload=1.0)),
    ("/wall?line=%20%20&channel=" + "x" * 120, "zh",
     settings(channel=X100, links=f"?channel={X100}&lang=zh")),
    ("/wall?reload=0&refresh=7.9&rotate=1", "zh", settings(rotate=5, refresh=7, reload=0.0)),
    ("/wall?reload=1000&refresh=-3&rotate=99999&kiosk=true", "zh",
     settings(rotate=3600, refresh=2, kiosk=True, reload=168.0)),
    ("/wall?refresh=inf&reload=-3&kiosk=on", "zh", settings(kiosk=True, reload=0.0)),
    ("/wall?line=Line+A&token=abc&days=3&customer=C", "zh", settings(line="Line A", links="?line=Line+A&lang=zh")),
    ("/wall?views=&lang=zh&kiosk=0&reload=", "en", settings()),
    ("/wall?line=A&line=B", "zh", settings(line="B", links="?line=B&lang=zh")),
]


@pytest.mark.parametrize("url, default_lang, expected", WALL_URLS, ids=[u for u, _, _ in WALL_URLS])
def test_every_wall_bookmark_reads_as_before(url, default_lang, expected):
    assert wall_settings_of(url, default_lang) == expected


MANAGER_QUERIES = [
    ("", ""),
    ("?days=14", "?days=14"),
    ("?days=abc", ""),
    ("?days=0", "?days=1"),
    ("?days=99999", "?days=3660"),
    ("?days=%2030", "?days=30"),
    ("?from=2026-11-02&to=2026-11-08&days=3", "?from=2026-11-02&to=2026-11-08"),
    ("?from=2026-11-08&to=2026-11-02", ""),
    ("?from=2026-11-02", ""),
    ("?line=Line%20A&channel=online&customer=C1&product=Valves&owner=%E7%8E%8B%E8%8A%B3",
     "?line=Line+A&customer=C1&channel=online&product=Valves&owner=%E7%8E%8B%E8%8A%B3"),
    ("?metric=delay_rate&line=Line+A&lang=zh", "?line=Line+A&metric=delay_rate&lang=zh"),
    ("?stage=produced&view=breached&sort=-time_in_stage_h&q=SO26&page=3",
     "?stage=produced&view=breached&sort=-time_in_stage_h&q=SO26&page=3"),
    ("?f.customer=%E7%94%B3%E6%B1%9F&f.owner=&page=-1&lang=EN", "?f.customer=%E7%94%B3%E6%B1%9F&lang=en"),
    ("?lang=fr&line=%20", ""),
    ("?page=2&page=x", ""),
    ("?views=main&rotate=30&kiosk=1&line=Line+B", "?line=Line+B"),
    ("?sort=&q=%20a%20&metric=%20wip", "?metric=wip&q=a"),
]


@pytest.mark.parametrize("query, normal", MANAGER_QUERIES, ids=[q or "empty" for q, _ in MANAGER_QUERIES])
def test_every_manager_link_reads_as_before(query, normal):
    assert to_search(parse(query)) == normal
    assert to_search(parse(normal)) == normal


NOW = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
REVIEW_QUERIES = [
    ({}, "?week=2026-W46&lang=zh", None),
    ({"week": "2026-w45"}, "?week=2026-W45&lang=zh", None),
    ({"from": "2026-11-02", "to": "2026-11-15", "lang": "en"}, "?from=2026-11-02&to=2026-11-15&lang=en", None),
    ({"from": "2026-11-15", "to": "2026-11-02", "week": "2026-W44"}, "?week=2026-W44&lang=zh", None),
    ({"week": "bad", "lang": "EN"}, "?week=2026-W46&lang=en", "not an ISO week like 2026-W47: 'bad'"),
    ({"lang": "fr"}, "?week=2026-W46&lang=zh", None),
]


@pytest.mark.parametrize("params, query, error", REVIEW_QUERIES)
def test_every_review_link_reads_as_before(params, query, error):
    selection = selection_from(params, NOW, "Asia/Shanghai", "zh")
    assert query_of(selection) == query
    assert (selection["error"] or "").startswith(error or "")

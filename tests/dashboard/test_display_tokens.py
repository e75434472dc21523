"""A wall URL as pasted by an admin -> the screen setting a display token binds, its scope
and the link with the token."""

from __future__ import annotations

import pytest

from dashboard.display_tokens import NoScopeGiven, WallLinkError, filter_scope, token_link, token_scope, wall_setting
from datasource.scope import Scope, parse_scope_terms


@pytest.mark.parametrize("pasted, query", [
    ("https://board.example.com/wall?line=Line+A&views=main,kpi", "line=Line+A&views=main%2Ckpi"),
    ("/wall?line=Line A&rotate=20&token=old&utm=x", "line=Line+A&rotate=20"),
    ("/wall/trend?lang=en&views=main", "views=trend&lang=en"),
    ("/wall/nonsense?channel=online", "channel=online"),
    ("http://10.0.0.5:8050/orderboard/wall/", ""),
    ("?channel=online&kiosk=1", "channel=online&kiosk=1"),
    ("line=Line%20B", "line=Line+B"),
    ("/wall?line=&channel=online", "channel=online"),
])
def test_a_wall_url_becomes_the_walls_own_settings(pasted, query):
    assert wall_setting(pasted) == query


@pytest.mark.parametrize("pasted, message", [
    ("", "give the wall's URL, e.g. /wall?line=Line+A&views=main,kpi"),
    ("/stages/all?line=Line+A", "/stages/all?line=Line+A is not a wall URL: a wall's path is /wall or /wall/VIEW"),
    ("javascript:alert(1)", "javascript:alert(1) is not a wall URL (http or https)"),
    ("/wallpaper", "/wallpaper is not a wall URL: a wall's path is /wall or /wall/VIEW"),
])
def test_anything_else_is_refused_in_words(pasted, message):
    with pytest.raises(WallLinkError) as refused:
        wall_setting(pasted)
    assert str(refused.value) == message


def test_the_scope_is_the_one_given_every_order_or_the_walls_filters():
    assert filter_scope("line=Line+A&channel=online&views=kpi") == parse_scope_terms(
        ["line=Line A", "channel=online"])
    assert filter_scope("views=kpi") is None
    given = parse_scope_terms(["owner=张伟"])
    assert token_scope("line=Line+A", given, False) == given
    assert token_scope("views=kpi", None, True) == Scope.everything()
    assert token_scope("channel=online", None, False) == parse_scope_terms(["channel=online"])
    with pytest.raises(NoScopeGiven):
        token_scope("views=kpi", None, False)
    with pytest.raises(WallLinkError, match="not both"):
        token_scope("views=kpi", given, True)


def test_the_link_carries_the_token_after_the_settings():
    assert token_link("https://board.example.com/", "line=Line+A", "s3cr-et") == \
        "https://board.example.com/wall?line=Line+A&token=s3cr-et"
    assert token_link("http://h:8050", "", "abc") == "http://h:8050/wall?token=abc"

"""A TV's display token: its wall setting from a pasted wall URL, its scope and its link.

A display token binds a TV to one wall setting (``datasource.accounts.Token.wall_query``:
the query of ``/wall``) and one data scope. ``wall_setting`` takes what an admin pastes,
a full URL (``https://board.example.com/wall?line=Line+A&views=kpi``), a path
(``/wall/trend?lang=en``) or a bare query (``line=Line+A&views=kpi``), and keeps the
wall's own parameters (``dashboard.url_state.WALL_SETTINGS``): a view pinned by the path
becomes ``views=<view>``, any old ``token`` and unknown names are dropped.

``token_scope`` decides the token's scope: the scope given, every order when asked for,
else the scope the wall's own filters name (read as the wall reads them); a wall without
filters and no scope given is refused (``NoScopeGiven``), so a token never shows every
order by accident. ``token_link`` is the link with the secret, shown once.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from dashboard.url_state import VIEWS, WALL_SETTINGS, parse_wall_settings, query_pairs
from datasource.scope import Scope

WALL_PATH = re.compile(r"(?:^|/)wall(?:/(?P<view>[^/]+))?/?$")


class WallLinkError(ValueError):
    """Text that is not a wall URL, or a token request that cannot be decided."""


class NoScopeGiven(WallLinkError):
    """The wall names no line or channel and no scope (nor every order) was given."""


def wall_setting(url: str) -> str:
    """The query a token binds its screen to (no leading "?"; "" for the default wall)."""
    given = (url or "").strip()
    if not given:
        raise WallLinkError("give the wall's URL, e.g. /wall?line=Line+A&views=main,kpi")
    if given.startswith("?") or ("/" not in given and "=" in given):
        path, query = "/wall", given.lstrip("?")
    else:
        parts = urlsplit(given)
        path, query = parts.path or "/", parts.query
        if parts.scheme and parts.scheme not in ("http", "https"):
            raise WallLinkError(f"{given} is not a wall URL (http or https)")
    found = WALL_PATH.search(path)
    if found is None:
        raise WallLinkError(f"{given} is not a wall URL: a wall's path is /wall or /wall/VIEW")
    names = {p.name for p in WALL_SETTINGS}
    pairs = [(k, v.strip()) for k, v in query_pairs(query) if k in names and v.strip()]
    view = (found.group("view") or "").strip().lower()
    if view in VIEWS:
        pairs = [("views", view), *[(k, v) for k, v in pairs if k != "views"]]
    return urlencode(list(dict(pairs).items()))


def filter_scope(query: str) -> Scope | None:
    """The scope the wall's filters name (its line and channel), or None without filters."""
    config = parse_wall_settings(query)
    pairs = [(c, v) for c, v in (("production_line", config.line), ("channel", config.channel)) if v]
    return Scope.of(pairs) if pairs else None


def token_scope(query: str, given: Scope | None, everything: bool) -> Scope:
    """The scope of a token for the wall ``query``: ``given``, every order, or the wall's filters."""
    if everything and given is not None:
        raise WallLinkError("give a scope or every order, not both")
    if everything:
        return Scope.everything()
    if given is not None:
        return given
    scope = filter_scope(query)
    if scope is None:
        raise NoScopeGiven("the wall names no line or channel")
    return scope


def token_link(public_url: str, query: str, secret: str) -> str:
    """The wall's link with the token (``public_url`` is where people open the dashboard)."""
    token = urlencode({"token": secret})
    return f"{public_url.rstrip('/')}/wall?{query + '&' if query else ''}{token}"

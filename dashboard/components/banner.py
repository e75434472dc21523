"""The banner: what a page says when its data is not fresh, in plain words.

A page holds an empty, hidden banner (``banner``) that its callback fills: the overview
with the stale text over its last good numbers (``stale_text``), the wall in the browser
(``assets/wall_refresh.js``, from the refresh status). A page that has no data at all
says why instead of its content (``unreachable``). No driver message beyond its first
line, no host, no port: those are in the log.
"""

from __future__ import annotations

from dash import html

from dashboard.words import word


def banner(component_id: str, class_name: str = "ob-banner") -> html.Div:
    """The hidden banner a page's callback fills (``ob-wall-banner`` on a wall)."""
    return html.Div(id=component_id, className=class_name, hidden=True)


def unreachable_text(exc: BaseException, lang: str, chars: int = 160) -> str:
    """"Order store unreachable: <the first line of the error>"."""
    return word("common", "store_unreachable", lang, error=str(exc).splitlines()[0][:chars])


def unreachable(exc: BaseException, lang: str) -> html.Div:
    """A shown banner in place of a page's content that could not be read."""
    return html.Div(unreachable_text(exc, lang), className="ob-banner")


def stale_text(error: str | None, lang: str) -> str:
    """The banner over the last good numbers while the store cannot be read."""
    return word("common", "stale", lang, error=error)

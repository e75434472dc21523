"""The banner: what a page says when its data is not fresh, in plain words.

A page holds an empty, hidden banner (``banner``) that its callback fills: the overview
with ``AppContext.stale_note`` over its last good numbers, the wall in the browser
(``assets/wall_refresh.js``, from the refresh status). A page that has no data at all
shows ``AppContext.store_unreachable`` in place of its content (``shown_banner``). The
words name the time the failures began, never the driver's message (that is in the log).
"""

from __future__ import annotations

from dash import html


def banner(component_id: str, class_name: str = "ob-banner") -> html.Div:
    """The hidden banner a page's callback fills (``ob-wall-banner`` on a wall)."""
    return html.Div(id=component_id, className=class_name, hidden=True)


def shown_banner(text: str) -> html.Div:
    """A banner shown in place of a page's content that could not be read."""
    return html.Div(text, className="ob-banner")

"""Components every page shares."""

from __future__ import annotations

from dash import dcc, html


def not_found(path: str, message: str) -> html.Div:
    """The 404 page: what was asked for was not found, and the way back."""
    return html.Div(className="ob-page ob-notfound", **{"data-path": path}, children=[
        html.H1("404"),
        html.P(message),
        dcc.Link("返回 · back to the overview", href="/"),
    ])

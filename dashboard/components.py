"""Components every page shares."""

from __future__ import annotations

from dash import dcc, html

from dashboard.url_state import ViewState


def not_found(path: str, message: str) -> html.Div:
    """The 404 page: what was asked for was not found, and the way back."""
    return html.Div(className="ob-page ob-notfound", **{"data-path": path}, children=[
        html.H1("404"),
        html.P(message),
        dcc.Link("返回 · back to the overview", href="/"),
    ])


def scope_text(state: ViewState) -> str:
    """The window and filters in words, e.g. "last 7 days · line=A"."""
    if state.start is not None and state.end is not None:
        parts = [f"{state.start:%Y-%m-%d} – {state.end:%Y-%m-%d}"]
    else:
        parts = [f"近{state.days}天 · last {state.days} days"]
    parts += [f"{k}={v}" for k, v in state.filter_key().items()]
    return " · ".join(parts)

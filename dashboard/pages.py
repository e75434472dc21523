"""The page registry: which URL shows which layout, and which callbacks each page needs.

A page is a path pattern (``/stages/<code>``), a layout function and, optionally, a
function that registers its callbacks. Layouts are called as ``layout(ctx, **params)``
with the path variables and the query string (``/wall?line=A&refresh=15`` gives
``line="A", refresh="15"``; path variables win). To add a page, write its
``dashboard/layouts/<page>.py`` and ``dashboard/callbacks/<page>.py`` and add one
``Page(...)`` line to ``default_pages``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from dash import Dash
from dash.development.base_component import Component

from dashboard.context import AppContext
from dashboard.url_state import query_values

Layout = Callable[..., Component]
Register = Callable[[Dash, AppContext], None]


@dataclass(frozen=True)
class Page:
    pattern: str
    layout: Layout
    register: Register | None = None
    title: str = "OrderBoard"
    # The page keeps its query in sync itself (filters, sort, page): a change of the query
    # alone does not re-render it, so its grid and charts are not rebuilt on every click.
    owns_query: bool = False
    regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"<(\w+)>", self.pattern.rstrip("/") or "/")
        # Even parts are literal text, odd parts variable names (one path segment each).
        body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
        object.__setattr__(self, "regex", re.compile(f"^{body}/?$"))

    def match(self, path: str) -> dict[str, str] | None:
        """The path variables of ``path`` (percent-decoded: ``/orders/PO%202024%2F1``
        gives ``number="PO 2024/1"``), or None when the pattern does not match. Matching
        comes first, on the encoded path, so an encoded "/" stays inside its segment."""
        found = self.regex.match(path)
        return {k: unquote(v) for k, v in found.groupdict().items()} if found else None


def default_pages() -> list[Page]:
    """The pages the app serves, most specific first."""
    from dashboard.callbacks import admin as admin_callbacks
    from dashboard.callbacks import admin_audit as admin_audit_callbacks
    from dashboard.callbacks import alerts as alerts_callbacks
    from dashboard.callbacks import order as order_callbacks
    from dashboard.callbacks import overview as overview_callbacks
    from dashboard.callbacks import review as review_callbacks
    from dashboard.callbacks import stage as stage_callbacks
    from dashboard.callbacks import wall as wall_callbacks
    from dashboard.layouts import admin as admin_layout
    from dashboard.layouts import admin_audit as admin_audit_layout
    from dashboard.layouts import alerts as alerts_layout
    from dashboard.layouts import order as order_layout
    from dashboard.layouts import overview as overview_layout
    from dashboard.layouts import review as review_layout
    from dashboard.layouts import stage as stage_layout
    from dashboard.layouts import wall as wall_layout

    return [
        Page("/", overview_layout.layout, overview_callbacks.register, "OrderBoard · overview",
             owns_query=True),
        Page("/admin/audit", admin_audit_layout.layout, admin_audit_callbacks.register,
             "OrderBoard · audit log"),
        Page("/admin", admin_layout.layout, admin_callbacks.register, "OrderBoard · users and access"),
        Page("/alerts", alerts_layout.layout, alerts_callbacks.register, "OrderBoard · alerts"),
        Page("/review", review_layout.layout, review_callbacks.register, "OrderBoard · weekly review"),
        Page("/stages/<code>", stage_layout.layout, stage_callbacks.register, "OrderBoard · stage",
             owns_query=True),
        Page("/orders/<number>", order_layout.layout, order_callbacks.register, "OrderBoard · order"),
        Page("/wall", wall_layout.layout, wall_callbacks.register, "OrderBoard · wall"),
        Page("/wall/<view>", wall_layout.layout, wall_callbacks.register, "OrderBoard · wall"),
    ]


def resolve(pages: Sequence[Page], pathname: str | None, search: str | None = None
            ) -> tuple[Page, dict[str, str]] | None:
    """The first page whose pattern matches, with its parameters (query, then path)."""
    path = pathname or "/"
    query = {k: str(v) for k, v in query_values(search).items()}
    for page in pages:
        params = page.match(path)
        if params is not None:
            return page, {**query, **params}
    return None

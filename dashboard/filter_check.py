"""Filters that match nothing are said, not hidden.

A screen filtered on a value no order has (``/wall?line=LineA`` when the line is
"Line A") would otherwise show zeros, green tiles and "No overdue orders": a healthy
board. ``unknown_filters`` finds such values against the values in the store (cached
per store and data version, the same list the overview's dropdowns offer) and
``filter_warning`` says which value matched nothing and which values exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dash import html

from dashboard.access import current
from dashboard.words import word
from datasource import queries
from metrics.window import Filters

if TYPE_CHECKING:
    from dashboard.context import AppContext

NAMESPACE = "filter-values"
SHOWN_VALUES = 12


@dataclass(frozen=True)
class Unknown:
    """A filter value no order has, and the values that exist for that filter."""

    column: str
    value: str
    existing: tuple[str, ...]


def filter_values(ctx: AppContext) -> dict[str, list[str]]:
    """The distinct values of every filter column among the orders the viewer may see
    (cached per scope)."""
    within = current().scope.restrict({})

    def compute() -> dict[str, list[str]]:
        return {column: queries.distinct_values(ctx.engine, column, filters=within)
                for column in queries.FILTERABLE}

    return ctx.service.get(NAMESPACE, {"store": ctx.store_key}, compute).value


def unknown_filters(ctx: AppContext, filters: Filters) -> list[Unknown]:
    """The active filter values that match no order (a store that cannot be read: none;
    the screen says that in its own banner)."""
    active = filters.active()
    if not active:
        return []
    try:
        values = filter_values(ctx)
    except Exception:  # noqa: BLE001 - the page's own data read reports the store error
        return []
    out = []
    for column, wanted in active.items():
        existing = values.get(column, [])
        for value in (wanted if isinstance(wanted, tuple) else (wanted,)):
            if value not in existing:
                out.append(Unknown(column, value, tuple(existing)))
    return out


def warning_text(unknown: Unknown, lang: str) -> str:
    name = word("filters", unknown.column, lang, default=(unknown.column, unknown.column))
    shown = unknown.existing[:SHOWN_VALUES]
    listed = ", ".join(shown) + (" …" if len(unknown.existing) > SHOWN_VALUES else "")
    tail = (word("filters", "existing", lang, name=name, values=listed) if shown
            else word("filters", "none_existing", lang, name=name))
    return word("filters", "unknown", lang, name=name, value=unknown.value, tail=tail)


def filter_warning(unknowns: list[Unknown], lang: str, class_name: str = "ob-filter-warning") -> list:
    """One line per unknown value (an empty list when every value exists)."""
    return [html.Div(warning_text(u, lang), className=class_name, role="alert") for u in unknowns]


"""Row-level data scopes (DESIGN.md section 5a): which orders one viewer may see.

A scope names values per dimension (production line, customer, channel, owner, product
line): an order is inside when, for every dimension the scope names, its value is one of
the named values (OR within a dimension, AND across). A scope naming nothing holds no
order (deny by default); ``Scope.everything()`` holds all (admins).

A scope is applied to the order filters every read of the store takes
(``datasource.queries.filter_conditions``): ``restrict`` intersects a page's filters with
it, so the one query layer only ever sees the effective filters, and ``fingerprint``
names it in cache keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from datasource.queries import FILTERABLE, FilterMap

# The words of the command line and the URLs for each dimension: ``--scope line="Line A"``.
DIMENSIONS = {
    "line": "production_line", "customer": "customer", "channel": "channel",
    "product": "product_line", "owner": "owner",
}
assert set(DIMENSIONS.values()) == set(FILTERABLE)


class ScopeError(ValueError):
    """A scope term that names no dimension, or no value."""


@dataclass(frozen=True)
class Scope:
    """``values`` maps an orders column to the values allowed in it; ``None`` means all orders."""

    values: tuple[tuple[str, tuple[str, ...]], ...] | None = ()

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Scope:
        """The scope of ``(column, value)`` pairs (a column may repeat: any of its values)."""
        grouped: dict[str, set[str]] = {}
        for column, value in pairs:
            if column not in FILTERABLE:
                raise ScopeError(f"no scope dimension {column!r} (one of {', '.join(DIMENSIONS)})")
            grouped.setdefault(column, set()).add(value)
        return cls(tuple(sorted((c, tuple(sorted(v))) for c, v in grouped.items())))

    @property
    def is_everything(self) -> bool:
        return self.values is None

    @property
    def is_nothing(self) -> bool:
        return self.values is not None and not self.values

    def pairs(self) -> list[tuple[str, str]]:
        return [(c, v) for c, vs in (self.values or ()) for v in vs]

    def restrict(self, filters: FilterMap | None) -> dict[str, str | tuple[str, ...]]:
        """``filters`` narrowed to this scope. An empty tuple means "no value": the rows
        of a scope that holds nothing, or of a filter outside the scope."""
        active: dict[str, str | tuple[str, ...]] = dict(filters or {})
        if self.values is None:
            return active
        if not self.values:
            return {**active, FILTERABLE[0]: ()}
        for column, allowed in self.values:
            asked = active.get(column)
            if asked is None:
                active[column] = allowed if len(allowed) > 1 else allowed[0]
                continue
            wanted = (asked,) if isinstance(asked, str) else tuple(asked)
            kept = tuple(v for v in wanted if v in allowed)
            active[column] = kept[0] if len(kept) == 1 else kept
        return active

    def holds(self, order: Mapping[str, object]) -> bool:
        """Whether the order (a mapping with the orders columns) is inside the scope."""
        if self.values is None:
            return True
        if not self.values:
            return False
        return all(order.get(column) in allowed for column, allowed in self.values)

    def fingerprint(self) -> str:
        """A short stable name of the scope for cache keys ("all", "none" or a digest)."""
        if self.values is None:
            return "all"
        if not self.values:
            return "none"
        text = json.dumps(self.values, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def describe(self) -> str:
        """``line=Line A; owner=Li, Wang`` / ``all orders`` / ``no orders``."""
        if self.values is None:
            return "all orders"
        if not self.values:
            return "no orders"
        names = {column: word for word, column in DIMENSIONS.items()}
        return "; ".join(f"{names[c]}={', '.join(vs)}" for c, vs in self.values)


def parse_scope_terms(terms: Iterable[str]) -> Scope:
    """``['line=Line A', 'owner=Li']`` -> the scope (dimension words of ``DIMENSIONS``;
    quotes around a value are dropped). A clear ``ScopeError`` for anything else."""
    pairs = []
    for term in terms:
        word, sep, value = term.partition("=")
        word, value = word.strip().lower(), value.strip().strip('"').strip("'").strip()
        if not sep or word not in DIMENSIONS:
            raise ScopeError(f"scope {term!r}: write DIMENSION=VALUE with DIMENSION one of "
                             f"{', '.join(DIMENSIONS)} (e.g. line=\"Line A\")")
        if not value:
            raise ScopeError(f"scope {term!r} names no value")
        pairs.append((DIMENSIONS[word], value))
    return Scope.of(pairs)

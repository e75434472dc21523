"""Who is asking, and what they may see and do (DESIGN.md section 5a).

Every request of the web app runs as one ``Principal``, set by the gate of
``dashboard.auth`` before the request is handled: a signed-in user, a wall TV signed in
with a display token, or, when logins are off, the local viewer of a server on this
computer only. Code that reads the store narrows its filters with ``scoped`` (the scope
is intersected with the page's filters, so the one query layer only sees what this
principal may see), checks one order with ``may_see``, and checks an action with
``require``. The cache adds ``cache_scope`` to every key.

The principal lives in a context variable: the gate sets it for each request (and
resets it after), a background computation started by a request runs in a copy of the
request's context (``CachedService``), so it computes for the same principal. Outside
any request (the worker, the command line, a test calling a function directly) it is
``LOCAL``: there is no remote caller to restrict.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace

from werkzeug.exceptions import Forbidden

from datasource.scope import Scope
from metrics.window import Filters

# What each role may do beyond seeing the orders of its scope.
ACTIONS = {
    "viewer": frozenset(),
    "manager": frozenset({"export", "acknowledge"}),
    "admin": frozenset({"export", "acknowledge", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    name: str     # shown on screens and written as the audit log's actor
    role: str     # viewer | manager | admin
    scope: Scope
    kind: str     # user | token | local | anonymous
    user_id: int | None = None
    token_id: int | None = None
    wall_query: str | None = None  # a display token's wall setting
    revoked: bool = False          # a display token that was revoked

    def can(self, action: str) -> bool:
        return self.kind in ("user", "local") and action in ACTIONS.get(self.role, frozenset())

    @property
    def signed_in(self) -> bool:
        return self.kind in ("user", "token", "local")


LOCAL = Principal("local", "admin", Scope.everything(), "local")
ANONYMOUS = Principal("anonymous", "viewer", Scope(), "anonymous")


_CURRENT: ContextVar[Principal] = ContextVar("orderboard_principal", default=LOCAL)


def current() -> Principal:
    """The principal of this request (or of the request that started this computation)."""
    return _CURRENT.get()


def set_current(principal: Principal) -> Token:
    """Make ``principal`` the current one; ``reset`` with the returned token ends it."""
    return _CURRENT.set(principal)


def reset(token: Token) -> None:
    _CURRENT.reset(token)


def scoped(filters: Filters) -> Filters:
    """``filters`` narrowed to the current principal's scope."""
    scope = current().scope
    if scope.is_everything:
        return filters
    return replace(Filters(), **scope.restrict(filters.active()))


def may_see(order: Mapping[str, object]) -> bool:
    """Whether the current principal may see this order (a mapping of orders columns)."""
    return current().scope.holds(order)


def require(action: str) -> Principal:
    """The current principal, or a 403 when it may not do ``action``."""
    principal = current()
    if not principal.can(action):
        raise Forbidden(f"{principal.name} may not {action}")
    return principal


def cache_scope() -> str:
    """The current scope's fingerprint, part of every cache key (``CachedService``)."""
    return current().scope.fingerprint()

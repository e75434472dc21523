"""Changes to users and display tokens as the admin surfaces make them (the command line's
``orderboard user``/``token`` and the ``/admin`` page): each is one change of
``datasource.accounts`` followed by its audit entry naming who asked (``cli:<os user>``
on the command line, the admin's name on the page), so both surfaces change and record
alike. Who may ask is decided by the surface.

Two refusals beyond ``accounts``' own checks keep a store usable: the last enabled admin
cannot be disabled or given another role (nobody could manage users afterwards), and an
admin has no data scope (an admin sees every order, so a scope given for one would be
silently ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from datasource import accounts
from datasource.accounts import Account, AccountError, Token
from datasource.audit import record_audit
from datasource.queries import distinct_values, orders
from datasource.scope import DIMENSIONS, Scope

SHOWN_VALUES = 12  # existing values named beside a scope value that matches no order


def user_target(name: str) -> str:
    return f"user:{name.strip()}"


def token_target(tid: int) -> str:
    return f"token:{tid}"


def _no_admin_scope(role: str, scope: Scope) -> None:
    if role == "admin" and not scope.is_nothing and not scope.is_everything:
        raise AccountError("an admin sees every order: a scope applies to viewers and managers only")


def _existing(engine: Engine, name: str) -> Account:
    found = accounts.user(engine, name)
    if found is None:
        raise AccountError(f"no user {name.strip()!r}")
    return found


def _keep_an_admin(engine: Engine, name: str) -> None:
    """Refuse when ``name`` is the only enabled admin."""
    others = [u for u in accounts.list_users(engine)
              if u.role == "admin" and not u.disabled and u.name != name.strip()]
    if not others:
        raise AccountError(f"{name.strip()!r} is the last enabled admin: make another user admin first")


def add_user(engine: Engine, actor: str, name: str, role: str, password: str, scope: Scope,
             now: datetime) -> Account:
    _no_admin_scope(role, scope)
    account = accounts.add_user(engine, name, role, password, scope, now)
    record_audit(engine, actor, "user_add", user_target(account.name),
                 f"role {account.role}; scope {account.scope.describe()}", at=now)
    return account


def set_password(engine: Engine, actor: str, name: str, password: str, now: datetime) -> None:
    accounts.set_password(engine, name, password)
    record_audit(engine, actor, "user_passwd", user_target(name), "new password; sessions ended", at=now)


def set_role(engine: Engine, actor: str, name: str, role: str, now: datetime) -> Account:
    before = _existing(engine, name)
    if before.role == role:
        return before
    if before.role == "admin" and not before.disabled:
        _keep_an_admin(engine, name)
    accounts.set_role(engine, name, role)
    after = _existing(engine, name)
    record_audit(engine, actor, "user_change", user_target(name),
                 f"role {before.role} -> {role}; scope {after.scope.describe()}", at=now)
    return after


def set_scope(engine: Engine, actor: str, name: str, scope: Scope, now: datetime) -> Account:
    before = _existing(engine, name)
    if before.role == "admin":
        raise AccountError(f"{before.name!r} is an admin and sees every order: change the role first")
    accounts.set_scope(engine, name, scope)
    record_audit(engine, actor, "user_change", user_target(name),
                 f"scope {before.scope.describe()} -> {scope.describe()}", at=now)
    return _existing(engine, name)


def set_disabled(engine: Engine, actor: str, name: str, disabled: bool, now: datetime) -> Account:
    before = _existing(engine, name)
    if disabled and before.role == "admin" and not before.disabled:
        _keep_an_admin(engine, name)
    accounts.set_disabled(engine, name, disabled, now)
    if before.disabled != disabled:
        record_audit(engine, actor, "user_disable" if disabled else "user_enable", user_target(name),
                     "sessions ended" if disabled else None, at=now)
    return _existing(engine, name)


def create_token(engine: Engine, actor: str, wall_query: str, scope: Scope, now: datetime,
                 label: str = "") -> tuple[Token, str]:
    """A display token and its secret (to be shown once)."""
    token, secret = accounts.create_token(engine, wall_query, scope, actor, now, label=label.strip())
    record_audit(engine, actor, "token_create", token_target(token.id),
                 f"wall ?{wall_query}; scope {scope.describe()}" + (f"; {token.label}" if token.label else ""),
                 at=now)
    return token, secret


def revoke_token(engine: Engine, actor: str, tid: int, now: datetime) -> Token:
    before = accounts.token_by_id(engine, tid)
    token = accounts.revoke_token(engine, tid, now)
    if before is not None and before.revoked_at is None:
        record_audit(engine, actor, "token_revoke", token_target(tid), token.label or None, at=now)
    return token


@dataclass(frozen=True)
class UnmatchedValue:
    """A scope value no order has (a typo, or a line not in the store yet), and values that exist."""

    word: str  # the dimension's word: line, customer, channel, product, owner
    value: str
    existing: tuple[str, ...]

    def describe(self) -> str:
        known = ", ".join(self.existing) if self.existing else "none"
        return f"{self.word}={self.value} matches no order yet ({self.word} values: {known})"


def unmatched_scope_values(engine: Engine, scope: Scope) -> list[UnmatchedValue]:
    """The values of ``scope`` that no order in the store has."""
    words = {column: word for word, column in DIMENSIONS.items()}
    out = []
    with engine.connect() as conn:
        for column, value in scope.pairs():
            found = conn.execute(select(orders.c.id).where(orders.c[column] == value).limit(1)).first()
            if found is None:
                existing = tuple(distinct_values(engine, column, limit=SHOWN_VALUES))
                out.append(UnmatchedValue(words[column], value, existing))
    return out

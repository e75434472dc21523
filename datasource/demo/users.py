"""The demo's users (``orderboard demo --with-users``): an admin and two scoped users,
so the demo shows what each role and scope sees.

- ``demo``: admin, every order;
- ``line-a``: manager of production line "Line A" (exports and acknowledges its orders);
- ``sales-zhang``: viewer of the orders whose owner is 张伟, one of the demo's salespeople.

Each gets a random password, returned once to be shown; one that exists already is left
as it is (its password is not known, ``orderboard user passwd`` resets it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from datasource import account_changes, accounts
from datasource.demo.world import CUSTOMERS, LINE_A
from datasource.scope import Scope

SALESPERSON = CUSTOMERS[0].owner  # 张伟


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    scope: Scope
    password: str | None  # None: the user existed already


DEMO_USERS: tuple[tuple[str, str, Scope], ...] = (
    ("demo", "admin", Scope.everything()),
    ("line-a", "manager", Scope.of([("production_line", LINE_A)])),
    ("sales-zhang", "viewer", Scope.of([("owner", SALESPERSON)])),
)


def ensure_demo_users(engine: Engine, actor: str, now: datetime) -> list[DemoUser]:
    """Create the demo users the store lacks (audited as ``actor``); every demo user,
    with the passwords of those created now."""
    out = []
    for name, role, scope in DEMO_USERS:
        existing = accounts.user(engine, name)
        if existing is not None:
            out.append(DemoUser(name, existing.role, existing.scope, None))
            continue
        password = secrets.token_urlsafe(12)
        stored = Scope() if scope.is_everything else scope
        account = account_changes.add_user(engine, actor, name, role, password, stored, now)
        out.append(DemoUser(name, account.role, account.scope, password))
    return out

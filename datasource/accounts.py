"""Users, their roles and data scopes, wall display tokens and login throttling, in the store.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set). A display token's secret is shown once when created; only its
SHA-256 is stored, so a copy of the store does not sign anyone in.

Failed logins are counted per account and per address in ``login_throttle``: after
``LOCK_AFTER`` failures in a row the key is locked, for a time that doubles with every
further failure (``lock_seconds``); a successful login clears the account's count.
Every function takes the engine and plain values; who may call what is decided by the
web app and the command line.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from datasource.schema import ROLES, DisplayToken, LoginThrottle, User, UserScope
from datasource.scope import Scope

HASHER = PasswordHasher()
MIN_PASSWORD = 10
LOCK_AFTER = 10          # failures in a row of one account
LOCK_AFTER_ADDRESS = 30  # failures in a row from one address (several accounts behind one NAT)
FIRST_LOCK_S = 60
MAX_LOCK_S = 3600

users_t = cast(Table, User.__table__)
scopes_t = cast(Table, UserScope.__table__)
tokens_t = cast(Table, DisplayToken.__table__)
throttle_t = cast(Table, LoginThrottle.__table__)


class AccountError(ValueError):
    """A request about users or tokens that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    scope: Scope
    session_epoch: int
    disabled: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class Token:
    id: int
    label: str
    wall_query: str
    scope: Scope
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"no role {role!r} (one of {', '.join(ROLES)})")
    return role


def add_user(engine: Engine, name: str, role: str, password: str, scope: Scope, now: datetime) -> Account:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a user name has 1 to 64 characters")
    _check_role(role)
    check_password(password)
    with engine.begin() as conn:
        if conn.execute(select(users_t.c.id).where(users_t.c.name == name)).first() is not None:
            raise AccountError(f"user {name!r} exists already")
        uid = conn.execute(insert(users_t).values(
            name=name, role=role, password_hash=HASHER.hash(password), session_epoch=0,
            created_at=now)).inserted_primary_key
        assert uid is not None
        _write_scope(conn, uid[0], scope)
    found = user(engine, name)
    assert found is not None
    return found


def _write_scope(conn, uid: int, scope: Scope) -> None:
    conn.execute(delete(scopes_t).where(scopes_t.c.user_id == uid))
    rows = [{"user_id": uid, "dimension": c, "value": v} for c, v in scope.pairs()]
    if rows:
        conn.execute(insert(scopes_t), rows)


def _account(conn, row) -> Account:
    pairs = conn.execute(select(scopes_t.c.dimension, scopes_t.c.value)
                         .where(scopes_t.c.user_id == row.id)).all()
    scope = Scope.everything() if row.role == "admin" else Scope.of((d, v) for d, v in pairs)
    return Account(row.id, row.name, row.role, scope, row.session_epoch,
                   row.disabled_at is not None, row.last_login_at)


def user(engine: Engine, name: str) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(users_t).where(users_t.c.name == name.strip())).first()
        return _account(conn, row) if row is not None else None


def user_by_id(engine: Engine, uid: int) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(users_t).where(users_t.c.id == uid)).first()
        return _account(conn, row) if row is not None else None


def list_users(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return [_account(conn, row) for row in conn.execute(select(users_t).order_by(users_t.c.name))]


def count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(users_t.c.id).where(users_t.c.disabled_at.is_(None))).all())


def _existing(conn, name: str):
    row = conn.execute(select(users_t).where(users_t.c.name == name.strip())).first()
    if row is None:
        raise AccountError(f"no user {name!r}")
    return row


def set_password(engine: Engine, name: str, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    check_password(password)
    with engine.begin() as conn:
        row = _existing(conn, name)
        conn.execute(update(users_t).where(users_t.c.id == row.id).values(
            password_hash=HASHER.hash(password), session_epoch=row.session_epoch + 1))
        conn.execute(delete(throttle_t).where(throttle_t.c.key == _user_key(row.name)))


def set_role(engine: Engine, name: str, role: str) -> None:
    _check_role(role)
    with engine.begin() as conn:
        row = _existing(conn, name)
        conn.execute(update(users_t).where(users_t.c.id == row.id).values(role=role))


def set_scope(engine: Engine, name: str, scope: Scope) -> None:
    with engine.begin() as conn:
        _write_scope(conn, _existing(conn, name).id, scope)


def set_disabled(engine: Engine, name: str, disabled: bool, now: datetime) -> None:
    """Disable (every session ends, no login) or enable a user."""
    with engine.begin() as conn:
        row = _existing(conn, name)
        conn.execute(update(users_t).where(users_t.c.id == row.id).values(
            disabled_at=now if disabled else None,
            session_epoch=row.session_epoch + (1 if disabled else 0)))


# --- Logging in -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    account: Account | None   # set when the login succeeded
    locked_until: datetime | None = None  # set when the account or address is locked
    locked_now: bool = False  # this failure locked it


def _user_key(name: str) -> str:
    return f"user:{name.strip().lower()[:150]}"


def _addr_key(address: str) -> str:
    return f"addr:{address[:150]}"


def lock_seconds(failures: int, after: int) -> int:
    """How long a key stays locked after ``failures`` in a row (0 below ``after``)."""
    if failures < after:
        return 0
    return min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (failures - after))


def login(engine: Engine, name: str, password: str, address: str, now: datetime) -> LoginResult:
    """Check a login. A locked account or address is refused without checking the
    password (so guessing goes no faster while locked); a wrong password or an unknown or
    disabled user counts one failure for the account and the address."""
    keys = (_user_key(name), _addr_key(address))
    with engine.begin() as conn:
        rows = {r.key: r for r in conn.execute(select(throttle_t).where(throttle_t.c.key.in_(keys)))}
        locked = [r.locked_until for r in rows.values() if r.locked_until is not None and r.locked_until > now]
        if locked:
            return LoginResult(None, locked_until=max(locked))
        row = conn.execute(select(users_t).where(users_t.c.name == name.strip())).first()
        # An unknown name costs one hash check too, so the time of the answer does not
        # tell which names exist.
        checked = _verify(row.password_hash if row is not None else _dummy_hash(), password)
        ok = row is not None and row.disabled_at is None and checked
        if ok:
            assert row is not None
            conn.execute(delete(throttle_t).where(throttle_t.c.key == keys[0]))
            conn.execute(update(throttle_t).where(throttle_t.c.key == keys[1]).values(failures=0))
            conn.execute(update(users_t).where(users_t.c.id == row.id).values(last_login_at=now))
            if HASHER.check_needs_rehash(row.password_hash):
                conn.execute(update(users_t).where(users_t.c.id == row.id)
                             .values(password_hash=HASHER.hash(password)))
            return LoginResult(_account(conn, row))
        until = None
        for key, after in zip(keys, (LOCK_AFTER, LOCK_AFTER_ADDRESS)):
            failures = (rows[key].failures if key in rows else 0) + 1
            seconds = lock_seconds(failures, after)
            lock = now + timedelta(seconds=seconds) if seconds else None
            values = {"failures": failures, "locked_until": lock, "last_failure_at": now}
            if key in rows:
                conn.execute(update(throttle_t).where(throttle_t.c.key == key).values(**values))
            else:
                conn.execute(insert(throttle_t).values(key=key, **values))
            if lock is not None:
                until = max(until, lock) if until else lock
        return LoginResult(None, locked_until=until, locked_now=until is not None)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(HASHER.hash(secrets.token_hex(16)))
    return _DUMMY[0]


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# --- Wall display tokens --------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(engine: Engine, wall_query: str, scope: Scope, created_by: str, now: datetime,
                 label: str = "") -> tuple[Token, str]:
    """A new display token for the wall of ``wall_query`` (``line=Line+A&views=...``);
    returns it and its secret (shown once, never stored)."""
    secret = secrets.token_urlsafe(24)
    stored_scope = None if scope.is_everything else json.dumps(scope.pairs(), ensure_ascii=False)
    with engine.begin() as conn:
        tid = conn.execute(insert(tokens_t).values(
            secret_hash=_hash_secret(secret), label=label[:128], wall_query=wall_query,
            scope=stored_scope, created_by=created_by, created_at=now)).inserted_primary_key
    assert tid is not None
    token = token_by_id(engine, tid[0])
    assert token is not None
    return token, secret


def _token(row) -> Token:
    scope = Scope.everything() if row.scope is None else Scope.of(tuple(p) for p in json.loads(row.scope))
    return Token(row.id, row.label, row.wall_query, scope, row.created_by, row.created_at,
                 row.revoked_at, row.last_used_at)


def token_by_id(engine: Engine, tid: int) -> Token | None:
    with engine.connect() as conn:
        row = conn.execute(select(tokens_t).where(tokens_t.c.id == tid)).first()
    return _token(row) if row is not None else None


def token_by_secret(engine: Engine, secret: str) -> Token | None:
    """The token of a secret (revoked ones too: the wall says it was revoked)."""
    with engine.connect() as conn:
        row = conn.execute(select(tokens_t).where(tokens_t.c.secret_hash == _hash_secret(secret))).first()
    return _token(row) if row is not None else None


def touch_token(engine: Engine, tid: int, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(tokens_t).where(tokens_t.c.id == tid).values(last_used_at=now))


def list_tokens(engine: Engine) -> list[Token]:
    with engine.connect() as conn:
        return [_token(r) for r in conn.execute(select(tokens_t).order_by(tokens_t.c.id))]


def revoke_token(engine: Engine, tid: int, now: datetime) -> Token:
    with engine.begin() as conn:
        row = conn.execute(select(tokens_t).where(tokens_t.c.id == tid)).first()
        if row is None:
            raise AccountError(f"no display token {tid}")
        if row.revoked_at is None:
            conn.execute(update(tokens_t).where(tokens_t.c.id == tid).values(revoked_at=now))
    token = token_by_id(engine, tid)
    assert token is not None
    return token

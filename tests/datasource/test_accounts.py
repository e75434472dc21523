"""Users, Argon2id passwords, lockout with backoff, display tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles
from sqlalchemy import select

from datasource import accounts
from datasource.accounts import LOCK_AFTER, AccountError
from datasource.schema import DisplayToken, User
from datasource.scope import Scope, parse_scope_terms

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"


def stored_hash(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(User.__table__.c.password_hash)).scalar_one()


def test_passwords_are_stored_as_argon2id_and_checked(store, product_password_hasher):
    accounts.add_user(store.engine, "li", "viewer", PASSWORD, parse_scope_terms(["owner=Li"]), NOW)
    stored = stored_hash(store.engine)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    # argon2-cffi's defaults: RFC 9106's second recommended parameter set
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    ok = accounts.login(store.engine, "li", PASSWORD, "10.0.0.1", NOW)
    assert ok.account is not None and ok.account.scope == parse_scope_terms(["owner=Li"])
    assert accounts.login(store.engine, "li", "wrong password!", "10.0.0.1", NOW).account is None


def test_a_hash_with_other_parameters_is_made_again_at_the_next_login(store, monkeypatch):
    """A password stored with weaker parameters (the tests' quick ones here; an older
    release's in real life) still signs in, and is then stored with the current ones."""
    accounts.add_user(store.engine, "li", "viewer", PASSWORD, Scope(), NOW)
    old = stored_hash(store.engine)
    current = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(accounts, "HASHER", current)
    assert accounts.login(store.engine, "li", PASSWORD, "10.0.0.1", NOW).account is not None
    new = stored_hash(store.engine)
    assert new != old and extract_parameters(new) == extract_parameters(current.hash("x"))
    assert accounts.login(store.engine, "li", PASSWORD, "10.0.0.1", NOW).account is not None
    assert stored_hash(store.engine) == new  # current parameters: kept as it is


def test_ten_failures_lock_the_account_with_growing_backoff(store):
    accounts.add_user(store.engine, "wang", "manager", PASSWORD, Scope(), NOW)
    results = [accounts.login(store.engine, "wang", f"guess-{i}-guess", f"10.0.0.{i}", NOW)
               for i in range(LOCK_AFTER)]
    assert [r.locked_now for r in results] == [False] * (LOCK_AFTER - 1) + [True]
    assert results[-1].locked_until == NOW + timedelta(seconds=accounts.FIRST_LOCK_S)
    # locked: even the right password is refused until the lock ends
    assert accounts.login(store.engine, "wang", PASSWORD, "10.0.0.99", NOW).account is None
    later = NOW + timedelta(seconds=accounts.FIRST_LOCK_S + 1)
    again = accounts.login(store.engine, "wang", "one more guess", "10.0.0.99", later)
    assert again.locked_until == later + timedelta(seconds=2 * accounts.FIRST_LOCK_S)
    after = later + timedelta(seconds=2 * accounts.FIRST_LOCK_S + 1)
    assert accounts.login(store.engine, "wang", PASSWORD, "10.0.0.99", after).account is not None


def test_an_address_is_locked_after_many_failures_over_accounts(store):
    for i in range(accounts.LOCK_AFTER_ADDRESS):
        accounts.login(store.engine, f"nobody{i}", "whatever-guess", "192.0.2.7", NOW)
    accounts.add_user(store.engine, "zhao", "viewer", PASSWORD, Scope(), NOW)
    assert accounts.login(store.engine, "zhao", PASSWORD, "192.0.2.7", NOW).locked_until is not None
    assert accounts.login(store.engine, "zhao", PASSWORD, "192.0.2.8", NOW).account is not None


def test_disabling_and_new_passwords_end_sessions(store):
    accounts.add_user(store.engine, "li", "viewer", PASSWORD, Scope(), NOW)
    epoch = accounts.user(store.engine, "li").session_epoch
    accounts.set_password(store.engine, "li", "another long password")
    assert accounts.user(store.engine, "li").session_epoch == epoch + 1
    accounts.set_disabled(store.engine, "li", True, NOW)
    assert accounts.login(store.engine, "li", "another long password", "10.0.0.1", NOW).account is None
    assert accounts.user(store.engine, "li").disabled


def test_bad_users_are_refused(store):
    accounts.add_user(store.engine, "li", "viewer", PASSWORD, Scope(), NOW)
    with pytest.raises(AccountError, match="exists"):
        accounts.add_user(store.engine, "li", "viewer", PASSWORD, Scope(), NOW)
    with pytest.raises(AccountError, match="role"):
        accounts.add_user(store.engine, "x", "boss", PASSWORD, Scope(), NOW)
    with pytest.raises(AccountError, match="characters"):
        accounts.add_user(store.engine, "y", "viewer", "short", Scope(), NOW)


def test_admins_see_everything_and_others_only_their_scope(store):
    admin = accounts.add_user(store.engine, "boss", "admin", PASSWORD, Scope(), NOW)
    viewer = accounts.add_user(store.engine, "v", "viewer", PASSWORD, Scope(), NOW)
    assert admin.scope.is_everything and viewer.scope.is_nothing


def test_display_tokens_store_only_a_hash_and_can_be_revoked(store):
    scope = parse_scope_terms(["line=Line A"])
    token, secret = accounts.create_token(store.engine, "line=Line+A&views=kpi", scope, "boss", NOW)
    with store.engine.connect() as conn:
        stored = conn.execute(select(DisplayToken.__table__.c.secret_hash)).scalar_one()
    assert secret not in stored and len(secret) >= 32
    found = accounts.token_by_secret(store.engine, secret)
    assert found is not None and found.scope == scope and found.wall_query == "line=Line+A&views=kpi"
    assert accounts.token_by_secret(store.engine, secret + "x") is None
    assert accounts.revoke_token(store.engine, token.id, NOW).revoked_at is not None

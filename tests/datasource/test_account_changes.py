"""Changes to users and tokens as both admin surfaces make them: each audited with who
asked, and the refusals that keep a store manageable (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from datasource import account_changes, accounts
from datasource.accounts import AccountError
from datasource.schema import AuditEntry
from datasource.scope import Scope, parse_scope_terms

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"


def entries(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail).order_by(AuditEntry.id))]


def test_each_change_is_audited_with_its_actor_and_what_changed(store):
    e = store.engine
    account_changes.add_user(e, "ops", "root", "admin", PASSWORD, Scope(), NOW)
    account_changes.add_user(e, "ops", "li", "viewer", PASSWORD, parse_scope_terms(["owner=张伟"]), NOW)
    account_changes.set_role(e, "root", "li", "manager", NOW)
    account_changes.set_role(e, "root", "li", "manager", NOW)  # no change: no entry
    account_changes.set_scope(e, "root", "li", parse_scope_terms(["line=Line A"]), NOW)
    account_changes.set_disabled(e, "root", "li", True, NOW)
    account_changes.set_disabled(e, "root", "li", True, NOW)  # already: no entry
    token, _secret = account_changes.create_token(e, "root", "line=Line+A", parse_scope_terms(["line=Line A"]),
                                                  NOW, label=" TV 1 ")
    account_changes.revoke_token(e, "root", token.id, NOW)
    account_changes.revoke_token(e, "root", token.id, NOW)  # already: no entry
    assert entries(e) == [
        ("ops", "user_add", "user:root", "role admin; scope all orders"),
        ("ops", "user_add", "user:li", "role viewer; scope owner=张伟"),
        ("root", "user_change", "user:li", "role viewer -> manager; scope owner=张伟"),
        ("root", "user_change", "user:li", "scope owner=张伟 -> line=Line A"),
        ("root", "user_disable", "user:li", "sessions ended"),
        ("root", "token_create", "token:1", "wall ?line=Line+A; scope line=Line A; TV 1"),
        ("root", "token_revoke", "token:1", "TV 1"),
    ]


def test_the_last_enabled_admin_stays_and_admins_take_no_scope(store):
    e = store.engine
    account_changes.add_user(e, "ops", "root", "admin", PASSWORD, Scope(), NOW)
    for change in (lambda: account_changes.set_role(e, "x", "root", "viewer", NOW),
                   lambda: account_changes.set_disabled(e, "x", "root", True, NOW)):
        with pytest.raises(AccountError, match="last enabled admin"):
            change()
    with pytest.raises(AccountError, match="an admin sees every order"):
        account_changes.add_user(e, "ops", "root2", "admin", PASSWORD, parse_scope_terms(["line=A"]), NOW)
    account_changes.add_user(e, "ops", "second", "admin", PASSWORD, Scope(), NOW)
    account_changes.set_disabled(e, "x", "second", True, NOW)  # a disabled admin does not count
    with pytest.raises(AccountError, match="last enabled admin"):
        account_changes.set_role(e, "x", "root", "viewer", NOW)
    account_changes.set_disabled(e, "x", "second", False, NOW)
    assert account_changes.set_role(e, "x", "root", "viewer", NOW).role == "viewer"
    assert accounts.user(e, "root").scope.is_nothing

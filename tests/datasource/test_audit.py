"""The audit log read back: newest first, times as UTC instants, filters and pages that
agree with a plain SQL count (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import text

from datasource.audit import audit_entries, count_audit_entries, record_audit

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)


def _fill(engine) -> None:
    for i in range(30):
        record_audit(engine, ("alice", "bob", "cli:root")[i % 3], ("login", "export", "user_add")[i % 3 if i % 5 else 0],
                     f"/t/{i}", f"entry {i}", at=T0 + timedelta(hours=7 * i))


def test_entries_are_newest_first_with_utc_times(store):
    _fill(store.engine)
    frame = audit_entries(store.engine)
    assert isinstance(frame["at"].dtype, pd.DatetimeTZDtype) and str(frame["at"].dt.tz) == "UTC"
    assert frame["at"].iloc[0] == pd.Timestamp(T0 + timedelta(hours=7 * 29))
    assert frame["at"].is_monotonic_decreasing and len(frame) == 30


def test_filters_and_pages_agree_with_plain_sql(store):
    _fill(store.engine)
    since, until = T0 + timedelta(days=2), T0 + timedelta(days=6)
    with store.engine.connect() as conn:
        expected = conn.execute(text(
            "select count(*) from audit_log where at >= :s and at < :u and actor = 'alice' and action = 'login'"),
            {"s": since.replace(tzinfo=None), "u": until.replace(tzinfo=None)}).scalar_one()
    assert expected > 0
    assert count_audit_entries(store.engine, since, until, "alice", "login") == expected
    frame = audit_entries(store.engine, since, until, "alice", "login")
    assert len(frame) == expected and set(frame["actor"]) == {"alice"} and set(frame["action"]) == {"login"}
    assert frame["at"].min() >= pd.Timestamp(since) and frame["at"].max() < pd.Timestamp(until)
    # pages: two pages of 7 are the first 14 of the whole list, in order
    whole = audit_entries(store.engine)["id"].tolist()
    pages = audit_entries(store.engine, limit=7)["id"].tolist() + audit_entries(store.engine, limit=7, offset=7)["id"].tolist()
    assert pages == whole[:14]

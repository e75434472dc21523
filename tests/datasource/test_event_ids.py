"""Derived event ids: natural keys (order, stage, type, instant), hashed when the event
has a note or the key would not fit; a store whose events have the hashed ids of
before still recognises every one of them when the same events come again."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from datasource import ingest
from datasource.importers import bulkload
from datasource.importers.run import import_file, prepare_import
from datasource.ingest import EventRecord, hashed_uid
from datasource.schema import OrderEvent

AT = datetime(2026, 11, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eventlog"


def sha1_id(text: str) -> str:
    return "h:" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def test_an_event_without_a_note_is_named_by_what_happened():
    e = EventRecord("SO-1", "placed", "enter", AT.astimezone(timezone.utc))
    assert e.stable_uid() == "k:SO-1|placed|enter|2026-11-02T01:00:00+00:00"
    assert e.uid_forms() == [e.stable_uid(), sha1_id("SO-1|placed|enter|2026-11-02T01:00:00+00:00|")]


def test_an_event_with_a_note_or_a_long_key_keeps_the_hashed_id():
    noted = EventRecord("SO-1", None, "note", AT.astimezone(timezone.utc), note="called")
    assert noted.stable_uid() == sha1_id("SO-1||note|2026-11-02T01:00:00+00:00|called")
    assert noted.uid_forms() == [noted.stable_uid()]
    long = EventRecord("S" * 64, "x" * 32, "complete", AT.astimezone(timezone.utc))
    assert long.stable_uid() == sha1_id(f"{'S' * 64}|{'x' * 32}|complete|2026-11-02T01:00:00+00:00|")
    assert len(EventRecord("S" * 64, "x" * 30, "enter", AT).stable_uid()) <= 128


def test_an_id_given_by_the_sender_is_kept():
    e = EventRecord("SO-1", "placed", "enter", AT, uid="scan-7")
    assert (e.stable_uid(), e.uid_forms()) == ("scan-7", ["scan-7"])


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "batches"])
def test_events_stored_with_hashed_ids_are_recognised(store, tmp_path, monkeypatch, whole):
    """A store written when every derived id was hashed: importing the same file
    again adds nothing, whether its events come back as one load or in batches."""
    plan = prepare_import(EXAMPLE / "events.csv", EXAMPLE / "mapping.toml", store.pipeline)
    with monkeypatch.context() as before:
        before.setattr(ingest, "derived_uid", hashed_uid)
        before.setattr(bulkload, "derived_uid", hashed_uid)
        first = import_file(store.engine, plan, tmp_path / "r.csv", whole=whole)
    with store.engine.connect() as conn:
        stored = sorted(conn.execute(select(OrderEvent.event_uid)).scalars())
    assert first.events_added == len(stored) > 0
    assert all(uid.startswith("h:") for uid in stored)
    again = import_file(store.engine, prepare_import(EXAMPLE / "events.csv", EXAMPLE / "mapping.toml",
                                                     store.pipeline), tmp_path / "r.csv")
    assert (again.imported, again.events_added) == (0, 0)
    assert again.unchanged == first.imported + first.unchanged
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(OrderEvent.event_uid)).scalars()) == stored

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.schema import OrderEvent, StageVisit


def test_ingest_is_idempotent_on_both_backends(store):
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    events = [
        EventRecord("A1", "placed", "enter", t0),
        EventRecord("A1", "reviewed", "enter", t0 + timedelta(hours=2)),
    ]
    first = ingest(store.engine, store.pipeline, [OrderRecord("A1")], events)
    again = ingest(store.engine, store.pipeline, [OrderRecord("A1")], events)
    assert (first.events_added, again.events_added, again.events_duplicate) == (2, 0, 2)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderEvent)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(StageVisit)).scalar() == 2

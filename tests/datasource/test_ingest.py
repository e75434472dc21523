"""The write path: idempotence, stored values kept, visits kept current, one transaction."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from datasource.ingest import EventRecord, ExceptionRecord, FindingRecord, OrderRecord, ingest
from datasource.schema import (
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderEvent,
    OrderException,
    StageVisit,
)
from datasource.store import data_version

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def order_row(engine, number: str):
    with engine.connect() as conn:
        return conn.execute(
            select(Order.__table__).where(Order.order_number == number)
        ).one()


def visits_of(engine, number: str) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(StageVisit.stage_code, StageVisit.visit_no, StageVisit.entered_at,
                   StageVisit.left_at)
            .join(Order, Order.id == StageVisit.order_id)
            .where(Order.order_number == number)
            .order_by(StageVisit.entered_at, StageVisit.id)
        ).all()
    return [tuple(r) for r in rows]


def test_events_arriving_one_by_one_keep_visits_and_status_current(store):
    e, p = store.engine, store.pipeline
    ingest(e, p, [OrderRecord("SO-1", customer="ACME", promised_at=at(48))],
           [EventRecord("SO-1", "placed", "enter", at(0))])
    assert order_row(e, "SO-1").current_stage == "placed"
    ingest(e, p, events=[EventRecord("SO-1", "reviewed", "enter", at(2))])
    ingest(e, p, events=[EventRecord("SO-1", "received", "enter", at(30))])
    row = order_row(e, "SO-1")
    assert (row.status, row.placed_at, row.completed_at, row.current_stage) == (
        "completed", at(0), at(30), "received")
    assert visits_of(e, "SO-1") == [
        ("placed", 1, at(0), at(2)),
        ("reviewed", 1, at(2), at(30)),
        ("received", 1, at(30), at(30)),  # entering the terminal stage closes its visit
    ]


def test_late_event_inserted_between_recomputes_the_visits(store):
    e, p = store.engine, store.pipeline
    ingest(e, p, events=[EventRecord("SO-2", "placed", "enter", at(0)),
                         EventRecord("SO-2", "paid", "enter", at(10))])
    ingest(e, p, events=[EventRecord("SO-2", "reviewed", "enter", at(4))])
    assert visits_of(e, "SO-2") == [
        ("placed", 1, at(0), at(4)),
        ("reviewed", 1, at(4), at(10)),
        ("paid", 1, at(10), None),
    ]


def test_resending_everything_changes_nothing_not_even_the_data_version(store):
    e, p = store.engine, store.pipeline
    batch = {
        "orders": [OrderRecord("SO-3", owner="Wang Fang")],
        "events": [EventRecord("SO-3", "placed", "enter", at(0), uid="scanner-1:0001")],
        "exceptions": [ExceptionRecord("X-1", "SO-3", "placed", "shortage", at(1))],
        "findings": [FindingRecord("SO-3", "note", "checked")],
    }
    first = ingest(e, p, **batch)
    version = data_version(e)
    second = ingest(e, p, **batch)
    assert first.changed and not second.changed
    assert second.events_duplicate == 1
    assert data_version(e) == version
    assert [count(e, m) for m in (Order, OrderEvent, OrderException, DataQualityFinding)] == [1, 1, 1, 1]
    assert count(e, AuditEntry) == 1


def test_a_different_value_never_overwrites_a_stored_one(store):
    e, p = store.engine, store.pipeline
    ingest(e, p, [OrderRecord("SO-4", customer="ACME")])
    result = ingest(e, p, [OrderRecord("SO-4", customer="Globex", channel="online")])
    row = order_row(e, "SO-4")
    assert (row.customer, row.channel) == ("ACME", "online")  # kept, and a gap filled
    assert result.warnings == [
        "order SO-4: customer is 'ACME' in the store, source says 'Globex'; the stored value is kept"
    ]


def test_exceptions_move_forward_only(store):
    e, p = store.engine, store.pipeline
    ingest(e, p, exceptions=[ExceptionRecord("X-2", "SO-5", "produced", "quality", at(0))])
    ingest(e, p, exceptions=[ExceptionRecord("X-2", "SO-5", "produced", "quality", at(0),
                                             acknowledged_at=at(1))])
    ingest(e, p, exceptions=[ExceptionRecord("X-2", "SO-5", "produced", "quality", at(0),
                                             acknowledged_at=at(3), resolved_at=at(5))])
    with e.connect() as conn:
        row = conn.execute(select(OrderException.acknowledged_at, OrderException.resolved_at)).one()
    assert tuple(row) == (at(1), at(5))


def test_cancelled_flag_from_the_source_cancels_a_stored_order(store):
    e, p = store.engine, store.pipeline
    ingest(e, p, events=[EventRecord("SO-6", "placed", "enter", at(0))])
    ingest(e, p, [OrderRecord("SO-6", cancelled=True)])
    assert order_row(e, "SO-6").status == "cancelled"


def test_a_bad_event_rejects_the_whole_batch_and_stores_nothing(store):
    e, p = store.engine, store.pipeline
    good = EventRecord("SO-7", "placed", "enter", at(0))
    with pytest.raises(ValueError, match="unknown stage 'painted'"):
        ingest(e, p, events=[good, EventRecord("SO-7", "painted", "enter", at(1))])
    with pytest.raises(ValueError, match="naive datetime"):
        ingest(e, p, events=[good, EventRecord("SO-7", "paid", "enter", datetime(2026, 1, 1))])
    assert count(e, Order) == 0 and count(e, OrderEvent) == 0


def test_a_derived_finding_keeps_its_origin_and_is_not_found_again(store):
    from datasource.schema import DataQualityFinding

    e, p = store.engine, store.pipeline
    batch = [EventRecord("OO", "placed", "enter", at(0)), EventRecord("OO", "shipped", "enter", at(3)),
             EventRecord("OO", "reviewed", "enter", at(5))]
    first = ingest(e, p, events=batch, origins={"OO": ("ledger.csv", 7)})
    assert first.findings_added == 1
    later = ingest(e, p, events=[EventRecord("OO", "received", "enter", at(9))])  # an API event
    assert (later.findings_added, later.events_added) == (0, 1)
    again = ingest(e, p, events=batch)  # the same rows once more
    assert (again.findings_added, again.changed) == (0, False)
    with e.connect() as conn:
        rows = conn.execute(select(DataQualityFinding.source, DataQualityFinding.line)).all()
    assert [tuple(r) for r in rows] == [("ledger.csv", 7)]
    # a late event that puts the stages back in order removes the finding
    ingest(e, p, events=[EventRecord("OO", "reviewed", "enter", at(2))])
    with e.connect() as conn:
        assert conn.execute(select(DataQualityFinding.id)).all() == []


def test_with_update_a_later_value_replaces_the_stored_one_and_is_recorded(store):
    from datasource.ingest import MilestoneMove
    from datasource.schema import OrderChange

    e, p = store.engine, store.pipeline
    ingest(e, p, [OrderRecord("SO-8", customer="ACME", promised_at=at(48))],
           [EventRecord("SO-8", "placed", "enter", at(0)), EventRecord("SO-8", "reviewed", "enter", at(2))])
    given = frozenset({"customer", "owner", "promised_at"})
    result = ingest(e, p, [OrderRecord("SO-8", customer="Globex", promised_at=at(72))],
                    origins={"SO-8": ("ledger.csv", 7)}, update=given,
                    moves=[MilestoneMove("SO-8", "reviewed", at(2), at(3), 9)])
    row = order_row(e, "SO-8")
    assert (row.customer, row.promised_at) == ("Globex", at(72))
    assert result.warnings == [] and result.vanished == []
    assert visits_of(e, "SO-8") == [("placed", 1, at(0), at(3)), ("reviewed", 1, at(3), None)]
    with e.connect() as conn:
        changes = conn.execute(select(OrderChange.field, OrderChange.old_value, OrderChange.new_value,
                                      OrderChange.source, OrderChange.line).order_by(OrderChange.id)).all()
    assert [tuple(c) for c in changes] == [
        ("customer", "ACME", "Globex", "ledger.csv", 7),
        ("promised_at", at(48).isoformat(), at(72).isoformat(), "ledger.csv", 7),
        ("enter:reviewed", at(2).isoformat(), at(3).isoformat(), "ledger.csv", 9),
    ]
    version = data_version(e)
    # the same again changes nothing; an empty value is never a deletion
    again = ingest(e, p, [OrderRecord("SO-8", customer="Globex")], update=given,
                   moves=[MilestoneMove("SO-8", "reviewed", at(2), at(3), 9)])
    assert not again.changed and data_version(e) == version
    assert again.vanished == [("SO-8", "promised_at", at(72))]
    assert order_row(e, "SO-8").promised_at == at(72)

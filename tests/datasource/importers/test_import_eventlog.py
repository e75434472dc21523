"""Event-log (long) imports: stage names mapped, unknown stages rejected, rework kept."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from datasource.importers.run import import_file, prepare_import
from datasource.schema import Order, OrderEvent, StageVisit

UTC = timezone.utc
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "eventlog"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def visits(engine, number: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            select(StageVisit.stage_code, StageVisit.visit_no, StageVisit.is_rework,
                   StageVisit.entered_at, StageVisit.left_at)
            .join(Order, Order.id == StageVisit.order_id)
            .where(Order.order_number == number).order_by(StageVisit.entered_at)
        ).all()


def order(engine, number: str) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(
            select(Order.customer, Order.channel, Order.production_line, Order.quantity,
                   Order.promised_at, Order.status, Order.current_stage, Order.completed_at)
            .where(Order.order_number == number)
        ).one())


def test_example_event_log_with_rework(store, tmp_path):
    plan = prepare_import(EXAMPLE / "events.csv", EXAMPLE / "mapping.toml", store.pipeline)
    report = import_file(store.engine, plan, tmp_path / "rejects.csv")
    assert report.summary() == "imported 12, updated 0, unchanged 0, rejected 1, warnings 0"
    assert [(r.line, r.reason) for r in report.rejects] == [
        (14, "stage '打包' is not in the pipeline (placed, reviewed, paid, prepared, produced, "
             "inspected, shipped, in_transit, received, after_sales) and not mapped in [stages]"),
    ]
    # Shanghai is UTC+8: 09:00 local is 01:00 UTC. QC failed on the 4th, production again
    # on the 5th (rework, visit 2), QC again on the 6th.
    assert visits(store.engine, "SO-1001") == [
        ("placed", 1, False, at(2026, 11, 2, 1), at(2026, 11, 2, 3, 30)),
        ("reviewed", 1, False, at(2026, 11, 2, 3, 30), at(2026, 11, 3, 0)),
        ("produced", 1, False, at(2026, 11, 3, 0), at(2026, 11, 4, 8)),
        ("inspected", 1, False, at(2026, 11, 4, 8), at(2026, 11, 5, 1)),
        ("produced", 2, True, at(2026, 11, 5, 1), at(2026, 11, 6, 2)),
        ("inspected", 2, True, at(2026, 11, 6, 2), at(2026, 11, 6, 7)),
        ("shipped", 1, False, at(2026, 11, 6, 7), at(2026, 11, 8, 2)),
        ("received", 1, False, at(2026, 11, 8, 2), at(2026, 11, 8, 2)),  # the end point
    ]
    # Promised date 2026-11-09: the end of that day in Shanghai.
    assert order(store.engine, "SO-1001") == (
        "华东机电", "factory", "A", 120, at(2026, 11, 9, 16), "completed", "received", at(2026, 11, 8, 2))
    assert order(store.engine, "SO-1002") == (
        "南方电子", "factory", "B", 40, at(2026, 11, 12, 16), "open", "prepared", None)
    with store.engine.connect() as conn:
        kinds = conn.execute(select(OrderEvent.event_type, OrderEvent.stage_code, OrderEvent.note)
                             .where(OrderEvent.event_type != "enter")).all()
        rework_note = tuple(conn.execute(select(OrderEvent.operator, OrderEvent.note).where(
            OrderEvent.occurred_at == at(2026, 11, 5, 1), OrderEvent.stage_code == "produced")).one())
    assert kinds == [("exception", "prepared", "缺料")]
    assert rework_note == ("张伟", "返工：尺寸超差")

    again = import_file(store.engine, prepare_import(EXAMPLE / "events.csv", EXAMPLE / "mapping.toml",
                                                     store.pipeline), tmp_path / "rejects.csv")
    assert again.summary() == "imported 0, updated 0, unchanged 12, rejected 1, warnings 0"
    assert (again.orders_created, again.events_added) == (0, 0)


MAPPING = """
shape = "events"
[columns]
order_number = "order"
stage = "stage"
timestamp = "at"
event_type = "type"
event_id = "id"
note = "note"
[stages]
QC = "inspected"
"""


def test_event_rows_rejected_or_kept_with_reasons(store, tmp_path):
    data = tmp_path / "events.csv"
    data.write_text(
        "id,order,stage,at,type,note\n"
        "e1,X1,placed,2026-11-02T09:00:00+08:00,,\n"         # aware: converted as is
        "e2,X1,qc,2026-11-02 12:00:00,enter,\n"              # mapped case-insensitively
        "e3,X1,,2026-11-02 13:00:00,note,called customer\n"  # notes need no stage
        "e4,X1,Packing,2026-11-02 14:00:00,enter,\n"         # unknown stage
        "e5,X1,shipped,2026-11-02 15:00:00,start,\n"         # unknown event type
        "e6,X1,,2026-11-02 16:00:00,enter,\n"                # enter without a stage
        "e7,X1,shipped,,enter,\n"                            # no timestamp
        "e8,,shipped,2026-11-02 17:00:00,enter,\n"           # no order id
        "e9,X1,shipped,2026-11-02 18:00:00,Cancel,\n",       # cancels the order
        encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    plan = prepare_import(data, mapping, store.pipeline, tz="UTC")
    report = import_file(store.engine, plan, tmp_path / "rejects.csv")
    assert report.summary() == "imported 4, updated 0, unchanged 0, rejected 5, warnings 0"
    assert [(r.line, r.reason) for r in report.rejects] == [
        (5, "stage 'Packing' is not in the pipeline (placed, reviewed, paid, prepared, produced, "
            "inspected, shipped, in_transit, received, after_sales) and not mapped in [stages]"),
        (6, "event type 'start' is not one of enter, complete, exception, resolve, note, cancel "
            "and not in [event_types]"),
        (7, "stage is missing for an 'enter' event"),
        (8, "at: timestamp is missing"),
        (9, "order id is missing"),
    ]
    with store.engine.connect() as conn:
        events = conn.execute(select(OrderEvent.event_uid, OrderEvent.stage_code, OrderEvent.event_type,
                                     OrderEvent.occurred_at).order_by(OrderEvent.occurred_at)).all()
        status = tuple(conn.execute(select(Order.status, Order.current_stage)).one())
    assert events == [
        ("e1", "placed", "enter", at(2026, 11, 2, 1)),
        ("e2", "inspected", "enter", at(2026, 11, 2, 12)),
        ("e3", None, "note", at(2026, 11, 2, 13)),
        ("e9", "shipped", "cancel", at(2026, 11, 2, 18)),
    ]
    assert status == ("cancelled", "inspected")


def test_a_time_outside_the_years_of_utc_is_rejected_not_a_crash(store, tmp_path):
    data = tmp_path / "events.csv"
    data.write_text(
        "id,order,stage,at,type,note\n"
        "e1,X1,placed,2026-11-02T09:00:00+08:00,enter,\n"
        "e2,X1,reviewed,9999-12-31T23:59:59-01:00,enter,\n"   # one second past year 9999 in UTC
        "e3,X1,reviewed,0001-01-01T00:30:00+01:00,enter,\n",  # before year 1 in UTC
        encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    plan = prepare_import(data, mapping, store.pipeline, tz="UTC")
    report = import_file(store.engine, plan, tmp_path / "rejects.csv")
    assert report.summary() == "imported 1, updated 0, unchanged 0, rejected 2, warnings 0"
    assert [r.line for r in report.rejects] == [3, 4]
    assert all("outside the years 1-9999 in UTC" in r.reason for r in report.rejects)

"""Milestone (wide) imports: a hand-made sheet worked out by hand, and the real Olist sample."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import require_data_file
from sqlalchemy import func, select
from typer.testing import CliRunner

from datasource.importers.run import import_file, prepare_import
from datasource.schema import (
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderChange,
    OrderEvent,
    StageVisit,
)
from datasource.store import data_version
from orderboard.cli import app

UTC = timezone.utc
OLIST_DIR = Path(os.environ.get("ORDERBOARD_OLIST_DIR",
                                Path(__file__).resolve().parents[4] / "shared" / "data" / "olist"))
OLIST = OLIST_DIR / "olist_orders_dataset.csv"
OLIST_MAPPING = Path(__file__).resolve().parents[3] / "examples" / "olist" / "mapping.toml"

MAPPING = """
shape = "milestones"
timezone = "America/Sao_Paulo"
promised_is_date = true
source = "sheet"
[columns]
order_number = "id"
customer = "customer"
status = "status"
quantity = "qty"
amount = "amount"
promised = "promised"
[milestones]
placed = "placed"
reviewed = "approved"
shipped = "carrier"
received = "delivered"
[constants]
channel = "online"
[status]
cancelled = ["canceled"]
completed = ["delivered"]
"""

SHEET = """id,customer,status,qty,amount,placed,approved,carrier,delivered,promised
A1,c1,delivered,2,10.5,2017-10-14 10:00:00,2017-10-14 11:00:00,2017-10-16 09:00:00,2017-10-20 12:00:00,2017-10-19 00:00:00
A2,c2,delivered,,,2017-10-14 10:00:00,2017-10-13 09:00:00,2017-10-14 08:00:00,,2017-10-14
A3,c3,canceled,,,2017-10-15 00:30:00,,2017-10-16 10:00:00,,2017-10-30
A1,cX,delivered,2,10.5,2017-10-14 10:05:00,2017-10-14 11:00:00,2017-10-16 09:00:00,2017-10-20 12:00:00,2017-10-19 00:00:00
A4,c4,created,-1,,2017-10-14 10:00:00,,,,
,c5,created,,,2017-10-14 10:00:00,,,,
A5,c5,created,,,soon,,,,
A6,c6,created
A7,c7,created,1,0,2017-02-18 23:30:00,,,,2017-02-18
"""


def run_import(store, tmp_path, text, mapping=MAPPING, batch_size=20_000, name="sheet.csv"):
    data, mapping_file = tmp_path / name, tmp_path / "mapping.toml"
    data.write_text(text, encoding="utf-8")
    mapping_file.write_text(mapping, encoding="utf-8")
    plan = prepare_import(data, mapping_file, store.pipeline)
    return import_file(store.engine, plan, tmp_path / "rejects.csv", batch_size=batch_size)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def orders_by_number(engine) -> dict[str, dict]:
    cols = ("customer", "channel", "quantity", "amount", "status", "current_stage",
            "placed_at", "completed_at", "promised_at")
    with engine.connect() as conn:
        rows = conn.execute(select(Order.order_number, *(getattr(Order, c) for c in cols)))
        return {r[0]: dict(zip(cols, r[1:])) for r in rows}


def findings(engine) -> set[tuple]:
    with engine.connect() as conn:
        return set(conn.execute(select(DataQualityFinding.kind, DataQualityFinding.order_number,
                                       DataQualityFinding.line, DataQualityFinding.detail)).all())


@pytest.mark.parametrize("batch_size", [20_000, 1])
def test_hand_made_sheet(store, tmp_path, batch_size):
    report = run_import(store, tmp_path, SHEET, batch_size=batch_size)
    # line 5 repeats A1 (adding nothing): unchanged, whichever batch it falls in
    assert report.summary() == "imported 4, updated 0, unchanged 1, rejected 4, warnings 4"
    assert (report.data_rows, report.imported, len(report.rejects)) == (9, 4, 4)
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "line,reason,id,customer,status,qty,amount,placed,approved,carrier,delivered,promised",
        "6,quantity '-1' is negative,A4,c4,created,-1,,2017-10-14 10:00:00,,,,",
        "7,order id is missing,,c5,created,,,2017-10-14 10:00:00,,,,",
        "8,placed: 'soon' is not a timestamp,A5,c5,created,,,soon,,,,",
        "9,\"row has 3 fields, the header has 10\",A6,c6,created",
    ]
    assert [(n.line, n.order_number) for n in report.warnings] == [
        (4, "A3"), (5, "A1"), (5, "A1"), (10, "A7")]
    messages = [n.message for n in report.warnings]
    assert messages[0] == ("placed: 2017-10-15 00:30:00 does not exist in America/Sao_Paulo "
                           "(clocks went forward); read as 2017-10-15T01:30:00-02:00")
    assert messages[3] == ("placed: 2017-02-18 23:30:00 occurs twice in America/Sao_Paulo "
                           "(clocks went back); read as the earlier, 2017-02-18T23:30:00-02:00")
    # Within one file the first value is kept, in the file's terms (its column, the
    # value as written, the file's zone), also when line 5 meets line 2 in the store
    # (one row per batch) rather than in the batch.
    first_placed = "'2017-10-14 10:00:00'" if batch_size > 1 else "'2017-10-14 10:00'"
    assert sorted(messages[1:3]) == [
        "customer is 'c1' on line 2, 'cX' here; the first is kept",
        f"placed is {first_placed} on line 2, '2017-10-14 10:05:00' here; the first is kept",
    ]
    assert orders_by_number(store.engine) == {
        # Completed after the promise: received 20th 12:00 -02 > end of the 19th (20th 00:00 -02).
        "A1": {"customer": "c1", "channel": "online", "quantity": 2, "amount": 10.5, "status": "completed",
                   "current_stage": "received", "placed_at": at(2017, 10, 14, 13), "completed_at": at(2017, 10, 20, 14),
                   "promised_at": at(2017, 10, 20, 2)},
        # Promised 2017-10-14: that day ended at 03:00 UTC when clocks skipped midnight.
        # Visits follow the clock: approved (13th), carrier, then purchase (14th 13:00
        # UTC): placed_at is the first entry, the order waits in "placed", and the
        # purchase after the carrier date is a finding.
        "A2": {"customer": "c2", "channel": "online", "quantity": None, "amount": None, "status": "open",
                   "current_stage": "placed", "placed_at": at(2017, 10, 13, 12), "completed_at": None,
                   "promised_at": at(2017, 10, 15, 3)},
        # 00:30 did not exist that night: read at -03:00, i.e. 01:30 -02:00.
        "A3": {"customer": "c3", "channel": "online", "quantity": None, "amount": None, "status": "cancelled",
                   "current_stage": "shipped", "placed_at": at(2017, 10, 15, 3, 30), "completed_at": None,
                   "promised_at": at(2017, 10, 31, 2)},
        # Ambiguous 23:30 on the 25-hour day: the earlier, -02:00; that day ended at 00:00 -03.
        "A7": {"customer": "c7", "channel": "online", "quantity": 1, "amount": 0.0, "status": "open",
                   "current_stage": "placed", "placed_at": at(2017, 2, 19, 1, 30), "completed_at": None,
                   "promised_at": at(2017, 2, 19, 3)},
    }
    assert findings(store.engine) == {
        ("out_of_pipeline_order", "A2", 3,
         "placed entered 2017-10-14 21:00:00 after shipped 2017-10-14 19:00:00, which follows it "
         "in the pipeline (Asia/Shanghai)"),
        ("completed_status_without_timestamp", "A2", 3,
         "status 'delivered' says the order is completed but received (delivered) is empty"),
        ("cancelled_but_shipped", "A3", 4, "status 'canceled' says cancelled but it has shipped 2017-10-16 10:00:00"),
        ("duplicate_order_id", "A1", 5, "order id also on line 2"),
    }
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderEvent)).scalar() == 4 + 3 + 2 + 1


def test_second_import_of_the_sheet_changes_nothing(store, tmp_path):
    run_import(store, tmp_path, SHEET)
    version = data_version(store.engine)
    before = orders_by_number(store.engine), findings(store.engine)
    again = run_import(store, tmp_path, SHEET)
    assert again.summary() == "imported 0, updated 0, unchanged 5, rejected 4, warnings 4"
    assert (again.orders_created, again.events_added, again.findings_added) == (0, 0, 0)
    assert (orders_by_number(store.engine), findings(store.engine)) == before
    assert data_version(store.engine) == version


def test_a_later_file_moves_a_stored_milestone_and_records_the_change(store, tmp_path):
    header = "id,customer,status,qty,amount,placed,approved,carrier,delivered,promised\n"
    run_import(store, tmp_path, header + "B1,c1,approved,,,2017-08-01 10:00:00,2017-08-01 12:00:00,,,\n")
    report = run_import(store, tmp_path, header + "B1,c1,shipped,,,2017-08-01 10:00:00,"
                        "2017-08-01 12:30:00,2017-08-02 09:00:00,,\n", name="later.csv")
    assert report.summary() == "imported 0, updated 1, unchanged 0, rejected 0, warnings 0"
    assert (report.orders_changed, report.changes, report.events_added) == (1, 1, 1)
    with store.engine.connect() as conn:
        visits = conn.execute(select(StageVisit.stage_code, StageVisit.entered_at, StageVisit.visit_no)
                              .order_by(StageVisit.entered_at)).all()
        changes = conn.execute(select(OrderChange.field, OrderChange.old_value, OrderChange.new_value,
                                      OrderChange.source, OrderChange.line)).all()
    # moved, not a second (rework) visit of reviewed
    assert visits == [("placed", at(2017, 8, 1, 13), 1), ("reviewed", at(2017, 8, 1, 15, 30), 1),
                      ("shipped", at(2017, 8, 2, 12), 1)]
    assert [tuple(c) for c in changes] == [
        ("enter:reviewed", "2017-08-01T15:00:00+00:00", "2017-08-01T15:30:00+00:00", "sheet", 2)]
    # the milestone the later file leaves empty stays, with a warning
    again = run_import(store, tmp_path, header + "B1,c1,shipped,,,2017-08-01 10:00:00,"
                       "2017-08-01 12:30:00,,,\n", name="older.csv")
    assert again.summary() == "imported 0, updated 0, unchanged 1, rejected 0, warnings 1"
    assert again.warnings[0].message == "carrier is empty here; '2017-08-02 09:00' in the store is kept"


def olist_or_skip() -> Path:
    return require_data_file(OLIST, "the Olist sample", "ORDERBOARD_OLIST_DIR")


def olist_carrier_before_approval() -> set[str]:
    """Independent route: the orders whose carrier date precedes the approval, read with csv
    (same-format timestamps compare correctly as strings)."""
    with OLIST.open(encoding="utf-8") as fh:
        return {r["order_id"] for r in csv.DictReader(fh)
                if r["order_approved_at"] and r["order_delivered_carrier_date"]
                and r["order_delivered_carrier_date"] < r["order_approved_at"]}


def olist_out_of_pipeline_order() -> set[str]:
    """Independent route: the orders with two milestones whose times run against the
    pipeline (purchase, approval, carrier, delivery), read with csv; equal times are in
    order (same-format timestamps compare correctly as strings)."""
    columns = ("order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
               "order_delivered_customer_date")
    with OLIST.open(encoding="utf-8") as fh:
        out = set()
        for r in csv.DictReader(fh):
            times = [r[c] for c in columns]
            if any(a and b and b < a for i, a in enumerate(times) for b in times[i + 1:]):
                out.add(r["order_id"])
        return out


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (Order, OrderEvent, StageVisit, DataQualityFinding, AuditEntry)}


def test_olist_acceptance(store, tmp_path):
    path = olist_or_skip()
    plan = prepare_import(path, OLIST_MAPPING, store.pipeline)
    report = import_file(store.engine, plan, tmp_path / "rejects.csv")
    assert (report.data_rows, report.imported, len(report.rejects)) == (8135, 8135, 0)
    assert report.summary() == "imported 8135, updated 0, unchanged 0, rejected 0, warnings 1"
    assert [(n.line, n.order_number) for n in report.warnings] == [(3808, "fc8121263d345c1d739f85edda7be0cb")]
    out_of_order = olist_out_of_pipeline_order()
    # an order can be out of order twice (delivery before carrier before approval)
    assert report.findings == Counter({"out_of_pipeline_order": 83, "cancelled_but_shipped": 75,
                                       "completed_status_without_timestamp": 8})
    with store.engine.connect() as conn:
        status = dict(conn.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        late = conn.execute(select(func.count()).select_from(Order).where(
            Order.status == "completed", Order.completed_at > Order.promised_at)).scalar()
        found = set(conn.execute(select(DataQualityFinding.order_number).where(
            DataQualityFinding.kind == "out_of_pipeline_order")).scalars())
        negative = conn.execute(select(func.count()).select_from(StageVisit).where(
            StageVisit.duration_s < 0)).scalar()
        completed_open = conn.execute(select(func.count()).select_from(StageVisit).join(
            Order, Order.id == StageVisit.order_id).where(
            Order.status == "completed", StageVisit.left_at.is_(None))).scalar()
        ambiguous = conn.execute(select(Order.placed_at).where(
            Order.order_number == "fc8121263d345c1d739f85edda7be0cb")).scalar()
    assert status == {"completed": 5164, "cancelled": 1234, "open": 1737}
    assert late == 342
    assert found == out_of_order and len(found) == 80
    assert olist_carrier_before_approval() <= found
    assert len(olist_carrier_before_approval()) == 77
    assert (negative, completed_open) == (0, 0)
    assert ambiguous == at(2017, 2, 19, 1, 41, 47)
    listed = CliRunner().invoke(app, ["quality", "--db", store.url, "--kind", "out_of_pipeline_order", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {f["order_number"] for f in json.loads(listed.stdout)} == found
    counts = table_counts(store.engine)
    assert counts == {"orders": 8135, "order_events": 27647, "stage_visits": 27647,
                      "data_quality_findings": 75 + 8 + 83, "audit_log": 1}
    version = data_version(store.engine)

    again = import_file(store.engine, prepare_import(path, OLIST_MAPPING, store.pipeline),
                        tmp_path / "rejects.csv")
    assert again.summary() == "imported 0, updated 0, unchanged 8135, rejected 0, warnings 1"
    assert (again.orders_created, again.events_added, again.findings_added) == (0, 0, 0)
    assert table_counts(store.engine) == counts
    assert data_version(store.engine) == version

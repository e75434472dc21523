"""Acceptance: ledgers as people keep them (tests/ledgers.py), through 'orderboard mapping
suggest' then 'orderboard import', every row accounted for, the orders and times worked
out by hand; a re-import with moved promises and a corrected customer updates them, the
delay rate and drill-down follow, and the history says what changed."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ledgers import write_csv_ledger, write_xlsx_ledger
from sqlalchemy import select
from typer.testing import CliRunner

from datasource.schema import Order, OrderEvent
from metrics.drilldown import orders_behind
from metrics.summary import compute_summary
from metrics.window import Window
from orderboard.cli import app

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
NOVEMBER = Window(datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def suggest_and_import(store, ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    suggested = invoke("mapping", "suggest", ledger)
    assert suggested.exit_code == 0, suggested.output
    mapping = tmp_path / f"{ledger.name}.toml"
    mapping.write_text(suggested.stdout, encoding="utf-8")
    result = invoke("import", ledger, "--mapping", mapping, "--db", store.url)
    return suggested.stdout, mapping, result


def orders(engine) -> dict[str, tuple]:
    cols = (Order.customer, Order.owner, Order.quantity, Order.amount, Order.promised_at,
            Order.status, Order.current_stage)
    with engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(select(Order.order_number, *cols))}


def milestones(engine) -> dict[str, list[tuple[str, datetime]]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Order.order_number, OrderEvent.stage_code, OrderEvent.occurred_at)
                            .join(Order, Order.id == OrderEvent.order_id)
                            .order_by(Order.order_number, OrderEvent.occurred_at)).all()
    out: dict[str, list] = {}
    for number, stage, when in rows:
        out.setdefault(number, []).append((stage, when))
    return out


def test_gbk_csv_ledger_suggested_imported_and_updated(store, tmp_path, monkeypatch):
    ledger = write_csv_ledger(tmp_path / "ledger.csv")
    toml, mapping, result = suggest_and_import(store, ledger, tmp_path, monkeypatch)
    for line in ('shape = "milestones"', 'date_order = "dmy"', "promised_is_date = true",
                 'fill_down = ["订单号"]', 'order_number = "订单号"', 'promised = "交期"',
                 'owner = "业务员"', 'placed = "下单时间"', 'shipped = "发货时间"',
                 'received = "签收时间"', "# Every column is placed."):
        assert line in toml, line
    assert "# Read as gb18030 text" in toml and "# The header is on line 3" in toml
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 6, updated 0, unchanged 0, rejected 1, warnings 0",
        "store: 5 new orders, 13 new events",
        "totals row: line 12 (合计) is not imported",
        f"rejects: {tmp_path / 'ledger.csv.rejects.csv'}",
        "warnings: none (no file written)",
    ]
    rejects = (tmp_path / "ledger.csv.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[1].startswith("10,quantity '两件' is not a number,SO-1006,")
    # Shanghai is UTC+8. A date without a time is 00:00 local; a promised date the end
    # of its day (next local midnight); 46330.5 is 2026-11-04 12:00, 46331 2026-11-05.
    assert orders(store.engine) == {
        "SO-1001": ("华东机电", "王芳", 10, 1200.5, at(2026, 11, 10, 16), "completed", "received"),
        "SO-1002": ("南方电子", "李强", 5, 800.0, at(2026, 11, 12, 16), "completed", "received"),
        "SO-1003": ("北方重工", "王芳", 3, 300.0, at(2026, 11, 6, 16), "open", "shipped"),
        "SO-1004": ("东方物流", "李强", 2, 0.0, at(2026, 11, 13, 16), "open", "placed"),
        "SO-1005": (None, "王芳", 1, 99.9, at(2026, 11, 20, 16), "open", "placed"),
    }
    assert milestones(store.engine) == {
        "SO-1001": [("placed", at(2026, 11, 3, 1)), ("reviewed", at(2026, 11, 3, 2, 30)),
                    ("shipped", at(2026, 11, 4, 16)), ("received", at(2026, 11, 8, 7))],
        "SO-1002": [("placed", at(2026, 11, 4, 1, 5)), ("reviewed", at(2026, 11, 4, 4)),
                    ("shipped", at(2026, 11, 11, 9, 45)), ("received", at(2026, 11, 13, 6, 30))],
        # line 7 (order number merged from line 6) gives the review and the shipment;
        # 07/11/2026 is 7 November (date_order dmy)
        "SO-1003": [("placed", at(2026, 11, 4, 16)), ("reviewed", at(2026, 11, 5, 6)),
                    ("shipped", at(2026, 11, 7, 1))],
        "SO-1004": [("placed", at(2026, 11, 9, 0))],
        "SO-1005": [("placed", at(2026, 11, 9, 16, 30))],  # 上午12:30 is half past midnight
    }
    summary = compute_summary(store.engine, store.pipeline, NOVEMBER, None, NOW)
    assert (summary.delay.completed, summary.delay.late, summary.delay.rate) == (2, 1, 0.5)
    late = orders_behind(store.engine, store.pipeline, "late", NOVEMBER, None, NOW)
    assert list(late["order_number"]) == ["SO-1002"]

    again = invoke("import", ledger, "--mapping", mapping, "--db", store.url)
    assert again.stdout.splitlines()[:2] == [
        "imported 0, updated 0, unchanged 6, rejected 1, warnings 0",
        "store: 0 new orders, 0 new events; everything was already stored, nothing changed",
    ]

    # The ledger lives on: three promises moved (客户变更), one customer corrected.
    write_csv_ledger(ledger, {4: {5: "2026/11/7"}, 5: {5: "2026-11-14"}, 8: {5: "20/11/2026"},
                              6: {1: "北方重工集团"}})
    updated = invoke("import", ledger, "--mapping", mapping, "--db", store.url)
    assert updated.exit_code == 0, updated.output
    assert updated.stdout.splitlines()[:2] == [
        "imported 0, updated 4, unchanged 2, rejected 1, warnings 0",
        "store: 0 new orders, 0 new events, 4 orders changed (4 values; see: orderboard history)",
    ]
    now_orders = orders(store.engine)
    assert [now_orders[n][4] for n in ("SO-1001", "SO-1002", "SO-1004")] == [
        at(2026, 11, 7, 16), at(2026, 11, 14, 16), at(2026, 11, 20, 16)]
    assert now_orders["SO-1003"][0] == "北方重工集团"
    # SO-1001 (received the 8th) is now late, SO-1002 (the 13th) now on time
    summary = compute_summary(store.engine, store.pipeline, NOVEMBER, None, NOW)
    assert (summary.delay.completed, summary.delay.late, summary.delay.rate) == (2, 1, 0.5)
    late = orders_behind(store.engine, store.pipeline, "late", NOVEMBER, None, NOW)
    assert list(late["order_number"]) == ["SO-1001"]

    history = invoke("history", "--db", store.url, "--order", "SO-1001")
    assert history.exit_code == 0, history.output
    lines = history.stdout.splitlines()
    assert lines[0].endswith("SO-1001  promised_at: 2026-11-10 -> 2026-11-07  (ledger.csv line 4)")
    assert lines[1:] == ["1 changes"]
    every = json.loads(invoke("history", "--db", store.url, "--json").stdout)
    assert sorted((c["order_number"], c["field"], c["old_value"], c["new_value"], c["line"])
                  for c in every) == [
        ("SO-1001", "promised_at", "2026-11-10T16:00:00+00:00", "2026-11-07T16:00:00+00:00", 4),
        ("SO-1002", "promised_at", "2026-11-12T16:00:00+00:00", "2026-11-14T16:00:00+00:00", 5),
        ("SO-1003", "customer", "北方重工", "北方重工集团", 6),
        ("SO-1004", "promised_at", "2026-11-13T16:00:00+00:00", "2026-11-20T16:00:00+00:00", 8),
    ]
    quality = invoke("quality", "--db", store.url)
    assert "4 values changed by later imports (see: orderboard history)" in quality.stdout


def test_xlsx_event_ledger_with_merged_order_numbers(store, tmp_path, monkeypatch):
    ledger = write_xlsx_ledger(tmp_path / "ledger.xlsx")
    toml, _mapping, result = suggest_and_import(store, ledger, tmp_path, monkeypatch)
    for line in ('shape = "events"', 'order_number = "订单编号"', 'stage = "环节"', 'timestamp = "时间"',
                 'operator = "操作人"', '"下单" = "placed"', '"出库" = "shipped"',
                 "promised_is_date = true", "# Every column is placed."):
        assert line in toml, line
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "imported 6, updated 0, unchanged 0, rejected 0, warnings 0",
        "store: 2 new orders, 6 new events",
        "totals row: line 9 (合计) is not imported",
    ]
    assert orders(store.engine) == {
        # a date cell (2026-11-12) and the text 2026.11.20: ends of those days
        "X-1": ("华东机电", None, None, None, at(2026, 11, 12, 16), "open", "shipped"),
        "X-2": ("南方电子", None, None, None, at(2026, 11, 20, 16), "open", "reviewed"),
    }
    assert milestones(store.engine) == {
        # a datetime cell; a number cell 46328.4375 (10:30); 下午4:15; 2026/11/4 8:00
        "X-1": [("placed", at(2026, 11, 2, 1)), ("reviewed", at(2026, 11, 2, 2, 30)),
                ("paid", at(2026, 11, 2, 8, 15)), ("shipped", at(2026, 11, 4, 0))],
        # the text 46330 (2026-11-04 00:00) and 2026-11-5 10:00
        "X-2": [("placed", at(2026, 11, 3, 16)), ("reviewed", at(2026, 11, 5, 2))],
    }


def test_a_file_whose_every_row_is_rejected_exits_1(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ledger = tmp_path / "bad.csv"
    ledger.write_text("单号,下单时间\nA,下周\nB,明天\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('shape = "milestones"\n[columns]\norder_number = "单号"\n'
                       '[milestones]\nplaced = "下单时间"\n', encoding="utf-8")
    result = invoke("import", ledger, "--mapping", mapping, "--db", sqlite_store.url)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "imported 0, updated 0, unchanged 0, rejected 2, warnings 0"
    assert result.stderr.splitlines() == [
        f"error: nothing imported from bad.csv: all 2 rows were rejected (see {tmp_path / 'bad.csv.rejects.csv'})"]
    ledger.write_text("单号,下单时间\nA,2026/11/3 9:00\nB,明天\n", encoding="utf-8")
    partly = invoke("import", ledger, "--mapping", mapping, "--db", sqlite_store.url)
    assert partly.exit_code == 0, partly.output  # by default only "every row failed" fails
    strict = invoke("import", ledger, "--mapping", mapping, "--db", sqlite_store.url, "--max-rejects", "0")
    assert strict.exit_code == 1
    assert strict.stderr.splitlines() == [
        f"error: 1 rows rejected, more than --max-rejects 0 (see {tmp_path / 'bad.csv.rejects.csv'}); "
        "the other 1 rows are stored"]


def test_a_second_import_waits_for_the_first_or_says_so_in_one_line(store, tmp_path, monkeypatch):
    from datasource.importers.lock import import_lock

    monkeypatch.chdir(tmp_path)
    ledger = write_csv_ledger(tmp_path / "ledger.csv")
    mapping = tmp_path / "m.toml"
    mapping.write_text(invoke("mapping", "suggest", ledger).stdout, encoding="utf-8")
    with import_lock(store.engine, wait_s=1):  # another import is running
        result = invoke("import", ledger, "--mapping", mapping, "--db", store.url, "--wait", "0.5")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: another import into this store is still running (waited 0.5 s); run this one "
        "again when it has finished"]
    assert orders(store.engine) == {}


def test_two_imports_of_one_file_at_once_store_it_once(store, tmp_path):
    """Both read "SO-1001 is not stored"; without the lock the second died on the unique
    order number with the rows in its traceback. With it, the second waits and finds
    everything stored."""
    from concurrent.futures import ThreadPoolExecutor

    from datasource.importers.run import run_import

    ledger = write_csv_ledger(tmp_path / "ledger.csv")
    mapping = tmp_path / "m.toml"
    mapping.write_text(invoke("mapping", "suggest", ledger).stdout, encoding="utf-8")

    def one(i: int):
        return run_import(store.url, store.pipeline, ledger, mapping,
                          rejects_path=tmp_path / f"r{i}.csv", wait_s=60)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(one, range(2)))
    assert sorted(r.summary() for r in reports) == [
        "imported 0, updated 0, unchanged 6, rejected 1, warnings 0",
        "imported 6, updated 0, unchanged 0, rejected 1, warnings 0",
    ]
    assert len(orders(store.engine)) == 5


def test_a_clash_with_another_writer_is_one_line_without_row_data(sqlite_store, tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    import datasource.importers.run as run

    def clash(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO orders ...", {"customer": "华东机电", "amount": 1200.5},
                             Exception("UNIQUE constraint failed: orders.order_number"))

    monkeypatch.setattr(run, "run_import", clash)
    monkeypatch.chdir(tmp_path)
    ledger = write_csv_ledger(tmp_path / "ledger.csv")
    result = invoke("import", ledger, "--mapping", ledger, "--db", sqlite_store.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: another writer stored the same orders at the same moment; run the same import "
        "again: rows already stored change nothing"]
    assert "华东机电" not in result.output

"""The import command end to end: summary line, rejects file, XLSX, --tz, and files that
cannot be read leaving the store exactly as it was."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datasource.importers.run import import_file, prepare_import
from datasource.schema import AuditEntry, DataQualityFinding, Order, OrderEvent, StageRow
from datasource.store import data_version
from orderboard.cli import app

UTC = timezone.utc
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "eventlog"
MILESTONES = """
shape = "milestones"
promised_is_date = true
[columns]
order_number = "order"
customer = "customer"
quantity = "qty"
promised = "due"
[milestones]
placed = "placed"
shipped = "shipped"
"""


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_import_prints_the_summary_and_writes_the_files_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'new.db'}"  # no store yet: the import creates it
    result = invoke("import", str(EXAMPLE / "events.csv"), "--mapping", str(EXAMPLE / "mapping.toml"),
                    "--db", db)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 12, updated 0, unchanged 0, rejected 1, warnings 0",
        "store: 2 new orders, 12 new events",
        f"rejects: {tmp_path / 'events.csv.rejects.csv'}",
        "warnings: none (no file written)",
    ]
    again = invoke("import", str(EXAMPLE / "events.csv"), "--mapping", str(EXAMPLE / "mapping.toml"),
                   "--db", db)
    assert again.stdout.splitlines()[:2] == [
        "imported 0, updated 0, unchanged 12, rejected 1, warnings 0",
        "store: 0 new orders, 0 new events; everything was already stored, nothing changed",
    ]
    assert (tmp_path / "events.csv.rejects.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith(
        "14,\"stage '打包' is not in the pipeline")
    assert not (tmp_path / "events.csv.warnings.csv").exists()


def test_cli_rejects_option_and_findings_line(tmp_path):
    data = tmp_path / "sheet.csv"
    data.write_text("order,customer,qty,due,placed,shipped\n"
                    "M1,c,1,2026-11-09,2026-11-02 10:00,2026-11-01 09:00\n"
                    "M1,c,1,2026-11-09,2026-11-02 10:00,2026-11-01 09:00\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text(MILESTONES, encoding="utf-8")
    rejects = tmp_path / "out" / "bad.csv"
    rejects.parent.mkdir()
    result = invoke("import", str(data), "--mapping", str(tmp_path / "m.toml"), "--rejects", str(rejects),
                    "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 1, updated 0, unchanged 1, rejected 0, warnings 0",
        "store: 1 new orders, 2 new events",
        f"rejects: {rejects}",
        "warnings: none (no file written)",
        "data-quality findings: duplicate_order_id 1, out_of_pipeline_order 1 (see: orderboard quality)",
    ]


def test_tz_option_overrides_the_mapping_and_the_pipeline(store, tmp_path):
    data = tmp_path / "sheet.csv"
    data.write_text("order,customer,qty,due,placed,shipped\nT1,c,,2026-11-09,2026-11-02 09:00:00,\n",
                    encoding="utf-8")
    (tmp_path / "m.toml").write_text(MILESTONES, encoding="utf-8")
    assert prepare_import(data, tmp_path / "m.toml", store.pipeline).zone.key == "Asia/Shanghai"
    (tmp_path / "m.toml").write_text('timezone = "Europe/Berlin"\n' + MILESTONES, encoding="utf-8")
    assert prepare_import(data, tmp_path / "m.toml", store.pipeline).zone.key == "Europe/Berlin"
    plan = prepare_import(data, tmp_path / "m.toml", store.pipeline, tz="America/New_York")
    import_file(store.engine, plan, tmp_path / "r.csv")
    with store.engine.connect() as conn:
        assert tuple(conn.execute(select(Order.placed_at, Order.promised_at)).one()) == (
            at(2026, 11, 2, 14), at(2026, 11, 10, 5))  # EST (UTC-5) after 1 November


def test_xlsx_milestones(store, tmp_path):
    path = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "orders"
    ws.append(["order", "customer", "qty", "due", "placed", "shipped"])
    ws.append([1001, "华东机电", 3, date(2026, 11, 9), datetime(2026, 11, 2, 9, 0), datetime(2026, 11, 4, 17, 30)])
    ws.append([1002.0, "南方电子", 2.0, datetime(2026, 11, 10, 0, 0), "2026-11-03 08:00", None])
    ws.append([None, None, None, None, None, None])
    ws.append([1003, "x", 1, None, "next week", None])
    ws.append([1004, "y", 1.5, None, datetime(2026, 11, 3, 8, 0), None])
    book.save(path)
    (tmp_path / "m.toml").write_text('sheet = "orders"\n' + MILESTONES, encoding="utf-8")
    plan = prepare_import(path, tmp_path / "m.toml", store.pipeline)
    report = import_file(store.engine, plan, tmp_path / "r.csv")
    assert report.summary() == "imported 2, updated 0, unchanged 0, rejected 2, warnings 0"
    assert (report.data_rows, report.blank_rows) == (4, 1)
    assert [(r.line, r.reason) for r in report.rejects] == [
        (5, "placed: 'next week' is not a timestamp"),
        (6, "quantity 1.5 is not a whole number"),
    ]
    with store.engine.connect() as conn:
        rows = conn.execute(select(Order.order_number, Order.customer, Order.quantity, Order.promised_at,
                                   Order.placed_at, Order.current_stage).order_by(Order.order_number)).all()
    assert [tuple(r) for r in rows] == [
        ("1001", "华东机电", 3, at(2026, 11, 9, 16), at(2026, 11, 2, 1), "shipped"),
        ("1002", "南方电子", 2, at(2026, 11, 10, 16), at(2026, 11, 3, 0), "placed"),
    ]


def fingerprint(store) -> object:
    """SQLite: the bytes of the file. PostgreSQL: row counts and the data version."""
    if store.backend == "sqlite":
        store.engine.dispose()
        return hashlib.sha256(Path(store.url.removeprefix("sqlite:///")).read_bytes()).hexdigest()
    with store.engine.connect() as conn:
        counts = [conn.execute(select(func.count()).select_from(t)).scalar()
                  for t in (Order, OrderEvent, DataQualityFinding, AuditEntry, StageRow)]
    return counts, data_version(store.engine)


UNREADABLE = [
    ("missing-column.csv", b"order,customer,qty,due,placed\nU1,c,1,,2026-11-02 09:00\n", MILESTONES,
     "missing-column.csv: column(s) 'shipped' named in the mapping are not in the header "
     "(it has order, customer, qty, due, placed)"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), MILESTONES,
     "picture.csv: not a CSV or Excel file (save it from Excel as .xlsx or CSV)"),
    ("gbk.csv", "order,customer,qty,due,placed,shipped\nU1,华东,1,,,\n".encode("gbk"),
     'encoding = "utf-8"\n' + MILESTONES,
     'gbk.csv: not valid utf-8 text (byte 0xbb on line 2); check encoding in the mapping, or leave '
     'it out: the encoding is found from the file'),
    ("ambiguous.csv", b"order,customer,qty,due,placed,shipped\nU1,c,1,25/11/2026,,\nU2,c,1,03/11/2026,,\n",
     MILESTONES, "ambiguous.csv: column 'due' has dates that read as day/month or month/day "
                 "(line 3: '03/11/2026'); set date_order = \"dmy\" or \"mdy\" in the mapping"),
    ("notes.xlsx", b"this is not a spreadsheet", MILESTONES,
     "notes.xlsx: not a readable XLSX spreadsheet (File is not a zip file)"),
    ("empty.csv", b"", MILESTONES, "empty.csv: the file is empty"),
    ("fine.csv", b"order,customer,qty,due,placed,shipped\n", MILESTONES.replace("shipped =", "packed ="),
     None),
]


@pytest.mark.parametrize("name, content, mapping, message", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_input_exits_non_zero_with_one_line_and_writes_nothing(
        store, tmp_path, monkeypatch, name, content, mapping, message):
    data = tmp_path / name
    data.write_bytes(content)
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = fingerprint(store)
    result = invoke("import", str(data), "--mapping", str(tmp_path / "m.toml"), "--db", store.url)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    if message is None:  # the mapping names a stage the pipeline does not have
        message = (f"mapping file {tmp_path / 'm.toml'}: stage(s) packed are not in the pipeline "
                   "(placed, reviewed, paid, prepared, produced, inspected, shipped, in_transit, "
                   "received, after_sales)")
    assert lines == [f"error: {message}"]
    assert fingerprint(store) == before
    assert list(work.iterdir()) == []  # no rejects or warnings file either


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_cyclic_collector_is_paused_during_an_import_and_restored_after(
        store, tmp_path, enabled_before):
    import gc

    plan = prepare_import(EXAMPLE / "events.csv", EXAMPLE / "mapping.toml", store.pipeline)
    seen: list[bool] = []
    (gc.enable if enabled_before else gc.disable)()
    try:
        import_file(store.engine, plan, tmp_path / "rejects.csv", batch_size=5,
                    on_progress=lambda n: seen.append(gc.isenabled()))
        assert gc.isenabled() is enabled_before
        # A failing import restores it too.
        with pytest.raises(RuntimeError):
            import_file(store.engine, plan, tmp_path / "rejects.csv",
                        on_progress=lambda n: (_ for _ in ()).throw(RuntimeError("stop")))
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
    assert seen == [False]

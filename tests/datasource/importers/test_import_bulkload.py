"""An event log into a fresh store, loaded whole (``importers.bulkload``): the same stored
rows, report, rejects and warnings as batch by batch, on SQLite and PostgreSQL; all or
nothing when the load fails or the process dies; a second import recognises every event."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from datasource.importers import bulkload
from datasource.importers.run import import_file, prepare_import
from datasource.pipeline import Pipeline, default_pipeline
from datasource.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from bench_import_dump import dump_store

CODES = ("placed", "reviewed", "paid", "prepared", "produced", "inspected", "shipped",
         "in_transit", "received", "after_sales")
PLAIN = """
shape = "events"
timezone = "Europe/Amsterdam"
[columns]
order_number = "case"
stage = "activity"
timestamp = "time"
operator = "resource"
[stages]
QC = "inspected"
"""
TYPED = PLAIN.replace('operator = "resource"',
                      'operator = "resource"\nevent_type = "type"\nnote = "note"')


def stamp(rng: random.Random, seconds: int) -> str:
    """A timestamp in one of the ways logs write them, mostly ISO 8601 with an offset;
    naive ones near the clock changes of Europe/Amsterdam, and some that are not valid."""
    from datetime import datetime, timedelta, timezone

    t = datetime(2025, 3, 29, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    roll = rng.random()
    if roll < 0.55:
        zone = timezone(timedelta(hours=rng.choice((1, 2, -5, 8))))
        return t.astimezone(zone).isoformat()
    if roll < 0.70:
        return t.replace(tzinfo=None).isoformat(" ")  # naive: read in the zone
    if roll < 0.75:
        return t.replace(tzinfo=None, microsecond=rng.randrange(10**6)).isoformat() + "Z"
    if roll < 0.80:
        return f"{t:%Y/%m/%d %H:%M}"  # not ISO: the row parser's
    if roll < 0.83:
        return f" {t.isoformat()} "  # spaces around
    if roll < 0.86:  # naive, on the night clocks go forward or back
        day = rng.choice(("2025-03-30", "2025-10-26"))
        return f"{day} 0{rng.choice((1, 2, 3))}:{rng.randrange(60):02d}:00"
    if roll < 0.88:
        return rng.choice(("2025-02-30 10:00:00", "2025-03-01T24:00:00", "", "soon",
                           "2025-03-01T10:00:00+24:00", "0999-03-01T10:00:00"))
    return t.isoformat(" ", "seconds")


def event_log(seed: int, cases: int, typed: bool) -> str:
    """A generated log with everything a real one has: rework, ties, repeated rows,
    stages written differently, unknown stages, rejected rows, blank lines and a totals
    row at the bottom; with ``typed``, event types (complete, cancel, note...) and notes."""
    rng = random.Random(seed)
    header = "case,activity,time,resource" + (",type,note" if typed else "")
    lines = [header]
    for case in range(1, cases + 1):
        at = rng.randrange(0, 40 * 86_400)
        for _ in range(rng.randint(1, 9)):
            if rng.random() > 0.05:
                at += rng.randrange(1, 3 * 86_400)
            stage = rng.choice(CODES + ("QC", "qc", " shipped ", "Packing", ""))
            fields = [f"C{case}" if rng.random() > 0.01 else "", stage, stamp(rng, at),
                      rng.choice(("", "Ann", " Bo ", "x" * 65, "李雷"))]
            if typed:
                fields += [rng.choice(("", "enter", "enter", "complete", "Cancel", "note", "fly")),
                           rng.choice(("", "", "checked", "返工"))]
            line = ",".join(fields)
            lines.append(line)
            if rng.random() < 0.03:
                lines.append(line)  # the same event twice
            if rng.random() < 0.01:
                lines.append("")
            if rng.random() < 0.01:
                lines.append(line + ",extra")
    lines += ["Total,,,", ""] if not typed else ["Total,,,,,", ""]
    return "\n".join(lines)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_stores(request, tmp_path) -> Iterator[tuple[str, str]]:
    """The URLs of two new stores on the same backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    base = request.getfixturevalue("pg_url")
    admin = create_engine(base)
    schemas = [f"ob_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield tuple(f"{base}{sep}options=-csearch_path%3D{schema}" for schema in schemas)
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def imported(url: str, pipeline: Pipeline, data: Path, mapping: Path, rejects: Path, **kwargs):
    engine = open_store(url, pipeline)
    try:
        report = import_file(engine, prepare_import(data, mapping, pipeline), rejects, **kwargs)
        return report, dump_store(engine, ids=True), engine.url
    finally:
        engine.dispose()


def report_facts(report) -> tuple:
    return (report.summary(), [(r.line, r.reason, r.values) for r in report.rejects],
            report.warnings, dict(report.findings), report.orders_created, report.events_added,
            report.findings_added, report.data_rows, report.blank_rows, report.totals)


PIPELINES = {
    "terminal": default_pipeline(),
    "idle": dataclasses.replace(default_pipeline(), terminal=None, complete_after_idle_days=20,
                                idle_reference="newest_event", timezone="Europe/Amsterdam"),
}


@pytest.mark.parametrize("typed", [False, True], ids=["enter-only", "typed"])
@pytest.mark.parametrize("pipeline_name", list(PIPELINES))
def test_whole_load_stores_what_batches_store(two_stores, tmp_path, typed, pipeline_name):
    pipeline = PIPELINES[pipeline_name]
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(7, 400, typed), encoding="utf-8")
    mapping.write_text(TYPED if typed else PLAIN, encoding="utf-8")
    whole, whole_rows, _ = imported(two_stores[0], pipeline, data, mapping, tmp_path / "a.csv")
    batches, batch_rows, _ = imported(two_stores[1], pipeline, data, mapping, tmp_path / "b.csv",
                                      whole=False)
    assert report_facts(whole) == report_facts(batches)
    assert whole.rejects and whole.warnings and whole.findings and whole.unchanged
    assert whole_rows == batch_rows  # one batch: the same ids too
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize("typed", [False, True], ids=["enter-only", "typed"])
def test_events_and_visits_written_a_few_at_a_time_are_the_same_rows(two_stores, tmp_path, typed,
                                                                    monkeypatch):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(8, 300, typed), encoding="utf-8")
    mapping.write_text(TYPED if typed else PLAIN, encoding="utf-8")
    pipeline = default_pipeline()
    whole, rows, _ = imported(two_stores[0], pipeline, data, mapping, tmp_path / "a.csv")
    monkeypatch.setattr(bulkload, "WRITE_ROWS", 7)  # parts end inside orders, at every place
    parts, part_rows, _ = imported(two_stores[1], pipeline, data, mapping, tmp_path / "b.csv")
    assert report_facts(parts) == report_facts(whole)
    assert part_rows == rows


def test_whole_load_and_small_batches_differ_in_ids_and_where_findings_were_found(tmp_path):
    """Batches renumber the visits and findings of an order found in two batches, and a
    finding records the order's first line in the batch that found it; the whole load
    numbers them order by order and records the order's first line in the file."""
    pipeline = PIPELINES["terminal"]
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(11, 300, True), encoding="utf-8")
    mapping.write_text(TYPED, encoding="utf-8")
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    whole, whole_rows, _ = imported(urls[0], pipeline, data, mapping, tmp_path / "a.csv")
    batches, batch_rows, _ = imported(urls[1], pipeline, data, mapping, tmp_path / "b.csv",
                                      whole=False, batch_size=97)
    assert whole.summary() == batches.summary()
    assert whole_rows != batch_rows

    def without(rows: list[str], pattern: str) -> list[str]:
        return sorted(re.sub(pattern, "", r) if r.startswith(("stage_visits", "data_quality"))
                      else r for r in rows)

    assert without(whole_rows, r"\tid=\d+") != without(batch_rows, r"\tid=\d+")
    assert without(whole_rows, r"\tid=\d+|\tline=\d+") == without(batch_rows, r"\tid=\d+|\tline=\d+")
    first_line: dict[str, int] = {}  # of each order's rows that were not rejected
    rejected = {r.line for r in whole.rejects}
    for line, row in enumerate(data.read_text("utf-8").splitlines(), start=1):
        if line not in rejected:
            first_line.setdefault(row.split(",")[0], line)
    lines = [(m[1], int(m[2])) for r in whole_rows if r.startswith("data_quality")
             for m in [re.search(r"order_number='([^']*)'.*\tline=(\d+)", r)]]
    assert lines and all(line == first_line[number] for number, line in lines)


def test_a_second_import_of_the_file_recognises_every_event(store, tmp_path):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(3, 200, True), encoding="utf-8")
    mapping.write_text(TYPED, encoding="utf-8")
    plan = prepare_import(data, mapping, store.pipeline)
    first = import_file(store.engine, plan, tmp_path / "r.csv")
    before = dump_store(store.engine, ids=True)
    again = import_file(store.engine, prepare_import(data, mapping, store.pipeline), tmp_path / "r.csv")
    assert (again.imported, again.updated, again.events_added, again.orders_created) == (0, 0, 0, 0)
    assert again.unchanged == first.imported + first.unchanged
    assert len(again.rejects) == len(first.rejects)
    assert dump_store(store.engine, ids=True) == before


def structure(engine) -> list:
    """Every table's rows and every index, to compare a store before and after."""
    names = sorted(inspect(engine).get_table_names())
    return [(name, sorted(i["name"] for i in inspect(engine).get_indexes(name))) for name in names] + [
        dump_store(engine, ids=True, audit=True)]


def test_a_failing_load_leaves_the_store_as_it_was(store, tmp_path, monkeypatch):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(5, 200, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    before = structure(store.engine)
    written = []

    def fail(conn, *args):  # after orders, events and visits were written
        written.append(conn.exec_driver_sql("select count(*) from stage_visits").scalar())
        raise OSError("disk full")

    monkeypatch.setattr(bulkload, "_write_findings", fail)
    with pytest.raises(OSError, match="disk full"):
        import_file(store.engine, prepare_import(data, mapping, store.pipeline), tmp_path / "r.csv")
    assert written and written[0] > 0
    assert structure(store.engine) == before
    monkeypatch.undo()
    report = import_file(store.engine, prepare_import(data, mapping, store.pipeline), tmp_path / "r.csv")
    assert report.events_added > 0


def test_a_process_killed_mid_load_leaves_the_store_as_it_was(sqlite_store, tmp_path):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(5, 300, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    before = structure(sqlite_store.engine)
    sqlite_store.engine.dispose()
    script = textwrap.dedent(f"""
        import os
        from datasource.importers import bulkload
        from datasource.importers.run import import_file, prepare_import
        from datasource.pipeline import default_pipeline
        from datasource.store import open_store

        def die(conn, *args):
            conn.exec_driver_sql("select count(*) from order_events")
            print("journal", conn.exec_driver_sql("PRAGMA journal_mode").scalar(), flush=True)
            # a small cache: the rows written so far go into the store file itself
            conn.exec_driver_sql("PRAGMA cache_size=5")
            conn.exec_driver_sql("CREATE TABLE spill AS SELECT * FROM order_events")
            os._exit(9)  # no rollback, no clean-up: as when the machine stops

        bulkload._write_visits = die
        pipeline = default_pipeline()
        engine = open_store({sqlite_store.url!r}, pipeline)
        import_file(engine, prepare_import({str(data)!r}, {str(mapping)!r}, pipeline), {str(tmp_path / 'r.csv')!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    # the load ran with a rollback journal (nothing else had the store open), which it
    # left behind, with pages of the load in the store file
    assert "journal delete" in done.stdout
    db = Path(sqlite_store.url.removeprefix("sqlite:///"))
    assert Path(f"{db}-journal").stat().st_size > 0
    engine = open_store(sqlite_store.url, sqlite_store.pipeline)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert structure(engine) == before
        assert "spill" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("other_open", [False, True], ids=["alone", "another connection open"])
def test_a_fresh_store_is_loaded_with_a_rollback_journal_when_alone(sqlite_store, tmp_path, monkeypatch,
                                                                    other_open):
    # Alone, the load writes its pages once (a rollback journal); with a web worker or
    # the scheduler connected SQLite refuses the switch and the load runs in WAL mode.
    # Either way the same rows are stored and the store is in WAL mode afterwards.
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(5, 200, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    modes = []
    journal = bulkload.rollback_journal

    @contextlib.contextmanager
    def watched(conn):
        with journal(conn) as switched:
            modes.append((switched, conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
            conn.commit()
            yield switched

    monkeypatch.setattr(bulkload, "rollback_journal", watched)
    sqlite_store.engine.dispose()
    other = open_store(sqlite_store.url, sqlite_store.pipeline).connect() if other_open else None
    try:
        if other is not None:
            other.exec_driver_sql("select count(*) from orders").scalar()
        report = import_file(sqlite_store.engine, prepare_import(data, mapping, sqlite_store.pipeline),
                             tmp_path / "r.csv")
    finally:
        if other is not None:
            other.close()
    assert modes == ([(False, "wal")] if other_open else [(True, "delete")])
    assert report.events_added > 500
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("select count(*) from order_events").scalar() == report.events_added


def test_a_store_with_rows_is_imported_batch_by_batch(store, tmp_path, monkeypatch):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(9, 50, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    first = tmp_path / "first.csv"
    first.write_text("case,activity,time,resource\nZ1,placed,2025-03-01T10:00:00+01:00,\n", "utf-8")
    import_file(store.engine, prepare_import(first, mapping, store.pipeline), tmp_path / "r.csv")

    def refuse(*args, **kwargs):
        raise AssertionError("a store with rows is not loaded whole")

    monkeypatch.setattr("datasource.importers.run.load", refuse)
    report = import_file(store.engine, prepare_import(data, mapping, store.pipeline), tmp_path / "r.csv")
    assert report.events_added > 0


def test_a_file_of_more_rows_than_a_whole_load_holds_goes_batch_by_batch(store, tmp_path, monkeypatch):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(9, 50, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    plan = prepare_import(data, mapping, store.pipeline)
    monkeypatch.setattr("datasource.importers.run.WHOLE_LOAD_ROWS", plan.table.data_rows - 1)

    def refuse(*args, **kwargs):
        raise AssertionError("too many rows to load whole")

    monkeypatch.setattr("datasource.importers.run.load", refuse)
    report = import_file(store.engine, plan, tmp_path / "r.csv")
    assert report.events_added > 0


@pytest.mark.parametrize("body", ["", "C1,Packing,2025-03-01T10:00:00+01:00,Ann\n"],
                         ids=["header only", "every row rejected"])
def test_a_file_with_nothing_to_store_changes_nothing(store, tmp_path, body):
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text("case,activity,time,resource\n" + body, encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    before = structure(store.engine)
    report = import_file(store.engine, prepare_import(data, mapping, store.pipeline), tmp_path / "r.csv")
    assert report.summary() == f"imported 0, updated 0, unchanged 0, rejected {len(body) and 1}, warnings 0"
    assert structure(store.engine) == before

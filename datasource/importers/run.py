"""Importing one file: check it, parse its rows, store them in batches, account for all.

``prepare_import`` reads and checks the mapping and the whole file without touching
the store; anything wrong with them raises ``ImportSetupError`` and nothing is written.
``import_file`` then parses row by row. Each data row ends up either

- *imported*: handed to ``ingest`` (possibly with warnings; findings recorded), or
- *rejected*: with its line number and reason in the rejects CSV.

and each stored row is counted once as

- *imported*: it added to the store (milestones shape: its order is new; events shape:
  its event is new),
- *updated*: it changed an order the store had (a value replaced, a milestone moved or
  added; each change is recorded in ``order_changes``, see ``batch``), or
- *unchanged*: the store already had everything it says (the same file again, or a
  row repeating an earlier row of the file),

so imported + updated + unchanged + rejected = data rows (blank rows and a totals row
at the bottom are not data rows; the totals row is reported).

Writing: rows go to the store in batches of ``batch_size`` rows, one ``ingest`` call
(one transaction) per batch. If the database fails mid-import, the batches already
committed stay valid and complete, the failing batch is rolled back, the exception
propagates, and running the same import again finishes the job: every write is
idempotent, so the rows already stored change nothing. An event log going into a fresh
store (no orders, events, visits, findings, changes or exceptions yet) is loaded whole
instead, in one transaction (``bulkload``; files of up to ``WHOLE_LOAD_ROWS`` rows): the
same stored rows, and a failure leaves the store as it was, empty.

Files: after the last batch the rejects CSV is written (always; header only when nothing
was rejected) and the warnings CSV only when there are warnings. Both are UTF-8 with a
BOM, as the dashboard's CSV exports, so Excel on a Chinese Windows reads them. The files
of an earlier import to the same paths are removed when an import starts: what lies
there afterwards always belongs to the last import, and a run that fails leaves none.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from datasource.bulk import cyclic_gc_paused
from datasource.formula_guard import defused_row
from datasource.importers.attributes import RowContext
from datasource.importers.batch import (
    Batch,
    Note,
    RowSeen,
    given_attributes,
    kept_note,
    stored_milestones,
    vanished_note,
)
from datasource.importers.bulkload import NotFresh, events_of, is_fresh, load
from datasource.importers.columns import event_columns
from datasource.importers.errors import ImportSetupError, RowRejected, RowSkipped
from datasource.importers.eventlog import EventRow, parse_event_row
from datasource.importers.limits import SOURCE_LIMIT
from datasource.importers.lock import import_lock
from datasource.importers.mapping import Mapping, check_timezone, load_mapping
from datasource.importers.milestones import MilestoneRow, parse_milestone_row, row_findings
from datasource.importers.reading import Table, is_blank, read_table
from datasource.ingest import FindingRecord, ingest
from datasource.pipeline import Pipeline

# Rows per transaction. Every commit rewrites each index page the batch touched, and
# event ids are hashes, so a batch touches pages all over the indexes: the larger the
# store, the more pages per row. 100,000-row batches took 16 % less CPU than 20,000-row
# ones on 1.65 M events (docs/benchmarks.md, "Event-log import").
BATCH_SIZE = 100_000
DUPLICATE_ORDER = "duplicate_order_id"
# The most rows a fresh store takes whole (``bulkload``): the load holds every row's
# values, about 1 KB an event (1.6 GB for 1.65 M events); a larger file goes batch by
# batch, whose memory does not grow with the file.
WHOLE_LOAD_ROWS = 5_000_000
# How long an import waits for another import into the same store to finish.
LOCK_WAIT_S = 600.0
# The encoding of dashboard.export's CSV (datasource cannot import dashboard): the BOM
# tells Excel the file is UTF-8; without it Excel on a Chinese Windows reads GBK.
CSV_ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    values: list


@dataclass
class ImportPlan:
    """A checked file and mapping, ready to import."""

    path: Path
    mapping: Mapping
    table: Table
    pipeline: Pipeline
    zone: ZoneInfo
    source: str
    context: RowContext

    @property
    def given(self) -> frozenset[str]:
        return given_attributes(self.mapping)


@dataclass
class ImportReport:
    data_rows: int
    blank_rows: int
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    findings: Counter = field(default_factory=Counter)  # distinct findings of the file by kind
    orders_created: int = 0
    orders_changed: int = 0
    changes: int = 0
    events_added: int = 0
    findings_added: int = 0
    totals: list[tuple[int, str]] = field(default_factory=list)  # (line, label) left out
    skipped: Counter = field(default_factory=Counter)  # event type as written -> rows left out
    event_types: Counter = field(default_factory=Counter)  # an event log's rows kept, by stored type
    rejects_path: Path | None = None
    warnings_path: Path | None = None  # None: there were no warnings, no file was written
    finding_uids: set[str] = field(default_factory=set, repr=False)

    @property
    def stored(self) -> int:
        """Rows accepted: imported, updated or unchanged."""
        return self.imported + self.updated + self.unchanged

    def summary(self) -> str:
        """Exactly ``imported N, updated U, unchanged S, rejected M, warnings K``."""
        return (f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {len(self.rejects)}, warnings {len(self.warnings)}")


def prepare_import(path: str | Path, mapping_path: str | Path, pipeline: Pipeline,
                   tz: str | None = None) -> ImportPlan:
    """Read the mapping and the whole file and check them; touches no database.

    The zone for naive timestamps is ``tz`` if given, else the mapping's ``timezone``,
    else the pipeline's. Raises ImportSetupError with one line on any problem.
    """
    mapping = load_mapping(mapping_path, pipeline)
    zone = check_timezone(tz or mapping.timezone or pipeline.timezone)
    table = read_table(path, mapping.encoding, mapping.delimiter, mapping.sheet,
                       header_row=mapping.header_row, expected=mapping.required_columns,
                       fill_down=mapping.fill_down,
                       date_columns=[] if mapping.date_order else mapping.date_columns)
    index = table.column_indexes(mapping.required_columns)
    if table.ambiguous is not None:
        a = table.ambiguous
        raise ImportSetupError(
            f"{Path(path).name}: column {a.column!r} has dates that read as day/month or "
            f"month/day (line {a.line}: {a.value!r}); set date_order = \"dmy\" or \"mdy\" "
            "in the mapping")
    path = Path(path)
    source = mapping.source or path.name
    if len(source) > SOURCE_LIMIT:
        raise ImportSetupError(
            f"{path.name}: the file name is {len(source)} characters long, at most "
            f"{SOURCE_LIMIT} fit the store as its source label; set source in the mapping")
    return ImportPlan(path, mapping, table, pipeline, zone, source,
                      RowContext(mapping, index, zone))


def default_rejects_path(path: str | Path) -> Path:
    """``<file name>.rejects.csv`` in the current directory."""
    return Path.cwd() / f"{Path(path).name}.rejects.csv"


def warnings_path_for(rejects_path: Path) -> Path:
    name = rejects_path.name
    if "rejects" in name:
        return rejects_path.with_name(name.replace("rejects", "warnings"))
    return rejects_path.with_name(f"{rejects_path.stem}.warnings.csv")


def import_file(engine: Engine, plan: ImportPlan, rejects_path: str | Path | None = None,
                batch_size: int = BATCH_SIZE,
                on_progress: Callable[[int], None] | None = None, *,
                whole: bool = True) -> ImportReport:
    """Import a prepared file into an initialised store (see the module docstring).

    An event log going into a fresh store is loaded whole, in one transaction
    (``bulkload``), unless ``whole`` is false: then, as into any other store, batch by
    batch (both store the same rows).

    Writes the rejects CSV (``line,reason`` then the row's own columns; header only when
    nothing was rejected) and, when there are warnings, the warnings CSV
    (``line,order_number,warning``) after the last batch, having removed both files of an
    earlier import first. ``on_progress(n)`` is called with the number of rows just processed.
    """
    with cyclic_gc_paused():
        return _import_rows(engine, plan, rejects_path, batch_size, on_progress, whole)


def _import_rows(engine: Engine, plan: ImportPlan, rejects_path: str | Path | None,
                 batch_size: int, on_progress: Callable[[int], None] | None,
                 whole: bool) -> ImportReport:
    table, mapping = plan.table, plan.mapping
    rejects = Path(rejects_path) if rejects_path else default_rejects_path(plan.path)
    warnings = warnings_path_for(rejects)
    rejects.unlink(missing_ok=True)
    warnings.unlink(missing_ok=True)

    def new_report() -> ImportReport:
        report = ImportReport(table.data_rows, table.blank_rows, totals=list(table.totals))
        report.rejects_path, report.warnings_path = rejects, warnings
        return report

    report = new_report()
    if whole and mapping.shape == "events" and table.data_rows <= WHOLE_LOAD_ROWS and _fresh(engine):
        try:
            _load_whole(engine, plan, report, on_progress)
        except NotFresh:  # another writer got there since: batch by batch after all
            report = new_report()
        else:
            _write_rejects(report, table.header)
            _write_warnings(report)
            return report
    first_line: dict[str, int] = {}  # order number -> its first line in the file
    batch = Batch(plan.source, mapping, plan.context.positions, earlier=first_line)
    done = 0
    for line, values in table.rows():
        try:
            _add_row(plan, batch, line, values, first_line, report.warnings)
        except RowRejected as exc:
            report.rejects.append(Reject(line, str(exc), values))
        except RowSkipped as exc:  # the mapping leaves the row out
            report.skipped[str(exc)] += 1
        done += 1
        if batch.rows >= batch_size:
            _flush(engine, plan, batch, report)
            batch = Batch(plan.source, mapping, plan.context.positions, earlier=first_line)
        if on_progress is not None and done % 1000 == 0:
            on_progress(1000)
    _flush(engine, plan, batch, report)
    if on_progress is not None and done % 1000:
        on_progress(done % 1000)
    _write_rejects(report, table.header)
    _write_warnings(report)
    return report


def _fresh(engine: Engine) -> bool:
    with engine.connect() as conn:
        return is_fresh(conn)


def _load_whole(engine: Engine, plan: ImportPlan, report: ImportReport,
                on_progress: Callable[[int], None] | None) -> None:
    """Import into a fresh store in one transaction (``bulkload``): the rows read as
    columns where that is certain, the others through ``_add_row`` as in a batch.
    Raises NotFresh, having written nothing, when the store turns out to have rows."""
    columns = event_columns(plan.table, plan.context, plan.pipeline)
    first_line: dict[str, int] = {}
    batch = Batch(plan.source, plan.mapping, plan.context.positions, earlier=first_line)
    rows = plan.table.rows() if columns is None else columns.others
    for line, values in rows:
        if columns is not None and is_blank(values):
            continue  # a blank line among the rows left to the row parser: not a data row
        try:
            _add_row(plan, batch, line, values, first_line, report.warnings)
        except RowRejected as exc:
            report.rejects.append(Reject(line, str(exc), values))
        except RowSkipped as exc:  # the mapping leaves the row out
            report.skipped[str(exc)] += 1
    if columns is not None:
        report.skipped.update(columns.skipped)
    events = events_of(columns, batch)
    done = report.data_rows

    def progress() -> None:
        if on_progress is not None:
            for _ in range(done // 1000):
                on_progress(1000)
            if done % 1000:
                on_progress(done % 1000)

    report.event_types.update(events.event_type)
    loaded = load(engine, plan.pipeline, events, batch, plan.source, str(plan.path), progress)
    report.imported = int(loaded.stored_rows.sum())
    report.unchanged = len(loaded.stored_rows) - report.imported
    report.findings, report.finding_uids = loaded.finding_kinds, loaded.finding_uids
    report.orders_created = loaded.orders_created
    report.events_added = loaded.events_added
    report.findings_added = loaded.findings_added


def _add_row(plan: ImportPlan, batch: Batch, line: int, values: list, first_line: dict[str, int],
             notes: list[Note]) -> None:
    width = len(plan.table.header)
    if len(values) != width:
        raise RowRejected(f"row has {len(values)} fields, the header has {width}")
    ctx = plan.context
    row: MilestoneRow | EventRow
    if plan.mapping.shape == "milestones":
        row = parse_milestone_row(line, values, ctx)
        order, findings = row.order, row_findings(row, ctx, plan.pipeline, plan.source)
        event = None
    else:
        row = parse_event_row(line, values, ctx, plan.pipeline, plan.source)
        order, findings, event = row.order, [], row.event
    number = order.order_number
    if number in first_line:
        if (plan.mapping.shape == "milestones"
                and (line, ctx.positions["order_number"]) not in plan.table.filled):
            findings.append(FindingRecord(number, DUPLICATE_ORDER,
                                          f"order id also on line {first_line[number]}",
                                          plan.source, line))
    else:
        first_line[number] = line
    # Everything is parsed: from here on the row is accounted as stored.
    if row.warnings:
        notes.extend(Note(line, number, w) for w in row.warnings)
    added = batch.add_order(line, order, notes)
    if event is not None:
        batch.events.append(event)
        batch.seen.append(RowSeen(line, number, event, added))
    elif isinstance(row, MilestoneRow):
        added = batch.add_milestones(line, number, row.times, row.raw, notes) or added
        batch.seen.append(RowSeen(line, number, None, added))
    batch.findings.extend(findings)
    batch.rows += 1


def _flush(engine: Engine, plan: ImportPlan, batch: Batch, report: ImportReport) -> None:
    if not batch.rows:
        return
    moves = []
    earlier = {n for n in batch.orders if batch.earlier.get(n, 0) < batch.orders[n].line}
    if plan.mapping.shape == "milestones":
        moves = stored_milestones(engine, batch, plan.zone, report.warnings, earlier)
        events = batch.milestone_events()
    else:
        events = batch.events
        report.event_types.update(e.event_type for e in events)
    origins = {number: (plan.source, p.line) for number, p in batch.orders.items()}
    result = ingest(engine, plan.pipeline, batch.order_records(), events,
                    findings=batch.findings, actor="import", target=str(plan.path),
                    origins=origins, update=plan.given, moves=moves,
                    change_lines=batch.change_lines(), keep=earlier)
    for message in result.warnings:
        number = _order_in(message)
        report.warnings.append(Note(batch.line_of(number) if number else None, number, message))
    for number, attribute, stored in result.vanished:
        report.warnings.append(vanished_note(batch, number, attribute, stored, plan.zone))
    for number, attribute, stored, _new in result.kept:
        report.warnings.append(kept_note(batch, number, attribute, stored, plan.zone))
    _count_rows(plan, batch, result, report)
    for f in [*batch.findings, *result.derived_findings]:  # count each finding once
        if f.uid not in report.finding_uids:
            report.finding_uids.add(f.uid)
            report.findings[f.kind] += 1
    report.orders_created += result.orders_created
    report.orders_changed += len(result.changed_orders)
    report.changes += len(result.changes)
    report.events_added += result.events_added
    report.findings_added += result.findings_added


def _count_rows(plan: ImportPlan, batch: Batch, result, report: ImportReport) -> None:
    """Each stored row of the batch as imported, updated or unchanged (module docstring)."""
    created = set(result.created)
    if plan.mapping.shape == "milestones":
        # (order, line) of the rows that changed a stored order: a value replaced, a
        # milestone moved or added (a stored order's new event)
        changed = {(c.order_number, c.line) for c in result.changes}
        for e in result.new_events:
            if e.order_number not in created:
                p = batch.orders[e.order_number]
                changed.add((e.order_number, p.lines.get(f"enter:{e.stage_code}", p.line)))
        for seen in batch.seen:
            first = seen.line == batch.orders[seen.order_number].line
            if seen.order_number in created:
                if first or seen.added:
                    report.imported += 1
                else:
                    report.unchanged += 1
            elif (seen.order_number, seen.line) in changed:
                report.updated += 1
            else:
                report.unchanged += 1
        return
    changed_numbers = {c.order_number for c in result.changes}
    stored = {id(e) for e in result.new_events}
    for seen in batch.seen:
        if id(seen.event) in stored:
            report.imported += 1
        elif (seen.order_number in changed_numbers
              and seen.line == batch.orders[seen.order_number].line):
            report.updated += 1
        else:
            report.unchanged += 1


def _order_in(message: str) -> str | None:
    """The order number of an ingest warning (``order <number>: ...``)."""
    if message.startswith("order ") and ": " in message:
        return message[len("order "):].split(": ", 1)[0]
    return None


def _write_rejects(report: ImportReport, header: list[str]) -> None:
    assert report.rejects_path is not None
    with report.rejects_path.open("w", newline="", encoding=CSV_ENCODING) as fh:
        out = csv.writer(fh)
        out.writerow(defused_row(["line", "reason", *header]))
        for r in report.rejects:
            out.writerow(defused_row([r.line, r.reason, *("" if v is None else v for v in r.values)]))


def _write_warnings(report: ImportReport) -> None:
    assert report.warnings_path is not None
    if not report.warnings:  # no file rather than an empty one that looks like news
        report.warnings_path = None
        return
    with report.warnings_path.open("w", newline="", encoding=CSV_ENCODING) as fh:
        out = csv.writer(fh)
        out.writerow(["line", "order_number", "warning"])
        for n in report.warnings:
            out.writerow(defused_row(["" if n.line is None else n.line, n.order_number or "", n.message]))


SQLITE_IMPORT_CACHE_KIB = 65_536


def with_import_cache(engine: Engine) -> Engine:
    """``engine`` with a 64 MiB page cache on each SQLite connection (the default is 2 MiB).

    A bulk import touches index pages all over the file (event ids are hashes), and with
    the small cache a third of SQLite's time goes to re-reading evicted pages. The
    connections already pooled (by ``open_store``) are closed, so every connection of
    the import has the cache.
    """
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _bigger_cache(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
            cur.close()

        engine.dispose()
    return engine


def run_import(database_url: str, pipeline: Pipeline, path: str | Path, mapping_path: str | Path,
               tz: str | None = None, rejects_path: str | Path | None = None,
               batch_size: int = BATCH_SIZE, wait_s: float = LOCK_WAIT_S,
               on_start: Callable[[str, int], None] | None = None,
               on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """What ``orderboard import`` does: check file and mapping (raising ImportSetupError
    before the database is opened), open the store (``open_store``: created when missing,
    brought up to the schema), wait for any other import into it (``importers.lock``: at
    most ``wait_s``, then ``ImportBusy``), import. ``on_start(file name, data rows)`` and
    ``on_progress(rows)`` let the caller show progress (the command line's bar)."""
    from datasource.store import open_store

    plan = prepare_import(path, mapping_path, pipeline, tz)
    engine = with_import_cache(open_store(database_url, pipeline))
    try:
        with import_lock(engine, wait_s):
            if on_start is not None:
                on_start(plan.path.name, plan.table.data_rows)
            return import_file(engine, plan, rejects_path, batch_size, on_progress=on_progress)
    finally:
        engine.dispose()

"""The stored rows of every table of an order store as canonical, sorted text, to check
that a change to the importer stores exactly what it stored before.

    # import a file into a fresh SQLite store and write its dump
    .venv/bin/python bench/bench_import_dump.py FILE --mapping MAPPING.toml \
        [--config PIPELINE.toml | --bench-pipeline] --out DUMP.txt [--batches [--batch-size N]]
    diff DUMP-before.txt DUMP-after.txt

Each row is one line ``table<TAB>column=value...``, the lines of a table sorted. A row's
order is named by its order number rather than its ``order_id``; the instants an import
stamps with its own clock (``recorded_at``, ``updated_at``, ``found_at``, ``changed_at``,
the audit log's ``at``, the data version) read ``<now>`` (or ``None``); ``--ids`` keeps
the tables' own ids (they are left out by default: a store holds the same rows whatever
ids they got). The audit log is left out unless ``--audit`` is given (it records how
an import wrote, batch by batch).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Engine, select

from datasource.schema import (
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderChange,
    OrderEvent,
    OrderException,
    StageRow,
    StageVisit,
    StoreMeta,
)

CLOCK = {"recorded_at", "updated_at", "found_at", "changed_at"}
TABLES = (Order, OrderEvent, StageVisit, DataQualityFinding, OrderChange, OrderException,
          StageRow, StoreMeta)


def dump_store(engine: Engine, ids: bool = False, audit: bool = False) -> list[str]:
    """The canonical lines of every table (see the module docstring)."""
    lines: list[str] = []
    with engine.connect() as conn:
        numbers = dict(conn.execute(select(Order.id, Order.order_number)).all())
        for model in (*TABLES, *((AuditEntry,) if audit else ())):
            table = model.__table__
            rows = []
            for row in conn.execute(select(table)):
                cells = []
                for name, value in row._mapping.items():
                    if name == "id" and not ids:
                        continue
                    if name == "order_id":
                        name, value = "order", numbers.get(value, f"?{value}")
                    elif name in CLOCK or (model is AuditEntry and name == "at"):
                        value = None if value is None else "<now>"
                    elif model is StoreMeta and name == "value" and row.key == "data_version":
                        value = "<version>"
                    cells.append(f"{name}={value!r}")
                rows.append(f"{table.name}\t" + "\t".join(cells))
            lines.extend(sorted(rows))
    return lines


def main(argv: list[str] | None = None) -> int:
    from datasource.importers.run import BATCH_SIZE, import_file, prepare_import, with_import_cache
    from datasource.pipeline import load_pipeline
    from datasource.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--mapping", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="pipeline TOML (default: the packaged one)")
    parser.add_argument("--bench-pipeline", action="store_true",
                        help="the pipeline of bench_import_eventlog.py")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--batches", action="store_true",
                        help="import batch by batch even into the fresh store")
    parser.add_argument("--ids", action="store_true", help="keep the tables' ids")
    parser.add_argument("--audit", action="store_true", help="dump the audit log too")
    args = parser.parse_args(argv)
    if args.bench_pipeline:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_import_eventlog import pipeline as bench_pipeline

        pipe = bench_pipeline()
    else:
        pipe = load_pipeline(args.config)
    with tempfile.TemporaryDirectory(prefix="dump_") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'store.db'}"
        engine = with_import_cache(open_store(url, pipe))
        report = import_file(engine, prepare_import(args.file, args.mapping, pipe),
                             Path(tmp) / "rejects.csv", batch_size=args.batch_size,
                             whole=not args.batches)
        lines = dump_store(engine, ids=args.ids, audit=args.audit)
        engine.dispose()
    report_line = (f"report\t{report.summary()}\tevents_added={report.events_added}\t"
                   f"orders_created={report.orders_created}\tfindings={dict(report.findings)}\t"
                   f"findings_added={report.findings_added}")
    rejects = [f"reject\t{r.line}\t{r.reason}" for r in report.rejects]
    warnings = [f"warning\t{w.line}\t{w.order_number}\t{w.message}" for w in report.warnings]
    args.out.write_text("\n".join([report_line, *rejects, *warnings, *lines]) + "\n",
                        encoding="utf-8")
    print(f"{args.out}: {len(lines)} rows; {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

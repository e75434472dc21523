"""Benchmark: import a 100,000-row milestone CSV into a fresh SQLite store.

Generates a seeded file (one row per order: placed, reviewed, paid, shipped, received
timestamps, a promised date, customer, channel, line, quantity, amount, status; about 2%
cancelled and a few hundred out-of-order milestones so findings are written too), then
runs the same code path as ``orderboard import`` (``prepare_import`` + ``import_file``,
batches of 20,000 rows through ``ingest``) and reports wall time and peak memory.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--seed 7] [--profile]
    .venv/bin/python bench/bench_import.py --rows 20000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Peak memory is the process's maximum resident set size (``ru_maxrss``), which includes
the interpreter and imported libraries; ``--tracemalloc`` also reports the peak of
Python allocations (slower: tracing costs time, so the wall time of that run is not
the figure to quote).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from datasource.importers.run import import_file, prepare_import, with_import_cache
from datasource.pipeline import default_pipeline
from datasource.store import open_store

MAPPING = """
shape = "milestones"
timezone = "Asia/Shanghai"
promised_is_date = true
source = "bench"

[columns]
order_number = "order_no"
customer = "customer"
channel = "channel"
production_line = "line"
quantity = "qty"
amount = "amount"
promised = "promised"
status = "status"

[milestones]
placed = "placed_at"
reviewed = "reviewed_at"
paid = "paid_at"
shipped = "shipped_at"
received = "received_at"

[status]
cancelled = ["cancelled"]
completed = ["done"]
"""
COLUMNS = ["order_no", "customer", "channel", "line", "qty", "amount", "promised", "status",
           "placed_at", "reviewed_at", "paid_at", "shipped_at", "received_at"]


def write_csv(path: Path, rows: int, seed: int) -> None:
    """``rows`` orders placed over a year; later milestones missing for open orders."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    fmt = "%Y-%m-%d %H:%M:%S"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for i in range(rows):
            placed = start + timedelta(seconds=rng.randrange(365 * 86400))
            times = [placed]
            for mean_h in (3, 20, 60, 72):  # reviewed, paid, shipped, received
                times.append(times[-1] + timedelta(hours=rng.expovariate(1 / mean_h)))
            reached = rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 5, 10, 80])[0]
            if rng.random() < 0.003:  # a milestone recorded before the previous one
                times[3] = times[2] - timedelta(hours=2)
            cells = [t.strftime(fmt) if k < reached else "" for k, t in enumerate(times)]
            status = "cancelled" if rng.random() < 0.02 else ("done" if reached == 5 else "open")
            promised = (placed + timedelta(days=rng.randint(5, 12))).strftime("%Y-%m-%d")
            out.writerow([
                f"B{i:07d}", f"C{rng.randrange(2000):04d}", rng.choice(["online", "dealer", "direct"]),
                rng.choice(["A", "B"]), rng.randint(1, 500), round(rng.uniform(10, 5000), 2),
                promised, status, *cells,
            ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--tracemalloc", action="store_true", help="also report traced Python peak")
    parser.add_argument("--postgres", metavar="URL", help="import into a fresh schema of this "
                        "PostgreSQL database instead (created and dropped by the script), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    pipeline = default_pipeline()
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(tmp)
        data, mapping = folder / "orders.csv", folder / "mapping.toml"
        write_csv(data, args.rows, args.seed)
        mapping.write_text(MAPPING, encoding="utf-8")
        with store_url(args.postgres, folder) as url:
            return run(args, pipeline, folder, data, url)


@contextmanager
def store_url(postgres: str | None, folder: Path) -> Iterator[str]:
    """A fresh SQLite file in ``folder``, or a fresh schema of ``postgres`` (dropped after)."""
    if not postgres:
        yield f"sqlite:///{folder / 'store.db'}"
        return
    schema = f"ob_bench_import_{os.getpid()}"
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in postgres else "?"
        yield f"{postgres}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def run(args, pipeline, folder: Path, data: Path, url: str) -> int:
    """Import ``data`` into the store at ``url`` as ``orderboard import`` does; print figures."""
    engine = with_import_cache(open_store(url, pipeline))
    if args.tracemalloc:
        tracemalloc.start()
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    t0, cpu0 = time.perf_counter(), time.process_time()
    plan = prepare_import(data, folder / "mapping.toml", pipeline)
    report = import_file(engine, plan, folder / "rejects.csv")
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if profiler is not None:
        profiler.disable()
        import pstats
        top = int(os.environ.get("BENCH_TOP", "25"))
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(top)
    traced = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    engine.dispose()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"rows: {args.rows} (seed {args.seed}, {data.stat().st_size / 1e6:.1f} MB CSV)")
    print(report.summary())
    print(f"orders created: {report.orders_created}, events: {report.events_added}, "
          f"findings: {sum(report.findings.values())}")
    print(f"wall time: {wall:.2f} s ({args.rows / wall:,.0f} rows/s); CPU time of this process: {cpu:.2f} s")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"peak RSS: {maxrss_mb:.0f} MB")
    print(f"store: {engine.dialect.name}")
    if traced is not None:
        print(f"peak traced Python allocations: {traced / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

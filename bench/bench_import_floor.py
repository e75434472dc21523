"""Benchmark: the least any import into SQLite costs, beside pandas' reading of the file.

The event-log import is compared with ``pandas.read_csv`` + ``pandas.to_datetime(...,
utc=True)`` of the timestamp column (``bench_import_eventlog.py``). This script measures,
in one process on the same generated file, what storing the file's rows in a SQLite
file costs with nothing else done: no check of any value, no event id, no order, no
visit, no finding, no index.

    .venv/bin/python bench/bench_import_floor.py                  # 1,650,000 events
    .venv/bin/python bench/bench_import_floor.py --events 165000

Three routes, each into a fresh SQLite file in WAL mode (the store's journal), committed:

- ``pandas to_sql``: ``read_csv`` + ``to_datetime``, then ``DataFrame.to_sql`` of the
  four columns (pandas' own way into SQLite);
- ``executemany``: the four columns as text, one prepared ``INSERT`` for all rows
  through ``sqlite3``'s ``executemany`` (the cheapest way from Python), timestamps
  rendered with pandas;
- ``executemany + one index``: the same, then an index on case and time (the store
  needs several: a case's events in time order, a stage's visits, ids).

Prints CPU and wall seconds of each route and its ratio to pandas' reading alone.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from bench_import_eventlog import write_log  # the same generated log (bench/ is the script's folder)


def timed(work) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def fresh(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_650_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_floor_") as tmp:
        folder = Path(tmp)
        data = folder / "log.csv"
        rows = write_log(data, args.events, args.seed)
        base_cpu, base_wall = timed(lambda: read(data))

        def to_sql() -> None:
            frame = read(data)
            conn = fresh(folder / "to_sql.db")
            frame.to_sql("events", conn, index=False, chunksize=200_000)
            conn.commit()
            conn.close()

        def executemany(index: bool) -> None:
            frame = read(data)
            stamps = frame["time"].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            values = zip(frame["case"].tolist(), frame["activity"].tolist(), stamps.tolist(),
                         frame["resource"].tolist(), strict=True)
            conn = fresh(folder / f"executemany{int(index)}.db")
            conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, case_id TEXT, activity TEXT, "
                         "at TEXT, resource TEXT)")
            conn.executemany("INSERT INTO events (case_id, activity, at, resource) VALUES (?, ?, ?, ?)",
                             values)
            if index:
                conn.execute("CREATE INDEX ix_events_case_at ON events (case_id, at)")
            conn.commit()
            conn.close()

        print(f"events: {rows:,} ({data.stat().st_size / 1e6:.1f} MB CSV, seed {args.seed}); "
              f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        print(f"{'route':<42}{'CPU s':>8}{'wall s':>8}{'x pandas CPU':>14}")
        print(f"{'pandas read_csv + to_datetime (the base)':<42}{base_cpu:>8.2f}{base_wall:>8.2f}{1:>14.2f}")
        for name, work in (("... + DataFrame.to_sql, no index", to_sql),
                           ("... + executemany, no index", lambda: executemany(False)),
                           ("... + executemany + one index", lambda: executemany(True))):
            cpu, wall = timed(work)
            print(f"{name:<42}{cpu:>8.2f}{wall:>8.2f}{cpu / base_cpu:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: import a process-mining event log (CSV, one row per event) into a fresh
SQLite store, side by side with ``pandas.read_csv`` + ``pandas.to_datetime(..., utc=True)``
of its timestamp column on the same file, in one run.

The log is generated (seeded) in the shape of real help-desk and process logs: cases of
1-12 events over 14 activities, activities repeating inside a case, some events sharing
their timestamp with the previous one, timestamps with a UTC offset (+01:00/+02:00 mixed
across a clock change), a resource column. Default size: 1,650,000 events.

    .venv/bin/python bench/bench_import_eventlog.py                 # 1.65M events
    .venv/bin/python bench/bench_import_eventlog.py --events 165000 # the tenth, for scaling
    .venv/bin/python bench/bench_import_eventlog.py --profile       # where the time goes (cProfile)
    .venv/bin/python bench/bench_import_eventlog.py --parts         # ... part by part (timers)

Prints the pandas time, the import time (the same code path as ``orderboard import``:
``open_store``, ``prepare_import``, ``import_file``) and their ratio, each as wall and
as CPU seconds of the process (on a shared machine wall time measures the load), peak
RSS and the load average, and checks that every event was stored.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from datasource.importers.run import import_file, prepare_import, with_import_cache
from datasource.pipeline import Pipeline, Stage
from datasource.schema import OrderEvent
from datasource.store import open_store

ACTIVITIES = (
    "Assign seriousness", "Closed", "Create SW anomaly", "DUPLICATE", "INVALID", "Insert ticket",
    "RESOLVED", "Require upgrade", "Resolve SW anomaly", "Resolve ticket",
    "Schedule intervention", "Take in charge ticket", "VERIFIED", "Wait",
)
MAPPING = """
shape = "events"
source = "bench"
[columns]
order_number = "case"
stage = "activity"
timestamp = "time"
operator = "resource"
"""


def pipeline() -> Pipeline:
    return Pipeline(tuple(Stage(a, a, a, i, 24.0, "Help desk") for i, a in enumerate(ACTIVITIES)),
                    terminal=None, timezone="Europe/Amsterdam")


def write_log(path: Path, events: int, seed: int) -> int:
    """Write about ``events`` rows (whole cases); returns the exact number written."""
    rng = random.Random(seed)
    amsterdam = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))
    start = datetime(2019, 1, 1)
    written = 0
    case = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["case", "activity", "time", "resource"])
        while written < events:
            case += 1
            t = start + timedelta(seconds=rng.randrange(4 * 365 * 86400))
            n = min(rng.randint(1, 12), events - written)
            for _ in range(n):
                if rng.random() > 0.01:  # one event in a hundred ties with the previous one
                    t += timedelta(seconds=int(rng.expovariate(1 / 86400)))
                tz = amsterdam[1] if 3 < t.month < 11 else amsterdam[0]
                out.writerow([f"Case {case}", rng.choice(ACTIVITIES),
                              t.replace(tzinfo=tz).isoformat(), f"Value {rng.randrange(25)}"])
            written += n
    return written


def time_pandas(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``read_csv`` + ``to_datetime(utc=True)`` of the timestamps."""
    import pandas as pd

    t0, cpu0 = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return time.perf_counter() - t0, time.process_time() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_650_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--parts", action="store_true",
                        help="print the CPU and wall seconds of each part of a whole load")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_eventlog_") as tmp:
        folder = Path(tmp)
        data, mapping = folder / "log.csv", folder / "mapping.toml"
        rows = write_log(data, args.events, args.seed)
        mapping.write_text(MAPPING, encoding="utf-8")
        pandas_s, pandas_cpu = time_pandas(data)
        pipe = pipeline()
        engine = with_import_cache(open_store(f"sqlite:///{folder / 'store.db'}", pipe))
        prepare = prepare_import
        if args.parts:
            import import_parts
            import_parts.install()
            prepare = import_parts.timed("prepare_import", prepare_import)
        profiler = None
        if args.profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        t0, cpu0 = time.perf_counter(), time.process_time()
        report = import_file(engine, prepare(data, mapping, pipe), folder / "rejects.csv")
        import_s, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if profiler is not None:
            profiler.disable()
            import pstats
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
                int(os.environ.get("BENCH_TOP", "30")))
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(OrderEvent)).scalar()
        engine.dispose()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # A row repeating an event exactly (same case, activity, instant) is the same
        # event sent twice: stored once.
        print(f"events: {rows:,} ({data.stat().st_size / 1e6:.1f} MB CSV, seed {args.seed}); "
              f"stored {stored:,} distinct; {report.summary()}")
        print(f"pandas read_csv + to_datetime(utc=True): {pandas_s:.2f} s wall, {pandas_cpu:.2f} s CPU")
        print(f"import into SQLite: {import_s:.2f} s wall, {cpu:.2f} s CPU "
              f"({rows / import_s:,.0f} events/s)")
        print(f"ratio import / pandas: {import_s / pandas_s:.2f} wall, {cpu / pandas_cpu:.2f} CPU")
        print(f"peak RSS: {maxrss:.0f} MB; load average (1 min): {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} CPUs")
        if args.parts:
            print(import_parts.report(cpu, import_s))
        return 0 if stored == report.events_added and not report.rejects else 1


if __name__ == "__main__":
    sys.exit(main())

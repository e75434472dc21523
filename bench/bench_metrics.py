"""Benchmark of the wall summary on a store of 1,000,000 orders (about 8.8 M events).

    python bench/bench_metrics.py                  # build once (cached), then measure
    python bench/bench_metrics.py --backend sqlite # one backend
    python bench/bench_metrics.py --rebuild        # rebuild the stores
    python bench/bench_metrics.py --drop-postgres  # remove the PostgreSQL bench database

The store is built once and reused deliberately: SQLite in ``bench/out/bench_<n>.db``
(gitignored), PostgreSQL in its own database ``orderboard_bench`` on 127.0.0.1 (created
by this script; ``--drop-postgres`` removes it). A ``store_meta`` row ``bench_orders``
marks a finished build, ``bench_end`` the end of the history, used as "now".

Building: ``datasource.demo.generate`` in chunks of 50,000 orders over the same year
(different seeds; order numbers get a chunk prefix so they stay unique), visits and order
status derived with the same functions ingest uses (``datasource.visits``), then bulk
loaded (executemany on SQLite, COPY on PostgreSQL) and analysed.

Measuring: each (backend, window) runs in a fresh Python process that imports the
package, warms the connection with one small query, then times ``compute_summary`` three
times; reported are the first (cold) and the best run and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_ADMIN = os.environ.get("ORDERBOARD_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB = "orderboard_bench"
CHUNK = 50_000
SQLITE_FMT = "%Y-%m-%d %H:%M:%S.%f"


def pg_url() -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB


def sqlite_url(n: int) -> str:
    return f"sqlite:///{OUT / f'bench_{n}.db'}"


def _naive(t: datetime | None) -> datetime | None:
    return None if t is None else t.astimezone(timezone.utc).replace(tzinfo=None)


def chunk_rows(data, prefix: str, first_id: int, pipeline) -> dict[str, list[tuple]]:
    """Table rows (naive UTC datetimes) of one generated chunk, with explicit ids."""
    from datasource.visits import EventFact, derive_order

    ids = {o.order_number: first_id + k for k, o in enumerate(data.orders)}
    facts: dict[str, list[EventFact]] = defaultdict(list)
    events = []
    for e in data.events:
        facts[e.order_number].append(EventFact(e.stage_code, e.event_type, e.occurred_at, e.operator))
        events.append((f"{prefix}{e.stable_uid()}", ids[e.order_number], e.stage_code, e.event_type,
                       _naive(e.occurred_at), e.operator, e.note, "bench"))
    orders, visits = [], []
    for o in data.orders:
        oid = ids[o.order_number]
        vs, st, _findings = derive_order(facts[o.order_number], pipeline, o.cancelled)
        orders.append((oid, prefix + o.order_number, o.customer, o.channel, o.production_line,
                       o.product_line, o.owner, o.quantity, o.amount, o.priority,
                       _naive(o.promised_at), st.status, st.current_stage, _naive(st.current_since),
                       _naive(st.placed_at), _naive(st.completed_at), _naive(st.cancelled_at),
                       o.cancelled, "bench"))
        visits.extend((oid, v.stage_code, v.visit_no, v.is_rework, _naive(v.entered_at),
                       _naive(v.left_at), v.duration_s, v.operator) for v in vs)
    exceptions = [
        (f"{prefix}{x.uid}", ids[x.order_number], x.stage_code, x.kind, x.severity,
         _naive(x.opened_at), _naive(x.acknowledged_at), _naive(x.resolved_at), x.owner, x.note)
        for x in data.exceptions
    ]
    return {"orders": orders, "order_events": events, "stage_visits": visits, "exceptions": exceptions}


COLUMNS = {
    "orders": ("id", "order_number", "customer", "channel", "production_line", "product_line",
               "owner", "quantity", "amount", "priority", "promised_at", "status",
               "current_stage", "current_since", "placed_at", "completed_at", "cancelled_at",
               "cancelled_flag", "source"),
    "order_events": ("event_uid", "order_id", "stage_code", "event_type", "occurred_at",
                     "operator", "note", "source"),
    "stage_visits": ("order_id", "stage_code", "visit_no", "is_rework", "entered_at", "left_at",
                     "duration_s", "operator"),
    "exceptions": ("exception_uid", "order_id", "stage_code", "kind", "severity", "opened_at",
                   "acknowledged_at", "resolved_at", "owner", "note"),
}


def _load_sqlite(engine, rows: dict[str, list[tuple]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, data in rows.items():
            cols = COLUMNS[table]
            fixed = [tuple(v.strftime(SQLITE_FMT) if isinstance(v, datetime) else v for v in r) for r in data]
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", fixed
            )
        raw.commit()
    finally:
        raw.close()


def _load_postgres(engine, rows: dict[str, list[tuple]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, data in rows.items():
            with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                for r in data:
                    copy.write_row(r)
        raw.commit()
    finally:
        raw.close()


def _meta(engine, key: str) -> str | None:
    from sqlalchemy import inspect, select

    from datasource.schema import StoreMeta

    if not inspect(engine).has_table("store_meta"):
        return None
    with engine.connect() as conn:
        return conn.execute(select(StoreMeta.value).where(StoreMeta.key == key)).scalar_one_or_none()


def _ensure_pg_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("select 1 from pg_database where datname = :d"), {"d": PG_DB}).scalar():
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()


def drop_postgres() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}"'))
    admin.dispose()


def sync_indexes(engine, backend: str) -> None:
    """Bring a cached store's indexes to the current schema: create missing ones, rebuild
    those whose columns changed (a store built before an index changed)."""
    from sqlalchemy import inspect, text

    from datasource.schema import Base

    changed = False
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        have = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            want = [c.name for c in index.columns]
            if have.get(index.name) == want:
                continue
            print(f"[{backend}] index {index.name}: {have.get(index.name)} -> {want}", flush=True)
            if index.name in have:
                with engine.begin() as conn:
                    conn.execute(text(f"DROP INDEX {index.name}"))
            index.create(engine)
            changed = True
    if changed:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if backend == "sqlite" else "VACUUM ANALYZE"))


def build(backend: str, n: int, rebuild: bool) -> None:
    from sqlalchemy import insert, text

    from datasource.demo import generate
    from datasource.pipeline import default_pipeline
    from datasource.schema import Base, StoreMeta
    from datasource.store import make_engine, open_store

    pipeline = default_pipeline()
    OUT.mkdir(exist_ok=True)
    if backend == "sqlite":
        url = sqlite_url(n)
        if rebuild and (OUT / f"bench_{n}.db").exists():
            for suffix in ("", "-wal", "-shm"):
                Path(str(OUT / f"bench_{n}.db") + suffix).unlink(missing_ok=True)
    else:
        if rebuild:
            drop_postgres()
        _ensure_pg_database()
        url = pg_url()
    engine = make_engine(url)
    if _meta(engine, "bench_orders") == str(n):
        print(f"[{backend}] store of {n} orders already built: {url}", flush=True)
        sync_indexes(engine, backend)
        return
    Base.metadata.drop_all(engine)
    engine.dispose()
    engine = open_store(url, pipeline)
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(days=365)
    t0 = time.perf_counter()
    loaded = 0
    load = _load_sqlite if backend == "sqlite" else _load_postgres
    for k in range(0, n, CHUNK):
        size = min(CHUNK, n - k)
        data = generate(seed=1000 + k // CHUNK, n_orders=size, start=start, end=end, pipeline=pipeline)
        rows = chunk_rows(data, f"B{k // CHUNK:02d}-", k + 1, pipeline)
        load(engine, rows)
        loaded += size
        print(f"[{backend}] {loaded} orders, {len(rows['order_events'])} events in chunk, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    if backend == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))"))
            conn.execute(text("VACUUM ANALYZE"))
    with engine.begin() as conn:
        conn.execute(insert(StoreMeta), [{"key": "bench_end", "value": end.isoformat()},
                                         {"key": "bench_orders", "value": str(n)}])
    print(f"[{backend}] built in {time.perf_counter() - t0:.0f} s: {url}", flush=True)
    engine.dispose()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it is not inherited
    from the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(backend: str, n: int, days: int, repeat: int = 3) -> dict:
    """Run in a fresh process: time compute_summary for the last ``days`` local days."""
    from sqlalchemy import text

    from datasource.pipeline import default_pipeline
    from datasource.store import make_engine
    from metrics.summary import compute_summary
    from metrics.window import Window

    pipeline = default_pipeline()
    engine = make_engine(sqlite_url(n) if backend == "sqlite" else pg_url())
    now = datetime.fromisoformat(_meta(engine, "bench_end"))
    with engine.connect() as conn:
        conn.execute(text("select 1"))
    window = Window.last_days(days, now, pipeline.timezone)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        summary = compute_summary(engine, pipeline, window, None, now)
        times.append(time.perf_counter() - t0)
    peak_mb = peak_rss_mb()
    result = {
        "backend": backend, "days": days, "first_s": round(times[0], 3),
        "best_s": round(min(times), 3), "peak_rss_mb": round(peak_mb),
        "completed": summary.delay.completed, "wip": summary.wip,
        "visits_ended": int(summary.stages["visits"].sum()),
    }
    result.update(page_timing(engine, pipeline, window, now, summary))
    return result


def page_timing(engine, pipeline, window, now, summary) -> dict:
    """First sorted page (50 rows) of the drill-down of the busiest stage: its visits in
    the window (longest first) and its WIP (longest waiting first)."""
    from metrics.drilldown import orders_behind_page

    busiest = summary.stages.sort_values("visits").iloc[-1]["code"]
    out = {"page_stage": busiest}
    for what, sort in (("stage_visits", "-time_in_stage_h"), ("stage_wip", "-age_in_stage_h")):
        best, total = float("inf"), 0
        for _ in range(3):
            t0 = time.perf_counter()
            _, total = orders_behind_page(engine, pipeline, what, window, None, now, busiest,
                                          sort=sort, offset=0, limit=50)
            best = min(best, time.perf_counter() - t0)
        out[f"{what}_page_s"] = round(best, 3)
        out[f"{what}_total"] = total
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--drop-postgres", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # child process: days
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    if args.drop_postgres:
        drop_postgres()
        return
    if args.measure:
        print(json.dumps(measure(backends[0], args.orders, args.measure)))
        return
    for backend in backends:
        build(backend, args.orders, args.rebuild)
    if args.build_only:
        return
    results = []
    for backend in backends:
        for days in (7, 90):
            out = subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--orders", str(args.orders),
                 "--measure", str(days)], capture_output=True, text=True, check=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    (OUT / "bench_metrics.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark of one evaluation of every alert rule kind (``metrics.alert_rules``).

    python bench/bench_alerts.py                       # 20,000-order demo store, SQLite
    python bench/bench_alerts.py --orders 100000       # a bigger store (built once, cached)
    python bench/bench_alerts.py --db postgresql+psycopg://postgres@127.0.0.1:5432/orderboard_bench
    python bench/bench_alerts.py --db sqlite:///bench/out/bench_1000000.db --steady

The SQLite store is a demo history (``datasource.demo``) of ``--orders`` orders in
``bench/out/alerts_<n>.db`` (gitignored), built once and reused. ``--db`` measures an
existing store instead (for example the 1M-order stores of ``bench/bench_metrics.py``),
with "now" its newest event. Rules: one of each kind (stage_sla with a warning share,
overdue, due_soon, at_risk, exception_open, a whole-flow metric and a per-stage metric).

Measured, three times each (``--runs``): ``evaluate_at`` (the reads of one evaluation,
every kind) and ``AlertRunner.run(dry_run=True)`` (the reads, the state changes written
inside a transaction that is rolled back, and what is due): first and best runs; then
one evaluation kind by kind. With ``--steady``, also real runs as the worker makes them,
telling a local webhook receiver: the first (every alert new: instances written,
messages sent) and the next ones (nothing changed: the steady state of a worker). The
alert state they write is removed at the end; ``--steady`` refuses a store that already
holds alert state.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = [
    {"name": "sla", "kind": "stage_sla", "warning_share": 0.8, "channels": ["ops"], "to": ["order_owner"]},
    {"name": "overdue", "kind": "overdue", "channels": ["ops"]},
    {"name": "due_soon", "kind": "due_soon", "within": "24h", "channels": ["ops"]},
    {"name": "at_risk", "kind": "at_risk", "channels": ["ops"]},
    {"name": "exceptions", "kind": "exception_open", "after": "30m", "channels": ["ops"]},
    {"name": "delay_rate", "kind": "metric", "metric": "delay_rate", "level": "warning", "channels": ["ops"]},
    {"name": "stage_share", "kind": "metric", "metric": "stage_over_sla_now", "level": "critical",
     "channels": ["ops"]},
]


def build(orders: int) -> str:
    from datasource.demo import generate, seed_store, store_is_empty
    from datasource.pipeline import default_pipeline
    from datasource.store import open_store

    (HERE / "out").mkdir(exist_ok=True)
    url = f"sqlite:///{HERE / 'out' / f'alerts_{orders}.db'}"
    pipeline = default_pipeline()
    engine = open_store(url, pipeline)
    if store_is_empty(engine):
        started = time.perf_counter()
        seed_store(engine, pipeline, generate(seed=11, n_orders=orders, pipeline=pipeline))
        print(f"built {url} in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return url


def newest_event(engine) -> datetime:
    from sqlalchemy import func, select

    from datasource.schema import OrderEvent

    with engine.connect() as conn:
        return conn.execute(select(func.max(OrderEvent.occurred_at))).scalar_one()


def timed(fn, runs: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], min(times)


def start_receiver() -> tuple[ThreadingHTTPServer, str]:
    """A local webhook that answers 200 to every POST (a channel that works)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/hook"


ALERT_TABLES = ("alert_notices", "alert_deliveries", "alert_groups", "alert_instances")


def alert_rows(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return sum(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ALERT_TABLES)


def remove_alert_state(engine) -> None:
    from sqlalchemy import text

    from datasource.alert_store import EVALUATED_KEY

    with engine.begin() as conn:
        for table in ALERT_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM store_meta WHERE key = :k"), {"k": EVALUATED_KEY})


def per_kind(engine, pipeline, conditions, now) -> None:
    from metrics.alert_rules import Evaluation, evaluate
    from metrics.catalog import CATALOG

    ev = Evaluation(engine, pipeline, CATALOG, now)
    parts = []
    for name, condition in conditions.items():
        started = time.perf_counter()
        evaluate(ev, condition)
        parts.append(f"{name} {time.perf_counter() - started:.3f}")
    print("one evaluation, kind by kind (s): " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--db", help="measure this existing store instead of building one")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steady", action="store_true", help="also real runs (see above)")
    args = parser.parse_args()

    from datasource.settings import Settings
    from datasource.store import open_store
    from metrics.alert_rules import evaluate_at
    from metrics.catalog import CATALOG
    from orderboard.alerts.config import alert_config
    from orderboard.alerts.runner import AlertRunner

    url = args.db or build(args.orders)
    server, hook = start_receiver()
    tables = {"alert_channels": [{"name": "ops", "kind": "webhook", "url": hook}], "alert_rules": RULES}
    settings = Settings(database_url=url, alert_tables=tables)
    config = alert_config(settings)
    engine = open_store(url, settings.pipeline)
    now = newest_event(engine) if args.db else datetime.now(timezone.utc)
    conditions = {r.name: r.condition for r in config.rules}
    started = time.perf_counter()
    found = evaluate_at(engine, settings.pipeline, CATALOG, conditions, now)
    print(f"the process's first evaluation (cold): {time.perf_counter() - started:.2f} s")
    print("findings: " + ", ".join(f"{k} {len(v)}" for k, v in found.items()))
    first, best = timed(lambda: evaluate_at(engine, settings.pipeline, CATALOG, conditions, now), args.runs)
    print(f"evaluate_at (all kinds): first {first:.2f} s, best {best:.2f} s")
    runner = AlertRunner(engine, settings, config)
    first, best = timed(lambda: runner.run(dry_run=True, now=now), args.runs)
    print(f"run --dry-run (reads + state changes rolled back + due): first {first:.2f} s, best {best:.2f} s")
    per_kind(engine, settings.pipeline, conditions, now)
    if args.steady:
        if alert_rows(engine):
            print("--steady: the store already holds alert state; not measured")
        else:
            try:
                started = time.perf_counter()
                report = runner.run(now=now)
                print(f"real run, every alert new: {time.perf_counter() - started:.2f} s "
                      f"({sum(r.new_firing for r in report.rules)} firing, {len(report.outcome.sent)} messages)")
                first, best = timed(lambda: runner.run(now=now), args.runs)
                print(f"real run, steady (nothing new): first {first:.2f} s, best {best:.2f} s")
            finally:
                remove_alert_state(engine)
    server.shutdown()
    engine.dispose()


if __name__ == "__main__":
    main()

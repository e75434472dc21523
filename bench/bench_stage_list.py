"""Benchmark of the stage list: the first sorted page of a stage holding 50,000 orders, on
the 1,000,000-order store of ``bench/bench_metrics.py``.

    python bench/bench_metrics.py --build-only      # once: builds and caches the stores
    python bench/bench_stage_list.py                 # SQLite and PostgreSQL (if built)
    python bench/bench_stage_list.py --backend sqlite

No stage of the generated history holds 50,000 open orders (its WIP is about 11,000 in
all), so the benchmark adds 50,000 open orders waiting in ``produced`` (with their open
stage visit) inside one transaction, runs ANALYZE, measures on that same connection and
rolls everything back: the shared, cached store is left exactly as it was.

Measured per sort: what one grid block request costs without the cache
(``dashboard.callbacks.stage.fetch``: ``orders_behind_page`` = the page and the total in
SQL, the open-exception counts of the page, the display columns), first run and best of
five. Also the stage's "visits ended in the last 30 days" list of the real history.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_metrics  # noqa: E402 - the builder and cached stores of the metrics benchmark

STAGE = "produced"
EXTRA = 50_000
SORTS = (None, "-time_in_stage_h", "promised_at", "-hours_late", "owner")
LIMIT = 50


class OneConnection:
    """An engine stand-in that hands out one open connection (and its transaction), so
    the measured queries see the rows added in that transaction."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.dialect = conn.dialect

    @contextlib.contextmanager
    def connect(self):
        yield self.conn

    begin = connect


class NoCache:
    """The service without a cache: every request computes (what is measured)."""

    period_s = 5

    def __init__(self, now: datetime) -> None:
        self.clock = lambda: now

    def get(self, _namespace, _params, compute):
        from dashboard.service import Result

        return Result(compute(), self.clock(), None)


def add_stuck_orders(conn, now: datetime, n: int = EXTRA, seed: int = 11) -> None:
    """``n`` open orders in STAGE since 0-20 days, promised -5..+15 days from now."""
    from sqlalchemy import func, insert, select

    from datasource.schema import Order, StageVisit

    rng = np.random.default_rng(seed)
    first = int(conn.execute(select(func.max(Order.id))).scalar()) + 1
    since = [now - timedelta(hours=float(h)) for h in rng.uniform(1, 480, n)]
    promised = [now + timedelta(hours=float(h)) for h in rng.uniform(-120, 360, n)]
    owners = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊"]
    orders = [{
        "id": first + i, "order_number": f"STUCK-{i:06d}", "customer": f"客户{i % 400:03d}",
        "channel": ("direct", "distributor", "online")[i % 3], "production_line": ("Line A", "Line B")[i % 2],
        "product_line": "Valves", "owner": owners[i % len(owners)], "priority": "normal",
        "promised_at": promised[i], "status": "open", "current_stage": STAGE,
        "current_since": since[i], "placed_at": since[i] - timedelta(hours=30), "source": "bench",
    } for i in range(n)]
    for lo in range(0, n, 10_000):
        conn.execute(insert(Order), orders[lo: lo + 10_000])
    visits = [{"order_id": o["id"], "stage_code": STAGE, "visit_no": 1, "is_rework": False,
               "entered_at": o["current_since"]} for o in orders]
    for lo in range(0, n, 10_000):
        conn.execute(insert(StageVisit), visits[lo: lo + 10_000])


def _timed(fn, repeat: int = 5) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), out


def measure(backend: str, n: int) -> list[dict]:
    from sqlalchemy import text

    from dashboard.callbacks.stage import fetch
    from dashboard.context import AppContext
    from dashboard.layouts.stage import list_spec
    from dashboard.url_state import ViewState
    from datasource.pipeline import default_pipeline
    from datasource.settings import Settings
    from datasource.store import make_engine

    url = bench_metrics.sqlite_url(n) if backend == "sqlite" else bench_metrics.pg_url()
    engine = make_engine(url)
    if bench_metrics._meta(engine, "bench_orders") != str(n):
        raise SystemExit(f"[{backend}] no finished {n}-order store at {url}: run bench/bench_metrics.py --build-only")
    now = datetime.fromisoformat(bench_metrics._meta(engine, "bench_end")).astimezone(timezone.utc)
    pipeline = default_pipeline()
    results = []
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            t0 = time.perf_counter()
            add_stuck_orders(conn, now)
            conn.execute(text("ANALYZE"))
            setup_s = time.perf_counter() - t0
            ctx = AppContext(Settings(database_url=url, pipeline=pipeline), OneConnection(conn), NoCache(now))
            for sort in SORTS:
                state = ViewState(view="wip", sort=sort)
                spec = list_spec(STAGE, state, pipeline)
                first, best, (frame, total) = _timed(
                    lambda spec=spec, state=state: fetch(ctx, spec, state, 0, LIMIT, now))
                results.append({"backend": backend, "list": f"{STAGE} wip", "sort": sort or "default",
                                "total": total, "rows": len(frame), "first_ms": round(first * 1000),
                                "best_ms": round(best * 1000), "setup_s": round(setup_s, 1)})
                print(json.dumps(results[-1]), flush=True)
            state = ViewState(days=30, view="visits", sort="-time_in_stage_h")
            spec = list_spec(STAGE, state, pipeline)
            first, best, (frame, total) = _timed(lambda spec=spec, state=state: fetch(ctx, spec, state, 0, LIMIT, now))
            results.append({"backend": backend, "list": f"{STAGE} visits, last 30 days",
                            "sort": state.sort, "total": total, "rows": len(frame),
                            "first_ms": round(first * 1000), "best_ms": round(best * 1000)})
            print(json.dumps(results[-1]), flush=True)
        finally:
            trans.rollback()
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = []
    for backend in backends:
        try:
            results += measure(backend, args.orders)
        except SystemExit as exc:
            print(exc, flush=True)
        except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL not running: say so, go on
            print(f"[{backend}] skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
    (bench_metrics.OUT / "bench_stage_list.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

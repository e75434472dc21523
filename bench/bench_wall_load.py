"""Load benchmark of the wall: N screens refreshing against gunicorn workers and Redis.

    python bench/bench_wall_load.py                       # 100 screens, 1M-order SQLite store
    python bench/bench_wall_load.py --orders 60000 --duration 30
    python bench/bench_wall_load.py --database-url postgresql+psycopg://...

What it does:
1. Uses the store of ``bench/bench_metrics.py`` (built there if missing; SQLite in
   ``bench/out/bench_<n>.db``) unless ``--database-url`` is given.
2. Starts ``gunicorn -w 4 'dashboard.wsgi:server'`` with ``ORDERBOARD_CACHE_URL`` on its own
   Redis database (``--redis-db``, which must be empty; it is emptied again afterwards).
3. Opens each distinct screen setting once in headless Chromium (``refresh=`` set to
   ``--period``, so the wall's cache period is the simulated refresh) and captures the exact
   ``/_dash-update-component`` request the page sends for the wall refresh.
4. Simulates ``--screens`` screens (thread per screen, a keep-alive session each), each
   with one of the settings, starting at a random offset and re-posting its captured
   request every ``--period`` seconds for ``--duration`` seconds.
5. Reports p50/p95/p99/max latency of the refreshes, the metric computations (the
   service's Redis counter ``orderboard:computations:wall-summary``) and the renderings
   (``...:wall-frame``) per refresh period and setting. Results are printed and written to
   ``bench/out/bench_wall_load.json``; every request (screen, epoch start, ms, ok, and where
   in the cache period it started) to ``bench/out/bench_wall_load_requests.csv``, to see
   where a slow tail falls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

SETTINGS = ("", "line=Line%20A", "line=Line%20B", "channel=online")
COUNTER = "orderboard:computations:wall-summary"
RENDER_COUNTER = "orderboard:computations:wall-frame"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_url(orders: int, database_url: str | None) -> str:
    if database_url:
        return database_url
    import bench_metrics

    path = OUT / f"bench_{orders}.db"
    if not path.exists():
        bench_metrics.build("sqlite", orders, rebuild=False)
    return bench_metrics.sqlite_url(orders)


def start_gunicorn(db_url: str, cache_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "ORDERBOARD_DATABASE_URL": db_url, "ORDERBOARD_CACHE_URL": cache_url}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--log-level", "warning", "dashboard.wsgi:server"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gunicorn did not come up within 60 s")


def capture_requests(base: str, settings: tuple[str, ...], refresh_s: int) -> list[dict]:
    """The wall-refresh POST body the browser sends, once per screen setting."""
    from playwright.sync_api import sync_playwright

    captured = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        for query in settings:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            bodies: list[dict] = []

            def keep(request, bodies=bodies):
                if request.url.endswith("/_dash-update-component") or "/_dash-update-component?" in request.url:
                    body = request.post_data or ""
                    if "wall-as-of" in body:
                        bodies.append({"url": request.url, "body": body})

            page.on("request", keep)
            page.goto(f"{base}/wall?views=main,bottleneck,trend,exceptions&kiosk=1&refresh={refresh_s}&{query}")
            page.wait_for_selector(".ob-view--active .ob-kpi", timeout=120_000)
            if not bodies:
                raise RuntimeError(f"no wall refresh request captured for {query!r}")
            captured.append({"query": query, **bodies[0]})
            page.close()
        browser.close()
    return captured


def screen(index: int, request: dict, period: float, until: float, results: list, lock: threading.Lock) -> None:
    import requests

    session = requests.Session()
    headers = {"Content-Type": "application/json"}
    time.sleep(random.uniform(0, period))
    next_at = time.monotonic()
    while next_at < until:
        t0, started = time.monotonic(), time.time()
        try:
            response = session.post(request["url"], data=request["body"], headers=headers, timeout=30)
            ok = response.status_code == 200 and b"wall-as-of" in response.content
        except requests.RequestException:
            ok = False
        elapsed = time.monotonic() - t0
        with lock:
            results.append({"screen": index, "at": t0, "epoch": started, "ms": elapsed * 1000, "ok": ok})
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between a screen's refreshes")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--settings", type=int, default=len(SETTINGS),
                        help=f"distinct screen settings (1-{len(SETTINGS)})")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()

    import redis

    from dashboard.layouts.wall import MIN_PERIOD_S

    cache_url = f"{args.redis}/{args.redis_db}"
    client = redis.Redis.from_url(cache_url)
    if client.dbsize():
        sys.exit(f"Redis database {args.redis_db} is not empty; choose another with --redis-db")
    db_url = store_url(args.orders, args.database_url)
    settings = SETTINGS[: max(1, min(args.settings, len(SETTINGS)))]
    port = free_port()
    proc = start_gunicorn(db_url, cache_url, port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        refresh_s = max(2, round(args.period))
        cache_period_s = max(MIN_PERIOD_S, refresh_s)  # dashboard.wall_frame.period_s
        captured = capture_requests(base, settings, refresh_s)
        time.sleep(cache_period_s)  # let the capture's computations age out of the current period
        before = int(client.get(COUNTER) or 0)
        renders_before = int(client.get(RENDER_COUNTER) or 0)
        results: list[dict] = []
        lock = threading.Lock()
        start = time.monotonic()
        until = start + args.duration
        threads = [threading.Thread(target=screen,
                                    args=(i, captured[i % len(captured)], args.period, until, results, lock))
                   for i in range(args.screens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        computations = int(client.get(COUNTER) or 0) - before
        renders = int(client.get(RENDER_COUNTER) or 0) - renders_before
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=45)  # workers finish the computation they are in
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        client.flushdb()  # the database was empty when we started: only our keys are in it
    ms = [r["ms"] for r in results if r["ok"]]
    periods = elapsed / cache_period_s
    report = {
        "store": db_url.split("/")[-1] if db_url.startswith("sqlite") else db_url.split("@")[-1],
        "orders": args.orders if not args.database_url else None,
        "screens": args.screens, "refresh_s": args.period, "duration_s": round(elapsed, 1),
        "workers": args.workers, "distinct_settings": len(settings),
        "requests": len(results), "failed": len(results) - len(ms),
        "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1),
        "cache_period_s": cache_period_s, "computations": computations, "renders": renders,
        "computations_per_period_per_setting": round(computations / periods / len(settings), 2),
        "renders_per_period_per_setting": round(renders / periods / len(settings), 2),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_wall_load.json").write_text(json.dumps(report, indent=2))
    rows = ["screen,epoch,ms,ok,into_period_s"] + [
        f"{r['screen']},{r['epoch']:.3f},{r['ms']:.1f},{int(r['ok'])},{r['epoch'] % cache_period_s:.2f}"
        for r in sorted(results, key=lambda r: r["epoch"])]
    (OUT / "bench_wall_load_requests.csv").write_text("\n".join(rows) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

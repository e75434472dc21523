"""A whole OrderBoard for fault drills: PostgreSQL schema, its own redis-server, gunicorn and
wall screens in Chromium, all on 127.0.0.1 and free ports, each drill with its own.

``System`` starts and stops the parts, kills and restarts gunicorn, stops and resumes
Redis, and reads gunicorn's logs (HTTP statuses, worker timeouts). ``Screens`` are wall
pages in one headless Chromium, sampled a few times a second: banner, "data as of", and a
mark that tells whether the page has reloaded.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
WORKER_TIMEOUT_S = 30  # gunicorn's default, as the README's command runs it
WAIT_S = 3.0  # ORDERBOARD_WAIT_S for the drills: short, so a hang drill is short too
REFRESH_S = 5  # the wall's smallest cache period: one refresh per period
# SQLite's wal-index locks: bytes 120-127 of the "-shm" file (write, checkpoint, recovery,
# read marks 0-4; UNIX_SHM_BASE in SQLite's os_unix.c). A connection in exclusive locking
# mode holds them; SQLite grants that mode only while no other connection is open, so a
# drill under running web workers takes the same locks from outside.
WAL_INDEX_LOCKS = (120, 8)
ACCESS = re.compile(r'"[A-Z]+ (\S+) HTTP/[\d.]+" (\d{3}) ')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


@dataclass
class System:
    pg_url: str  # the server's URL (the drill makes and drops its own schema)
    workdir: Path
    schema: str = field(default_factory=lambda: f"ob_drill_{uuid.uuid4().hex[:10]}")
    port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    gunicorn: subprocess.Popen | None = None
    redis: subprocess.Popen | None = None
    starts: int = 0
    env: dict[str, str] = field(default_factory=dict)  # more settings for gunicorn's environment
    workers: int = WORKERS
    sqlite: bool = False  # a SQLite file in ``workdir`` instead of a PostgreSQL schema

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sqlite_path(self) -> Path:
        return self.workdir / "store.db"

    @property
    def store_url(self) -> str:
        if self.sqlite:
            return f"sqlite:///{self.sqlite_path}"
        sep = "&" if "?" in self.pg_url else "?"
        return f"{self.pg_url}{sep}options=-csearch_path%3D{self.schema}"

    # -- parts ----------------------------------------------------------------------
    def start(self, orders: int = 400) -> System:
        from datasource.demo import generate, seed_store
        from datasource.pipeline import default_pipeline
        from datasource.store import open_store

        if not self.sqlite:
            admin = create_engine(self.pg_url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
        pipeline = default_pipeline()
        engine = open_store(self.store_url, pipeline)
        seed_store(engine, pipeline, generate(seed=13, n_orders=orders))
        engine.dispose()
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.redis_port, 10)
        self.start_gunicorn()
        return self

    def start_gunicorn(self) -> None:
        self.starts += 1
        env = {**os.environ, "ORDERBOARD_DATABASE_URL": self.store_url,
               "ORDERBOARD_CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/0",
               "ORDERBOARD_WAIT_S": str(WAIT_S), "ORDERBOARD_CACHE_WAIT_S": "0.25", **self.env}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.gunicorn = subprocess.Popen(
            [gunicorn, "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", str(WORKER_TIMEOUT_S),
             "--access-logfile", str(self.workdir / "access.log"),
             "--error-logfile", str(self.workdir / "error.log"), "--capture-output",
             "dashboard.wsgi:server"],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 30)

    def wait_until_answering(self, timeout_s: float = 60) -> float:
        """Seconds until the server answers a page (a worker builds the app on its first
        request, which takes a few seconds on a loaded machine)."""
        import urllib.request

        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=5) as answer:
                    if answer.status == 200:
                        return round(time.monotonic() - start, 2)
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout_s} s")

    def kill_gunicorn(self) -> None:
        """The server dies at once (SIGKILL to the master and its workers)."""
        os.killpg(self.gunicorn.pid, signal.SIGKILL)
        self.gunicorn.wait(10)

    def pause_redis(self) -> None:
        self.redis.send_signal(signal.SIGSTOP)

    def resume_redis(self) -> None:
        self.redis.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for proc in (self.gunicorn, self.redis):
            if proc is not None and proc.poll() is None:
                if proc is self.redis:
                    proc.send_signal(signal.SIGCONT)
                try:
                    os.killpg(proc.pid, signal.SIGTERM) if proc is self.gunicorn else proc.terminate()
                    proc.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    proc.kill()
        if not self.sqlite:
            admin = create_engine(self.pg_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()

    # -- what the server logged -----------------------------------------------------
    def statuses(self) -> list[tuple[str, int]]:
        """(path, HTTP status) of every request so far."""
        path = self.workdir / "access.log"
        lines = path.read_text("utf-8", "replace").splitlines() if path.exists() else []
        return [(m.group(1), int(m.group(2))) for m in map(ACCESS.search, lines) if m]

    def worker_timeouts(self) -> int:
        path = self.workdir / "error.log"
        return path.read_text("utf-8", "replace").count("WORKER TIMEOUT") if path.exists() else 0

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Every reader and writer of the SQLite store at ``path`` hangs while this is held:
    each statement waits for the wal-index (SQLite retries for about 10 s, then fails with
    "locking protocol")."""
    fd = os.open(f"{path}-shm", os.O_RDWR)
    try:
        start, length = WAL_INDEX_LOCKS
        fcntl.lockf(fd, fcntl.LOCK_EX, length, start, os.SEEK_SET)  # waits out a read in progress
        yield
    finally:
        os.close(fd)  # releases the locks


SAMPLE_JS = """() => {
    const banner = document.getElementById('wall-banner');
    const asOf = document.getElementById('wall-as-of');
    return {banner: banner ? !banner.hidden : null, text: banner ? banner.innerText : '',
            asOf: asOf ? asOf.innerText : '', same: window.drillMark === true};
}"""


class Screens:
    """``count`` wall screens (1920x1080, ``query``), each in its own browser context."""

    def __init__(self, browser, url: str, count: int = 3, query: str = "") -> None:
        self.contexts, self.pages, self.errors = [], [], []
        self.refreshes: list[list[dict]] = []
        for _k in range(count):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.on("pageerror", lambda e: self.errors.append(str(e)))
            timings: list[dict] = []
            page.on("requestfinished", lambda r, timings=timings: self._finished(r, timings))
            page.on("requestfailed", lambda r, timings=timings: self._failed(r, timings))
            page.goto(f"{url}/wall?views=main&refresh={REFRESH_S}&lang=en{query}")
            page.wait_for_selector(".ob-view--active .ob-kpi", timeout=60_000)
            page.evaluate("() => { window.drillMark = true; }")
            self.contexts.append(context)
            self.pages.append(page)
            self.refreshes.append(timings)

    @staticmethod
    def _is_refresh(request) -> bool:
        return "_dash-update-component" in request.url and "wall-refresh" in (request.post_data or "")

    def _finished(self, request, timings: list) -> None:
        if self._is_refresh(request):
            timing = request.timing
            timings.append({"at": time.monotonic(), "ok": True,
                            "ms": timing["responseEnd"] if timing["responseEnd"] >= 0 else None})

    def _failed(self, request, timings: list) -> None:
        if self._is_refresh(request):
            timings.append({"at": time.monotonic(), "ok": False, "ms": None})

    def sample(self) -> list[dict]:
        return [page.evaluate(SAMPLE_JS) for page in self.pages]

    def idle(self, seconds: float) -> None:
        """Let the pages run (Playwright delivers their events while waiting)."""
        self.pages[0].wait_for_timeout(seconds * 1000)

    def watch(self, seconds: float, every_s: float = 0.25) -> list[tuple[float, list[dict]]]:
        """Samples of every screen, with their time, for ``seconds``."""
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            out.append((time.monotonic(), self.sample()))
            self.idle(every_s)
        return out

    def until_each(self, check, timeout_s: float, every_s: float = 0.25) -> list[float | None]:
        """Per screen, seconds until ``check(sample)`` first held (None: not within ``timeout_s``)."""
        start, found = time.monotonic(), [None] * len(self.pages)
        while time.monotonic() - start < timeout_s and None in found:
            for k, sample in enumerate(self.sample()):
                if found[k] is None and check(sample):
                    found[k] = round(time.monotonic() - start, 2)
            self.idle(every_s)
        return found

    def until(self, check, timeout_s: float, every_s: float = 0.25) -> float | None:
        """Seconds until ``check(samples)`` holds, or None when it did not within ``timeout_s``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if check(self.sample()):
                return time.monotonic() - start
            self.idle(every_s)
        return None

    def close(self) -> None:
        for context in self.contexts:
            context.close()

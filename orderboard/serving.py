"""Running OrderBoard: the live demo, the embedded web server and the job worker.

The ``demo``, ``serve`` and ``worker`` commands call these functions. The embedded server
is Flask's (through Dash) with threads, one process, jobs in-process under the store's job lock;
for several web workers use gunicorn with ``dashboard.wsgi:server`` and one worker.
The web app's waits for the store and the cache are bounded by the ``wait_s`` and
``cache_wait_s`` settings, below gunicorn's worker timeout (README, "Timeouts").
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from datasource.masking import masked_url
from datasource.settings import Settings
from datasource.store_lock import job_lock_for
from orderboard.jobs import RunningJobs, registered_jobs, start_scheduler, wait_forever

log = logging.getLogger(__name__)

DEMO_DATABASE_URL = "sqlite:///orderboard-demo.db"


class NotADemoStore(RuntimeError):
    """The demo was pointed at a store that holds real data."""


class NoLoginBeyondThisComputer(RuntimeError):
    """A server on an address other computers reach, without logins configured."""


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve on a non-loopback address without logins (the ``secret_key``
    setting): anyone on the network would see and export everything."""
    from dashboard.auth import is_loopback, login_required

    if login_required(settings):
        return
    if is_loopback(host):
        return
    raise NoLoginBeyondThisComputer(
        f"--host {host} serves other computers, which needs logins: set ORDERBOARD_SECRET_KEY "
        "(32+ characters) and create an admin with `orderboard user add NAME --role admin`, "
        "or serve on --host 127.0.0.1")


class JobsRunElsewhere(RuntimeError):
    """Another process (on any host) already runs the scheduled jobs of this store."""


def prepare_demo_store(
    settings: Settings,
    orders: int,
    seed: int,
    on_generate: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Engine, bool]:
    """Open (and if empty, seed) a demo store; returns the engine and whether it was seeded.

    A store that already holds orders is used as it is when the demo created it, and
    refused otherwise: the demo never writes into real data.
    """
    from datasource.demo import generate, is_demo_store, seed_store, store_is_empty
    from datasource.store import open_store

    engine = open_store(settings.database_url, settings.pipeline)
    if not store_is_empty(engine):
        if not is_demo_store(engine):
            engine.dispose()
            raise NotADemoStore(
                f"{masked_url(settings.database_url)} holds orders that the demo did not create; "
                "pass --db with a new or demo store"
            )
        return engine, False
    if on_generate is not None:
        on_generate(orders)
    data = generate(seed=seed, n_orders=orders, pipeline=settings.pipeline)
    seed_store(engine, settings.pipeline, data, progress=progress)
    return engine, True


def serve_app(settings: Settings, host: str, port: int, engine: Engine | None = None,
              jobs: list | None = None) -> None:
    """Serve the dashboard until interrupted; run ``jobs`` in-process if no other process does.

    ``engine`` is the one the jobs use; the web app gets its own, with every wait bounded
    by the ``wait_s`` setting (README, "Timeouts"), so that a hung store ends a request
    in the stale banner rather than holding it.
    """
    from dashboard.app import create_app
    from datasource.store import make_engine

    check_exposure(settings, host)
    running: RunningJobs | None = start_scheduler(settings, jobs, engine) if jobs else None
    if jobs and running is None:
        log.warning("scheduled jobs already run in another process; serving only")
    try:
        web_engine = make_engine(settings.database_url, wait_s=settings.wait_s)
        create_app(settings, engine=web_engine).run(host=host, port=port, debug=False)
    finally:
        if running is not None:
            running.shutdown(wait=False)


def serve(settings: Settings, host: str, port: int, engine: Engine, with_jobs: bool = True) -> None:
    """The embedded server over ``engine`` (from ``open_store``, without creating): the
    dashboard plus the registered jobs (unless ``with_jobs`` is off)."""
    jobs = registered_jobs(settings, engine) if with_jobs else []
    serve_app(settings, host, port, engine, jobs)


def run_worker(settings: Settings, demo: bool = False, seed: int = 7,
               stop: threading.Event | None = None,
               on_start: Callable[[list[str]], None] | None = None) -> list[str]:
    """Run the scheduled jobs in the foreground until SIGTERM/Ctrl-C (or ``stop``).

    The store is opened with ``open_store`` (created when missing, brought up to the
    schema). Raises ``JobsRunElsewhere`` when another process holds this store's job
    lock, ``NotADemoStore`` when ``demo`` is asked for on a store the demo did not create,
    and ``NoStore`` (``StoreUnreachable``) when the database refuses us.
    """
    from datasource.demo import is_demo_store
    from datasource.store import open_store

    engine = open_store(settings.database_url, settings.pipeline)
    if demo and not is_demo_store(engine):
        engine.dispose()
        raise NotADemoStore(f"{masked_url(settings.database_url)} is not a demo store; the demo feed only "
                            "writes to stores created by `orderboard demo`")
    jobs = registered_jobs(settings, engine, demo=demo, seed=seed)
    lock = job_lock_for(settings.database_url, engine)
    running = start_scheduler(settings, jobs, engine, lock)
    if running is None:
        engine.dispose()
        raise JobsRunElsewhere(f"another process already runs the jobs of this store ({lock.describe()})")
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ids = [j.id for j in jobs]
    if on_start is not None:
        on_start(ids)
    try:
        wait_forever(running, stop)
    finally:
        engine.dispose()
    return ids

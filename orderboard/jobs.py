"""Scheduled jobs, run by exactly one process per store.

A BackgroundScheduler started by every gunicorn worker (or twice under Flask's reloader)
would run each job several times. ``start_scheduler`` therefore first takes an exclusive,
non-blocking ``fcntl.flock`` on a lock file derived from the database URL: next to a
SQLite file, or in the system temp dir for a server URL. The process that gets the lock
runs the jobs until it exits (the kernel releases the lock with the process); every
other process gets ``None`` and runs none. Across several hosts, run one
``orderboard worker`` instead (a file lock only covers one host).

Jobs are data (``Job``); ``registered_jobs`` lists the ones a deployment runs.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from datasource.settings import Settings

log = logging.getLogger(__name__)

DEMO_FEED_SECONDS = 3.0
IDLE_COMPLETION_SECONDS = 600.0


@dataclass(frozen=True)
class Job:
    """A function run every ``seconds``, or on a ``cron`` schedule (APScheduler cron
    fields such as ``{"day_of_week": "mon", "hour": 8}``, in zone ``timezone``); at most
    one run at a time, missed runs coalesce."""

    id: str
    func: Callable[[], object]
    seconds: float
    description: str = ""
    cron: dict | None = None
    timezone: str | None = None


def lock_path_for(database_url: str) -> Path:
    """The lock file for a store: ``<file>.jobs.lock`` beside a SQLite file, otherwise a
    file in the temp dir named by a hash of the URL (so two stores never share a lock)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().with_name(Path(url.database).name + ".jobs.lock")
    digest = hashlib.sha1(database_url.encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"orderboard-jobs-{digest}.lock"


class JobLock:
    """An exclusive, non-blocking file lock held for the life of the process (or until
    ``release``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None


@dataclass
class RunningJobs:
    """The scheduler of the one process that holds the lock."""

    scheduler: BackgroundScheduler
    lock: JobLock
    jobs: tuple[Job, ...] = field(default_factory=tuple)

    def shutdown(self, wait: bool = True) -> None:
        try:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
        finally:
            self.lock.release()


def start_scheduler(
    settings: Settings, jobs: list[Job] | tuple[Job, ...], lock_path: Path | None = None
) -> RunningJobs | None:
    """Start the jobs in a background thread, unless another process already runs them.

    Returns the running scheduler, or None when the lock is held elsewhere.
    """
    lock = JobLock(lock_path or lock_path_for(settings.database_url))
    if not lock.acquire():
        log.info("scheduled jobs already run in another process (lock %s)", lock.path)
        return None
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    for job in jobs:
        if job.cron is not None:
            scheduler.add_job(
                job.func, CronTrigger(timezone=job.timezone or "UTC", **job.cron), id=job.id,
                name=job.description or job.id, max_instances=1, coalesce=True,
                misfire_grace_time=3600,  # a report due at 08:00 is still wanted at 08:30
            )
            continue
        scheduler.add_job(
            job.func, "interval", seconds=job.seconds, id=job.id, name=job.description or job.id,
            max_instances=1, coalesce=True, misfire_grace_time=max(1, int(job.seconds)),
            next_run_time=datetime.now(timezone.utc),
        )
    scheduler.start()
    log.info("scheduled jobs started: %s (lock %s)", ", ".join(j.id for j in jobs) or "none", lock.path)
    return RunningJobs(scheduler, lock, tuple(jobs))


def demo_feed_job(settings: Settings, engine: Engine,
                  clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                  seconds: float = DEMO_FEED_SECONDS) -> Job:
    """Every few seconds, store what the demo model says happened up to ``clock()``
    (``datasource.demo.feed``). The feed is opened at the first run; a store it cannot
    feed (not a demo store, or one made before the model was recorded) gets one warning
    and nothing else."""
    from datasource.demo.feed import DemoFeed, FeedUnavailable

    opened: list[DemoFeed | None] = []
    guard = threading.Lock()  # max_instances=1 already; this keeps the feed single-threaded

    def run() -> None:
        with guard:
            if not opened:
                try:
                    opened.append(DemoFeed.open(engine, settings.pipeline))
                except FeedUnavailable as exc:
                    log.warning("demo feed off: %s", exc)
                    opened.append(None)
            feed = opened[0]
            if feed is None:
                return
            result = feed.step(clock())
        log.debug("demo feed: %s events, %s new orders", result.events_added, result.orders_created)

    return Job("demo-feed", run, seconds, "live demo feed")


def idle_completion_job(settings: Settings, engine: Engine,
                        seconds: float = IDLE_COMPLETION_SECONDS) -> Job:
    """Complete the cases idle longer than the pipeline's ``complete_after_idle_days``
    (time passing, not a new event, makes a case idle; ``datasource.ingest``)."""
    from datasource.ingest import complete_idle_orders

    def run() -> None:
        completed = complete_idle_orders(engine, settings.pipeline)
        if completed:
            log.info("idle completion: %s orders completed", completed)

    return Job("idle-completion", run, seconds, "complete idle cases")


def registered_jobs(settings: Settings, engine: Engine, demo: bool = False, seed: int = 7) -> list[Job]:
    """The jobs a deployment runs: the weekly report, idle completion when configured,
    alert evaluation when the configuration has ``[[alert_rules]]``; the demo feed only
    when asked for.

    ``seed`` no longer changes the feed: it continues the model recorded in the demo
    store, whose seed is the one the history was made with."""
    from orderboard.weekly_job import weekly_report_job

    jobs: list[Job] = []
    if demo:
        jobs.append(demo_feed_job(settings, engine))
    else:  # a demo store gets no weekly report files written into the working directory
        jobs.append(weekly_report_job(settings, engine))
    if settings.pipeline.complete_after_idle_days is not None:
        jobs.append(idle_completion_job(settings, engine))
    if settings.alert_tables.get("alert_rules"):
        from orderboard.alerts.config import alert_config
        from orderboard.alerts.runner import alerts_job

        jobs.append(alerts_job(settings, engine, alert_config(settings)))
    return jobs


def wait_forever(running: RunningJobs, stop: threading.Event | None = None) -> None:
    """Block the calling thread until ``stop`` is set or Ctrl-C, then shut the jobs down."""
    stop = stop or threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.shutdown()

"""Scheduled jobs, run by exactly one process per store.

A BackgroundScheduler started by every gunicorn worker (or twice under Flask's reloader),
or by two ``orderboard worker`` processes, would run each job several times.
``start_scheduler`` therefore first takes the store's job lock (``datasource.store_lock``:
a PostgreSQL advisory lock keyed by the store's own identity, or a lock file beside the
SQLite file), without waiting. The process that gets it runs the jobs until it exits;
every other process gets ``None`` and runs none, whatever URL spelling, temp dir or host
it has. Before each run a job checks that its process still holds the lock.

Jobs are data (``Job``); ``registered_jobs`` lists the ones a deployment runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from datasource.settings import Settings
from datasource.store_lock import JobLock, job_lock_for

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


@dataclass
class RunningJobs:
    """The scheduler of the one process that holds the lock."""

    scheduler: BackgroundScheduler
    lock: JobLock
    jobs: tuple[Job, ...] = field(default_factory=tuple)
    engine: Engine | None = None  # made for the lock alone: disposed at shutdown

    def shutdown(self, wait: bool = True) -> None:
        try:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
        finally:
            self.lock.release()
            if self.engine is not None:
                self.engine.dispose()


def start_scheduler(
    settings: Settings, jobs: list[Job] | tuple[Job, ...], engine: Engine | None = None,
    lock: JobLock | None = None,
) -> RunningJobs | None:
    """Start the jobs in a background thread, unless another process already runs them.

    ``engine``: an engine on the store (one is made when needed and not given);
    ``lock``: the job lock (default ``job_lock_for`` the store). Returns the running
    scheduler, or None when the lock is held elsewhere.
    """
    own_engine = None
    if lock is None:
        if engine is None and not settings.database_url.startswith("sqlite"):
            from datasource.store import make_engine

            engine = own_engine = make_engine(settings.database_url)
        lock = job_lock_for(settings.database_url, engine)
    if not lock.acquire():
        log.info("scheduled jobs already run in another process (%s)", lock.describe())
        if own_engine is not None:
            own_engine.dispose()
        return None
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    for job in jobs:
        func = _while_locked(job, lock)
        if job.cron is not None:
            scheduler.add_job(
                func, CronTrigger(timezone=job.timezone or "UTC", **job.cron), id=job.id,
                name=job.description or job.id, max_instances=1, coalesce=True,
                misfire_grace_time=3600,  # a report due at 08:00 is still wanted at 08:30
            )
            continue
        scheduler.add_job(
            func, "interval", seconds=job.seconds, id=job.id, name=job.description or job.id,
            max_instances=1, coalesce=True, misfire_grace_time=max(1, int(job.seconds)),
            next_run_time=datetime.now(timezone.utc),
        )
    scheduler.start()
    log.info("scheduled jobs started: %s (%s)", ", ".join(j.id for j in jobs) or "none", lock.describe())
    return RunningJobs(scheduler, lock, tuple(jobs), own_engine)


def _while_locked(job: Job, lock: JobLock) -> Callable[[], None]:
    """``job.func``, run only while this process holds the job lock."""
    def run() -> None:
        if not lock.still_held():
            log.warning("job %s skipped: this process no longer holds the job lock (%s)",
                        job.id, lock.describe())
            return
        job.func()

    return run


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

"""Scheduled jobs run in exactly one process per store."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from datasource.demo import FED_UNTIL_KEY, generate, read_meta, seed_store
from datasource.schema import OrderEvent
from datasource.settings import Settings
from datasource.store_lock import FileJobLock, job_lock_for
from orderboard.jobs import Job, demo_feed_job, registered_jobs, start_scheduler


def test_lock_file_sits_beside_a_sqlite_store(tmp_path, monkeypatch):
    lock = job_lock_for(f"sqlite:///{tmp_path / 'a.db'}")
    assert lock.path == tmp_path / "a.db.jobs.lock"
    monkeypatch.chdir(tmp_path)  # a relative spelling of the same file: the same lock file
    assert job_lock_for("sqlite:///./sub/../a.db").path == lock.path


def _settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}")


def test_only_the_first_start_runs_jobs(tmp_path):
    ran = threading.Event()
    first = start_scheduler(_settings(tmp_path), [Job("tick", ran.set, 60)])
    try:
        assert first is not None
        assert ran.wait(5), "the job runs once at start"
        # A second start on the same store (another worker, the reloader) runs nothing.
        assert start_scheduler(_settings(tmp_path), [Job("tick", ran.set, 60)]) is None
    finally:
        first.shutdown()
    # Once the first process lets go, a successor can take over.
    again = start_scheduler(_settings(tmp_path), [])
    assert again is not None
    again.shutdown()


def test_another_process_on_the_same_host_does_not_start_jobs(tmp_path):
    running = start_scheduler(_settings(tmp_path), [])
    assert running is not None
    code = (
        "import sys; from datasource.settings import Settings; from orderboard.jobs import start_scheduler;"
        f"r = start_scheduler(Settings(database_url={_settings(tmp_path).database_url!r}), []);"
        "print('started' if r else 'not started')"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    finally:
        running.shutdown()
    assert out.stdout.strip() == "not started", out.stderr


def test_lock_is_exclusive_and_released(tmp_path):
    a, b = FileJobLock(tmp_path / "x.lock"), FileJobLock(tmp_path / "x.lock")
    assert a.acquire() and not b.acquire()
    a.release()
    assert b.acquire()
    b.release()


def test_no_demo_feed_unless_asked(sqlite_store):
    settings = Settings(database_url=sqlite_store.url)
    assert [j.id for j in registered_jobs(settings, sqlite_store.engine)] == ["weekly-report"]
    assert [j.id for j in registered_jobs(settings, sqlite_store.engine, demo=True)] == ["demo-feed"]


def test_demo_feed_job_feeds_up_to_its_clock(store):
    end = datetime(2026, 11, 20, tzinfo=timezone.utc)
    seed_store(store.engine, store.pipeline, generate(seed=1, n_orders=200, end=end))
    settings = Settings(database_url=store.url, pipeline=store.pipeline)
    (job,) = registered_jobs(settings, store.engine, demo=True)
    assert job.seconds <= 5
    ticks = iter([end + timedelta(hours=h) for h in (4, 8, 12)])
    job = demo_feed_job(settings, store.engine, clock=lambda: next(ticks))
    for _ in range(3):
        job.func()
    with store.engine.connect() as conn:
        latest = conn.execute(select(func.max(OrderEvent.occurred_at))).scalar_one()
        added = conn.execute(select(func.count()).select_from(OrderEvent)
                             .where(OrderEvent.occurred_at > end)).scalar_one()
        fed_until = read_meta(conn, FED_UNTIL_KEY)
    assert added > 0 and latest.replace(tzinfo=timezone.utc) <= end + timedelta(hours=12)
    assert fed_until == (end + timedelta(hours=12)).isoformat()


def test_demo_feed_job_on_a_store_it_cannot_feed_warns_once(sqlite_store, caplog):
    settings = Settings(database_url=sqlite_store.url, pipeline=sqlite_store.pipeline)
    job = demo_feed_job(settings, sqlite_store.engine,
                        clock=lambda: datetime(2026, 11, 20, tzinfo=timezone.utc))
    with caplog.at_level("WARNING", logger="orderboard.jobs"):
        job.func()
        job.func()
    assert [r.getMessage() for r in caplog.records] == [
        "demo feed off: not a demo store: the demo feed only writes to stores created by "
        "`orderboard demo`"]
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderEvent)).scalar_one() == 0


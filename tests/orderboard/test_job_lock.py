"""Jobs run exactly once per store, whatever the URL spelling, temp dir or host: the lock
is keyed by the store (PostgreSQL advisory lock on the store's id; a lock file beside a
SQLite file), not by the URL string or the temp dir."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from datasource.settings import Settings
from datasource.store import make_engine, open_store
from datasource.store_lock import AdvisoryJobLock, advisory_key, job_lock_for, store_identity
from orderboard import serving
from orderboard.cli import app
from orderboard.jobs import Job, start_scheduler

ROOT = Path(__file__).resolve().parents[2]


def respelled(url: str) -> str:
    """The same PostgreSQL server, spelled with a host name instead of an address."""
    assert "@127.0.0.1" in url
    return url.replace("@127.0.0.1", "@localhost", 1)


@pytest.fixture
def pg_store(pg_schema, pipeline):
    engine = open_store(pg_schema, pipeline)
    yield pg_schema, engine
    engine.dispose()


@pytest.mark.postgres
def test_store_identity_is_made_once_and_is_the_same_from_every_spelling(pg_store, pg_schema):
    url, engine = pg_store
    first = store_identity(engine)
    other = make_engine(respelled(url))
    try:
        assert store_identity(other) == first == store_identity(engine)
    finally:
        other.dispose()
    assert len(first) == 32 and advisory_key(first) == advisory_key(first)


@pytest.mark.postgres
def test_two_workers_spelling_the_url_differently_run_each_job_once(pg_store, tmp_path, monkeypatch):
    url, _engine = pg_store
    runs: list[str] = []
    first = start_scheduler(Settings(database_url=url), [Job("tick", lambda: runs.append("first"), 0.05)])
    assert first is not None
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # another temp dir, too
        second = start_scheduler(Settings(database_url=respelled(url)),
                                 [Job("tick", lambda: runs.append("second"), 0.05)])
        assert second is None
        for _ in range(200):
            if len(runs) >= 3:
                break
            time.sleep(0.05)
    finally:
        first.shutdown()
    assert len(runs) >= 3 and set(runs) == {"first"}
    # Once the first lets go, the other spelling takes over.
    again = start_scheduler(Settings(database_url=respelled(url)), [])
    assert again is not None
    again.shutdown()


WORKER = textwrap.dedent("""
    import os, sys, time
    from datasource.settings import Settings
    from orderboard.jobs import Job, start_scheduler

    url, runs = sys.argv[1], sys.argv[2]

    def tick():
        with open(runs, "a") as fh:
            fh.write(f"{os.getpid()}\\n")

    running = start_scheduler(Settings(database_url=url), [Job("tick", tick, 0.1)])
    print("started" if running else "not started", flush=True)
    sys.stdin.readline()  # until the test says stop
    if running:
        running.shutdown()
""")


def _start(url: str, runs: Path, tmpdir: Path, cwd: Path) -> subprocess.Popen:
    tmpdir.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", WORKER, url, str(runs)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def _stop(proc: subprocess.Popen) -> str:
    out, err = proc.communicate("stop\n", timeout=60)
    assert proc.returncode == 0, err
    return out


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_worker_processes_with_other_spellings_and_temp_dirs_run_each_job_once(
        backend, tmp_path, request, pipeline):
    if backend == "sqlite":
        (tmp_path / "data").mkdir()
        one, two = f"sqlite:///{tmp_path / 'data' / 'store.db'}", "sqlite:///data/../data/store.db"
    else:
        one = request.getfixturevalue("pg_schema")
        two = respelled(one)
    open_store(one, pipeline).dispose()
    runs = tmp_path / "runs.txt"
    first = _start(one, runs, tmp_path / "tmp-a", tmp_path)
    try:
        assert first.stdout.readline().strip() == "started"
        second = _start(two, runs, tmp_path / "tmp-b", tmp_path)
        assert second.stdout.readline().strip() == "not started"
        for _ in range(300):
            if runs.exists() and len(runs.read_text().split()) >= 3:
                break
            time.sleep(0.05)
        _stop(second)
    finally:
        _stop(first)
    pids = runs.read_text().split()
    assert len(pids) >= 3 and set(pids) == {str(first.pid)}


@pytest.mark.postgres
def test_the_worker_command_refuses_a_second_worker_on_another_spelling(pg_store, tmp_path, monkeypatch):
    url, _ = pg_store
    stop, started = threading.Event(), threading.Event()
    real_wait = serving.wait_forever
    # The first worker runs until the test stops it; a second one that did start (the
    # failure this test looks for) returns at once instead of running forever.
    monkeypatch.setattr(serving, "wait_forever", lambda running, until: real_wait(running, until)
                        if until is stop else running.shutdown())
    thread = threading.Thread(target=serving.run_worker, args=(Settings(database_url=url),),
                              kwargs={"stop": stop, "on_start": lambda ids: started.set()})
    thread.start()
    try:
        assert started.wait(30)
        monkeypatch.setenv("TMPDIR", str(tmp_path))
        result = CliRunner().invoke(app, ["worker", "--db", respelled(url)])
        assert result.exit_code == 1, result.output
        assert "already runs the jobs of this store (PostgreSQL advisory lock" in result.output
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def _backend_pid(lock: AdvisoryJobLock) -> int:
    return lock._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.postgres
def test_a_lost_session_runs_nothing_until_the_lock_is_back(pg_store, caplog):
    url, engine = pg_store
    mine = job_lock_for(url, engine)
    assert isinstance(mine, AdvisoryJobLock)
    runs: list[int] = []
    # not due before the test ends: the test runs it by hand
    later = Job("tick", lambda: runs.append(1), 0, cron={"year": 2099})
    running = start_scheduler(Settings(database_url=url), [later], engine, mine)
    assert running is not None
    other_engine = make_engine(respelled(url))
    other = job_lock_for(respelled(url), other_engine)
    try:
        assert not other.acquire()  # held by the first
        with engine.connect() as admin:  # the server cuts the first's session and waits for its end
            admin.execute(text("SELECT pg_terminate_backend(:pid, 30000)"), {"pid": _backend_pid(mine)})
            admin.commit()
        assert other.acquire()  # the lock died with the session; the other takes over
        job = running.scheduler.get_job("tick")
        with caplog.at_level("WARNING", logger="datasource.store_lock"):
            job.func()
        assert runs == [] and not mine.still_held()
        assert any("session ended" in r.getMessage() for r in caplog.records)
        other.release()
        job.func()  # free again: the first takes it back and runs
        assert runs == [1] and mine.still_held()
    finally:
        running.shutdown()
        other.release()
        other_engine.dispose()


def test_a_store_in_memory_locks_within_the_process():
    a, b = job_lock_for("sqlite:///:memory:"), job_lock_for("sqlite://")
    assert a.acquire() and not job_lock_for("sqlite:///:memory:").acquire()
    a.release()
    assert b.acquire()
    b.release()

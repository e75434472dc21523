"""The ``orderboard`` command: init, demo, serve and worker (without serving forever)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.schema import Order, StageRow
from datasource.settings import Settings
from datasource.store import make_engine
from orderboard import serving
from orderboard.cli import app

runner = CliRunner()


def test_init_creates_the_schema_and_stages(tmp_path):
    url = f"sqlite:///{tmp_path / 'init.db'}"
    result = runner.invoke(app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert "initialised" in result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StageRow)).scalar_one() == 10
    again = runner.invoke(app, ["init", "--db", url])
    assert again.exit_code == 0
    engine.dispose()


@pytest.mark.parametrize("command, options", [
    ("serve", ["--host", "--port", "--db", "--config", "--no-jobs"]),
    ("demo", ["--host", "--port", "--db", "--orders", "--seed", "--no-feed"]),
    ("worker", ["--db", "--config", "--demo"]),
])
def test_commands_document_their_options(command, options):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output


def test_demo_defaults_to_its_own_store(tmp_path, monkeypatch):
    """A demo never lands in the configured store unless --db says so."""
    seen = {}

    def fake_serve(settings, host, port, engine, jobs):
        seen.update(url=settings.database_url, host=host, port=port, jobs=[j.id for j in jobs])
        engine.dispose()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORDERBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'real.db'}")
    monkeypatch.setattr(serving, "serve_app", fake_serve)
    result = runner.invoke(app, ["demo", "--orders", "120", "--port", "8099"])
    assert result.exit_code == 0, result.output
    assert (seen["url"], seen["host"], seen["port"]) == ("sqlite:///orderboard-demo.db", "127.0.0.1", 8099)
    assert "demo-feed" in seen["jobs"]
    assert (tmp_path / "orderboard-demo.db").exists() and not (tmp_path / "real.db").exists()
    assert "seeded" in result.output
    # A second run reuses the demo store; --no-feed runs no jobs.
    again = runner.invoke(app, ["demo", "--orders", "120", "--no-feed"])
    assert again.exit_code == 0 and "reused" in again.output and "demo-feed" not in seen["jobs"]


def test_demo_refuses_a_store_with_real_data(store, monkeypatch):
    ingest(store.engine, store.pipeline, [OrderRecord("REAL-1")],
           [EventRecord("REAL-1", "placed", "enter", datetime(2026, 11, 1, tzinfo=timezone.utc))])
    monkeypatch.setattr(serving, "serve_app", lambda *a, **k: pytest.fail("must not serve"))
    result = runner.invoke(app, ["demo", "--db", store.url, "--orders", "50"])
    assert result.exit_code == 1
    assert "did not create" in result.output
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar_one() == 1


def test_worker_refuses_the_demo_feed_on_a_real_store(sqlite_store):
    result = runner.invoke(app, ["worker", "--db", sqlite_store.url, "--demo"])
    assert result.exit_code == 1 and "not a demo store" in result.output


def test_worker_runs_until_stopped_and_holds_the_lock(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}")
    stop, started = threading.Event(), threading.Event()
    thread = threading.Thread(target=serving.run_worker, args=(settings,),
                              kwargs={"stop": stop, "on_start": lambda ids: started.set()})
    thread.start()
    try:
        assert started.wait(10)
        result = runner.invoke(app, ["worker", "--db", settings.database_url])
        assert result.exit_code == 1 and "already runs the jobs" in result.output
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()

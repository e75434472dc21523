"""Opening a store: every entry point opens it with ``open_store``, which brings a store
made by an older version (or damaged by hand) up to the schema, and refuses, creating
nothing, where the store must already exist."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update
from typer.testing import CliRunner

from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.pipeline import default_pipeline
from datasource.schema import Base, Order, StageRow
from datasource.settings import Settings
from datasource.store import NoStore, data_version, make_engine, open_store
from orderboard import serving
from orderboard.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eventlog"
DROPPED_INDEXES = ("ix_orders_cancelled_at", "ix_visits_stage_left")
WANTED_INDEXES = {i.name for t in Base.metadata.sorted_tables for i in t.indexes}


def _indexes(engine) -> set[str]:
    inspector = inspect(engine)
    return {i["name"] for name in inspector.get_table_names() for i in inspector.get_indexes(name)}


def _age(engine) -> None:
    """Make the store look like one an older version left, then changed by hand: two
    indexes and a table missing, a stage's label not the configured one."""
    with engine.begin() as conn:
        for name in DROPPED_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("DROP TABLE audit_log"))
        conn.execute(update(StageRow).where(StageRow.code == "placed").values(label_en="Old label"))
    assert not set(DROPPED_INDEXES) & _indexes(engine)


def _assert_up_to_date(url: str) -> None:
    engine = make_engine(url)
    try:
        assert _indexes(engine) >= WANTED_INDEXES
        assert inspect(engine).has_table("audit_log")
        with engine.connect() as conn:
            assert conn.execute(select(StageRow.label_en).where(StageRow.code == "placed")).scalar_one() == "Placed"
    finally:
        engine.dispose()


def _serve_nothing(seen: dict):
    def fake_serve_app(settings, host, port, engine, jobs):
        seen["served"] = settings.database_url
        engine.dispose()
    return fake_serve_app


def start_init(url, tmp_path, monkeypatch):
    result = runner.invoke(app, ["init", "--db", url])
    assert result.exit_code == 0, result.output


def start_serve(url, tmp_path, monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(serving, "serve_app", _serve_nothing(seen))
    result = runner.invoke(app, ["serve", "--db", url, "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert seen["served"] == url


def start_wsgi(url, tmp_path, monkeypatch):
    from dashboard.wsgi import LazyServer

    monkeypatch.setenv("ORDERBOARD_DATABASE_URL", url)
    monkeypatch.setenv("ORDERBOARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ORDERBOARD_CACHE_URL", raising=False)
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    server = LazyServer().load()
    server.config["ORDERBOARD_CONTEXT"].engine.dispose()


def start_import(url, tmp_path, monkeypatch):
    result = runner.invoke(app, ["import", str(EXAMPLE / "events.csv"), "--mapping",
                                 str(EXAMPLE / "mapping.toml"), "--db", url,
                                 "--rejects", str(tmp_path / "events.rejects.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported ")


def start_worker(url, tmp_path, monkeypatch):
    stop, started = threading.Event(), []
    settings = Settings(database_url=url, report_dir=str(tmp_path / "reports"))

    def on_start(ids):  # started: stop at once
        started.append(ids)
        stop.set()

    thread = threading.Thread(target=serving.run_worker, args=(settings,),
                              kwargs={"stop": stop, "on_start": on_start})
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and started


def start_demo(url, tmp_path, monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(serving, "serve_app", _serve_nothing(seen))
    result = runner.invoke(app, ["demo", "--db", url, "--orders", "30", "--no-feed"])
    assert result.exit_code == 0, result.output
    assert seen["served"] == url


ENTRY_POINTS = [start_init, start_serve, start_wsgi, start_import, start_worker, start_demo]


@pytest.mark.parametrize("start", ENTRY_POINTS, ids=lambda f: f.__name__.removeprefix("start_"))
def test_each_entry_point_brings_back_dropped_indexes_a_table_and_the_stages(store, start, tmp_path,
                                                                            monkeypatch):
    _age(store.engine)
    store.engine.dispose()
    start(store.url, tmp_path, monkeypatch)
    _assert_up_to_date(store.url)


def test_opening_again_changes_nothing_and_keeps_the_data(store):
    ingest(store.engine, store.pipeline, [OrderRecord("KEEP-1")],
           [EventRecord("KEEP-1", "placed", "enter", datetime(2026, 11, 2, 9, tzinfo=timezone.utc))])
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_orders_cancelled_at"))
        conn.execute(text("UPDATE store_meta SET value = '42' WHERE key = 'data_version'"))
    for _ in range(2):  # the second time there is nothing to do
        open_store(store.url, store.pipeline).dispose()
    assert _indexes(store.engine) >= WANTED_INDEXES
    assert data_version(store.engine) == "42"  # no cached result is thrown away
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar_one() == 1


def test_web_workers_opening_together_all_start(store):
    """Several gunicorn workers open the store at their first request at the same time:
    each gets an engine, none fails on an index or a stage row another one just wrote."""
    _age(store.engine)
    pipeline = default_pipeline()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait(10)
            open_store(store.url, pipeline, create=False).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    _assert_up_to_date(store.url)


def test_serve_and_the_wsgi_app_refuse_a_missing_sqlite_store_and_create_nothing(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(NoStore, match="no order store at"):
        start_wsgi(url, tmp_path, monkeypatch)
    result = runner.invoke(app, ["serve", "--db", url])
    assert result.exit_code == 1 and "no order store at" in result.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.postgres
def test_serve_and_the_wsgi_app_refuse_an_empty_postgresql_schema_and_create_nothing(
        pg_schema, tmp_path, monkeypatch):
    with pytest.raises(NoStore, match="none of OrderBoard's tables"):
        start_wsgi(pg_schema, tmp_path, monkeypatch)
    result = runner.invoke(app, ["serve", "--db", pg_schema])
    assert result.exit_code == 1 and "none of OrderBoard's tables" in result.output
    engine = make_engine(pg_schema)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from information_schema.tables "
                                 "where table_schema = current_schema()")).scalar_one() == 0
    engine.dispose()


def test_the_import_opens_the_store_the_same_way_with_a_bigger_sqlite_page_cache(sqlite_store):
    from datasource.importers.run import SQLITE_IMPORT_CACHE_KIB, with_import_cache

    _age(sqlite_store.engine)
    engine = with_import_cache(open_store(sqlite_store.url, sqlite_store.pipeline))
    try:
        with engine.connect() as conn:  # also the connection open_store left in the pool
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_IMPORT_CACHE_KIB
    finally:
        engine.dispose()
    _assert_up_to_date(sqlite_store.url)


def _hold_exclusive(store):
    """Another session holding the orders exclusively, as a hung import or a DBA's lock
    would; returns a function that releases it."""
    import sqlite3

    if store.backend == "sqlite":
        store.engine.dispose()  # WAL: an exclusive lock needs every other connection closed
        holder = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE store_meta SET value = value")
        return holder.close
    conn = store.engine.connect()
    trans = conn.begin()
    conn.execute(text("LOCK TABLE orders, order_events, store_meta IN ACCESS EXCLUSIVE MODE"))
    return lambda: (trans.rollback(), conn.close())


def test_a_web_engine_gives_up_on_a_locked_store_and_reads_after_the_release(store):
    """The web app's engine (``wait_s``) ends a wait for a lock with an error instead of
    holding the request: PostgreSQL's statement_timeout, SQLite's busy timeout."""
    from sqlalchemy.exc import OperationalError

    from datasource.store import make_engine

    web = make_engine(store.url, wait_s=1)
    assert data_version(web) == "0"
    web.dispose()  # SQLite: no open reader while the lock is taken
    release = _hold_exclusive(store)
    try:
        with pytest.raises(OperationalError) as caught:
            data_version(web)
        words = str(caught.value).lower()
        assert ("statement timeout" in words) if store.backend == "postgres" else ("locked" in words)
    finally:
        release()
    assert data_version(web) == "0"
    web.dispose()


def test_postgres_bounds_come_from_one_setting_and_keep_the_urls_options(pg_schema):
    from datasource.store import make_engine

    web = make_engine(pg_schema, wait_s=2.5)
    with web.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "2500ms"
        assert conn.execute(text("SHOW search_path")).scalar().startswith("ob_test_")
    assert web.pool.timeout() == 2.5
    web.dispose()
    unbounded = make_engine(pg_schema)  # imports and jobs: long statements allowed
    with unbounded.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    unbounded.dispose()


def test_the_wsgi_app_serves_with_bounded_waits(pg_schema, tmp_path, monkeypatch):
    """gunicorn's workers read through an engine bounded by wait_s, as ``serve`` does."""
    open_store(pg_schema, default_pipeline()).dispose()
    monkeypatch.setenv("ORDERBOARD_WAIT_S", "3")
    from dashboard.wsgi import LazyServer

    monkeypatch.setenv("ORDERBOARD_DATABASE_URL", pg_schema)
    monkeypatch.setenv("ORDERBOARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    engine = LazyServer().load().config["ORDERBOARD_CONTEXT"].engine
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "3s"
    assert engine.pool.timeout() == 3
    engine.dispose()

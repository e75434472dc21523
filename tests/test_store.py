"""Opening a store: init_schema is idempotent and brings an older store's indexes up to date;
a web engine bounds its waits."""

import pytest
from sqlalchemy import inspect, text

from datasource.schema import Base
from datasource.store import data_version, init_schema


def _indexes(engine) -> set[str]:
    inspector = inspect(engine)
    return {i["name"] for t in Base.metadata.sorted_tables for i in inspector.get_indexes(t.name)}


def test_init_creates_an_index_missing_from_an_older_store_and_keeps_the_data(store):
    wanted = {i.name for t in Base.metadata.sorted_tables for i in t.indexes}
    assert wanted <= _indexes(store.engine)
    with store.engine.begin() as conn:  # a store made before the index was in the schema
        conn.execute(text("DROP INDEX ix_orders_cancelled_at"))
        conn.execute(text("UPDATE store_meta SET value = '42' WHERE key = 'data_version'"))
    assert "ix_orders_cancelled_at" not in _indexes(store.engine)
    init_schema(store.engine, store.pipeline)
    init_schema(store.engine, store.pipeline)  # and again: nothing to do
    assert wanted <= _indexes(store.engine)
    assert data_version(store.engine) == "42"


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

"""Opening a store: init_schema is idempotent and brings an older store's indexes up to date."""

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

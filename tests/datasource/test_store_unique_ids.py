"""Event and finding ids are unique through unique indexes (a whole load builds them once
at its end); a store made before, where table constraints kept them unique, is converted
by ``open_store``: every row kept with its id, duplicates still refused, and importing
the same file again still imports nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, UniqueConstraint, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from datasource.importers.run import import_file, prepare_import
from datasource.pipeline import default_pipeline
from datasource.schema import Base, StoreMeta
from datasource.store import DATA_VERSION, UNIQUE_INDEXES, make_engine, open_store, sync_stages
from tests.datasource.importers.test_import_bulkload import PLAIN, dump_store, event_log

INDEX_OF = {"order_events": "ux_events_uid", "data_quality_findings": "ux_findings_uid"}


def old_schema() -> MetaData:
    """The tables as versions before this one made them: event and finding ids unique by
    a table constraint (``unique=True`` on the column), not by an index."""
    old = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(old)
    for name, column in UNIQUE_INDEXES:
        table = old.tables[name]
        for index in [i for i in table.indexes if i.unique]:
            table.indexes.discard(index)
        table.append_constraint(UniqueConstraint(column))
    return old


def unique_constraints(engine: Engine) -> dict[str, list]:
    inspector = inspect(engine)
    return {name: [c["column_names"] for c in inspector.get_unique_constraints(name)]
            for name, _ in UNIQUE_INDEXES}


def unique_indexes(engine: Engine) -> dict[str, list]:
    inspector = inspect(engine)
    return {name: sorted((i["name"], i["column_names"]) for i in inspector.get_indexes(name)
                         if i["unique"] and not i.get("duplicates_constraint"))
            for name, _ in UNIQUE_INDEXES}


def indexes(engine: Engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {name: sorted(i["name"] for i in inspector.get_indexes(name)) for name, _ in UNIQUE_INDEXES}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("pg_schema")


def test_a_new_store_keeps_ids_unique_by_indexes(url):
    engine = open_store(url, default_pipeline())
    try:
        assert unique_constraints(engine) == {"order_events": [], "data_quality_findings": []}
        assert unique_indexes(engine) == {"order_events": [("ux_events_uid", ["event_uid"])],
                                          "data_quality_findings": [("ux_findings_uid", ["finding_uid"])]}
    finally:
        engine.dispose()


def test_a_store_made_before_is_converted_with_every_row(url, tmp_path: Path):
    pipeline = default_pipeline()
    data, mapping = tmp_path / "log.csv", tmp_path / "mapping.toml"
    data.write_text(event_log(7, 300, False), encoding="utf-8")
    mapping.write_text(PLAIN, encoding="utf-8")
    old = make_engine(url)
    try:
        old_schema().create_all(old)
        with old.begin() as conn:  # what open_store wrote besides the tables
            sync_stages(conn, pipeline)
            conn.execute(insert(StoreMeta), [{"key": DATA_VERSION, "value": "0"}])
        assert unique_constraints(old) == {"order_events": [["event_uid"]],
                                           "data_quality_findings": [["finding_uid"]]}
        first = import_file(old, prepare_import(data, mapping, pipeline), tmp_path / "r.csv",
                            whole=False)
        before = dump_store(old, ids=True, audit=True)
        dump_store_rows = dump_store(old, ids=True)
        indexes_before = indexes(old)
    finally:
        old.dispose()
    assert first.events_added > 0 and first.findings

    engine = open_store(url, pipeline)
    try:
        assert unique_constraints(engine) == {"order_events": [], "data_quality_findings": []}
        assert unique_indexes(engine) == {name: [(INDEX_OF[name], [column])]
                                          for name, column in UNIQUE_INDEXES}
        # exactly the schema's indexes: the others made again (SQLite) or kept (PostgreSQL)
        assert indexes(engine) == {name: sorted(i.name for i in Base.metadata.tables[name].indexes)
                                   for name, _ in UNIQUE_INDEXES}
        assert all(set(indexes_before[name]) - {f"{name}_{column}_key"} <= set(found)
                   for (name, column), found in zip(UNIQUE_INDEXES, indexes(engine).values()))
        assert dump_store(engine, ids=True, audit=True) == before

        again = import_file(engine, prepare_import(data, mapping, pipeline), tmp_path / "r.csv")
        assert (again.imported, again.updated, again.events_added, again.orders_created) == (0, 0, 0, 0)
        assert dump_store(engine, ids=True) == dump_store_rows
        after = dump_store(engine, ids=True, audit=True)

        with engine.begin() as conn:
            uid = conn.execute(text("SELECT event_uid FROM order_events LIMIT 1")).scalar_one()
            finding = conn.execute(text("SELECT finding_uid FROM data_quality_findings LIMIT 1")).scalar_one()
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO order_events (event_uid, order_id, event_type, occurred_at) "
                              "SELECT :uid, order_id, event_type, occurred_at FROM order_events LIMIT 1"),
                         {"uid": uid})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO data_quality_findings (finding_uid, kind, detail, found_at) "
                              "SELECT :uid, kind, detail, found_at FROM data_quality_findings LIMIT 1"),
                         {"uid": finding})
    finally:
        engine.dispose()

    reopened = open_store(url, pipeline)  # nothing left to convert: nothing changes
    try:
        assert unique_constraints(reopened) == {"order_events": [], "data_quality_findings": []}
        assert indexes(reopened) == indexes(engine)
        assert dump_store(reopened, ids=True, audit=True) == after
    finally:
        reopened.dispose()

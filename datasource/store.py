"""Opening the order store: engine, schema, the stage pipeline and the data version."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Connection

from datasource.pipeline import Pipeline, Stage
from datasource.schema import Base, StageRow, StoreMeta

DATA_VERSION = "data_version"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for a SQLite file or PostgreSQL URL. SQLite gets WAL and a busy timeout
    so the web app can read while the demo feed or an import writes."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def init_schema(engine: Engine, pipeline: Pipeline) -> None:
    """Create missing tables and indexes and write the pipeline's stages (idempotent).

    ``create_all`` skips a table that exists with all its indexes, so an index added to
    the schema after a store was created is created here (on a large store this takes a
    while, once). Indexes are never dropped or changed here.
    """
    Base.metadata.create_all(engine)
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with engine.begin() as conn:
        sync_stages(conn, pipeline)
        has_version = conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == DATA_VERSION)
        ).scalar_one_or_none()
        if has_version is None:
            conn.execute(insert(StoreMeta), [{"key": DATA_VERSION, "value": "0"}])


def sync_stages(conn: Connection, pipeline: Pipeline) -> None:
    conn.execute(delete(StageRow))
    conn.execute(insert(StageRow), [_stage_row(s, pipeline) for s in pipeline.stages])


def _stage_row(stage: Stage, pipeline: Pipeline) -> dict:
    return {
        "code": stage.code,
        "label_zh": stage.label_zh,
        "label_en": stage.label_en,
        "position": stage.position,
        "sla_hours": stage.sla_hours,
        "department": stage.department,
        "terminal": stage.code == pipeline.terminal,
        "optional": stage.optional,
    }


def bump_data_version(conn: Connection) -> None:
    """Move the data version on: cached results keyed by the old one are not reused."""
    conn.execute(
        update(StoreMeta)
        .where(StoreMeta.key == DATA_VERSION)
        .values(value=str(int(utcnow().timestamp() * 1_000_000)))
    )


def data_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == DATA_VERSION)
        ).scalar_one()

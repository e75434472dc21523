"""Opening the order store: engine, schema, the stage pipeline and the data version."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, insert, inspect, make_url, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from datasource.pipeline import Pipeline, Stage
from datasource.schema import Base, StageRow, StoreMeta

DATA_VERSION = "data_version"
SQLITE_BUSY_S = 30  # without a wait bound: an import may hold the write lock a while


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str, wait_s: float | None = None, **kwargs) -> Engine:
    """An engine for a SQLite file or PostgreSQL URL. SQLite gets WAL and a busy timeout
    so the web app can read while the demo feed or an import writes.

    ``wait_s`` bounds every wait for the store (the web app passes its ``wait_s`` setting,
    below the web worker's timeout): PostgreSQL's ``statement_timeout`` (which also ends
    a wait for a lock) and ``connect_timeout``, SQLite's busy timeout, and the wait for a
    pooled connection. ``None`` (imports, jobs, the CLI) keeps long statements allowed
    and waits for a SQLite lock up to ``SQLITE_BUSY_S``.
    """
    if wait_s is not None:
        kwargs.setdefault("pool_timeout", wait_s)
    if url.startswith("sqlite"):
        busy_s = SQLITE_BUSY_S if wait_s is None else wait_s
        engine = create_engine(url, connect_args={"timeout": busy_s}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    connect_args: dict = {}
    parsed = make_url(url)
    if wait_s is not None and parsed.get_backend_name() == "postgresql":
        given = parsed.query.get("options") or ()  # e.g. a search_path: kept
        given = (given,) if isinstance(given, str) else tuple(given)
        connect_args = {
            # libpq takes whole seconds (and treats 1 as 2); never 0, which means "forever"
            "connect_timeout": max(2, math.ceil(wait_s)),
            "options": " ".join((*given, f"-c statement_timeout={int(wait_s * 1000)}")),
        }
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class NoStore(Exception):
    """There is no usable order store at a URL; ``str()`` is one line naming the store.

    ``outdated`` is true when the store exists but lacks tables a newer version added
    (``init_schema`` adds them), false when there is no store there at all.
    """

    def __init__(self, message: str, outdated: bool = False) -> None:
        super().__init__(message)
        self.outdated = outdated


class StoreUnreachable(NoStore):
    """The database server did not let us in (down, wrong host, port or credentials)."""


def unreachable(url: str, exc: OperationalError) -> StoreUnreachable:
    """The one-line error for a database that refused ``url`` (the driver's first line)."""
    parsed = make_url(url)
    shown = parsed.database if parsed.get_backend_name() == "sqlite" else parsed.render_as_string(
        hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return StoreUnreachable(f"cannot use the order store {shown}: {reason}")


def open_existing_store(url: str) -> Engine:
    """An engine on a store that already has the schema, for commands that only read.

    Raises NoStore and creates nothing otherwise: SQLite creates a missing file on the
    first connection, so the file is looked for before connecting; on PostgreSQL (and
    for an empty SQLite file) the schema's tables must be there.
    """
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise NoStore(f"no order store at {parsed.database}")
        shown = parsed.database
    engine = make_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(url, exc) from None
    missing = [name for name in Base.metadata.tables if name not in present]
    if missing:
        engine.dispose()
        if len(missing) == len(Base.metadata.tables):
            raise NoStore(f"no order store at {shown} (it has none of OrderBoard's tables)")
        raise NoStore(f"the order store {shown} lacks the tables {', '.join(missing)} "
                      "(made by an older OrderBoard)", outdated=True)
    return engine


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

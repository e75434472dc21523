"""Opening the order store: engine, schema, the stage pipeline and the data version."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, insert, inspect, make_url, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable

from datasource.pipeline import Pipeline, Stage
from datasource.schema import Base, StageRow, StoreMeta

DATA_VERSION = "data_version"
#: Columns that older stores keep unique with a table constraint and the schema with a
#: unique index (a whole load builds it at its end: ``bulk.secondary_indexes_rebuilt``).
UNIQUE_INDEXES = (("order_events", "event_uid"), ("data_quality_findings", "finding_uid"))
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
    (``open_store`` adds them), false when there is no store there at all.
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


def open_store(url: str, pipeline: Pipeline, *, create: bool = True) -> Engine:
    """The one way to open the store for use: ``init``, ``import``, ``worker``, ``demo``,
    ``serve`` and the WSGI app all call it.

    With ``create`` (init, import, worker, demo) a store that does not exist is created;
    without it (serve, the WSGI app) it is refused with NoStore and nothing is created.
    Then the store is brought up to the schema (``upgrade_store``): missing tables, missing
    indexes on existing tables, the pipeline's stages. Raises StoreUnreachable when the
    database refuses us.
    """
    engine = make_engine(url) if create else _engine_on_store(url)[0]
    try:
        upgrade_store(engine, pipeline)
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(url, exc) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def open_existing_store(url: str) -> Engine:
    """An engine on a store that already has the whole schema, for commands that only
    read (metrics, report, quality): they change nothing, not even a missing index.

    Raises NoStore otherwise (``outdated`` when tables are missing) and creates nothing.
    """
    engine, shown, missing = _engine_on_store(url)
    if missing:
        engine.dispose()
        raise NoStore(f"the order store {shown} lacks the tables {', '.join(missing)} "
                      "(made by an older OrderBoard)", outdated=True)
    return engine


def _engine_on_store(url: str) -> tuple[Engine, str, list[str]]:
    """An engine on a store that exists, how to name it, and the schema's tables it lacks.

    Raises NoStore and creates nothing when there is no store: SQLite creates a missing
    file on the first connection, so the file is looked for before connecting; on
    PostgreSQL (and for an empty SQLite file) at least one of the schema's tables must
    be there.
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
    if len(missing) == len(Base.metadata.tables):
        engine.dispose()
        raise NoStore(f"no order store at {shown} (it has none of OrderBoard's tables)")
    return engine, shown, missing


def upgrade_store(engine: Engine, pipeline: Pipeline) -> None:
    """Create missing tables and missing indexes, write the pipeline's stages when they
    differ from the stored ones, add the data version if absent (idempotent).

    ``create_all`` skips an existing table together with its indexes, so each index is
    created on its own (``IF NOT EXISTS``): an index added to the schema after a store was
    made, or one dropped by hand, comes back (on a large store this takes a while, once).
    Nothing is ever dropped or changed, except the unique constraints of event and finding
    ids, which become the schema's unique indexes (``unique_constraints_as_indexes``).
    All of it is one transaction under a lock, so web workers starting together neither
    collide nor see half a schema.
    """
    with engine.begin() as conn:
        _lock_schema(conn)
        Base.metadata.create_all(conn)
        unique_constraints_as_indexes(conn)
        # Only the missing ones: CREATE INDEX takes a lock on its table even when the index
        # exists, which would deadlock with an import writing to the same tables.
        inspector = inspect(conn)
        for table in Base.metadata.sorted_tables:
            present = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in present:
                    conn.execute(CreateIndex(index, if_not_exists=True))
        sync_stages(conn, pipeline)
        has_version = conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == DATA_VERSION)
        ).scalar_one_or_none()
        if has_version is None:
            conn.execute(insert(StoreMeta), [{"key": DATA_VERSION, "value": "0"}])


def unique_constraints_as_indexes(conn: Connection) -> None:
    """Drop the unique constraints a store made before has on event and finding ids
    (``UNIQUE_INDEXES``); ``upgrade_store`` then creates the schema's unique indexes in
    their place. Same values, same refusals of a duplicate, every row kept with its id.

    PostgreSQL drops the constraint. SQLite cannot, so the table is made again: a new
    table from the schema, every row copied into it, the old table dropped and the new
    one renamed (its indexes are then created again). Nothing references these two
    tables, so no foreign key is affected. On a large store this takes a while, once.
    """
    inspector = inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    for name, column in UNIQUE_INDEXES:
        found = [c for c in inspector.get_unique_constraints(name) if c["column_names"] == [column]]
        if not found:
            continue
        if conn.dialect.name != "sqlite":
            for constraint in found:
                assert constraint["name"] is not None  # PostgreSQL names every constraint
                conn.execute(text(f"ALTER TABLE {quote(name)} DROP CONSTRAINT {quote(constraint['name'])}"))
            continue
        table = Base.metadata.tables[name]
        stored = {c["name"] for c in inspector.get_columns(name)}
        columns = ", ".join(quote(c.name) for c in table.columns if c.name in stored)
        scratch = f"{name}_rebuilt"
        made = str(CreateTable(table).compile(dialect=conn.dialect)).strip()
        head = f"CREATE TABLE {quote(name)} ("
        assert made.startswith(head), made
        conn.exec_driver_sql(f"CREATE TABLE {quote(scratch)} (" + made[len(head):])
        conn.exec_driver_sql(f"INSERT INTO {quote(scratch)} ({columns}) SELECT {columns} FROM {quote(name)}")
        conn.exec_driver_sql(f"DROP TABLE {quote(name)}")
        conn.exec_driver_sql(f"ALTER TABLE {quote(scratch)} RENAME TO {quote(name)}")


def _lock_schema(conn: Connection) -> None:
    """Serialise schema changes: a transaction-scoped advisory lock per schema on
    PostgreSQL; on SQLite an immediate transaction (the database's one write lock; the
    driver would otherwise run each CREATE on its own, outside any transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('orderboard.schema:' "
                          "|| coalesce(current_schema(), '')))"))
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def sync_stages(conn: Connection, pipeline: Pipeline) -> None:
    """Make the stages table hold the pipeline's stages; writes nothing when it does."""
    wanted = [_stage_row(s, pipeline) for s in pipeline.stages]
    stored = [dict(r._mapping) for r in conn.execute(select(StageRow.__table__))]
    if sorted(stored, key=lambda r: r["code"]) == sorted(wanted, key=lambda r: r["code"]):
        return
    conn.execute(delete(StageRow))
    conn.execute(insert(StageRow), wanted)


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


def kept_secret(engine: Engine, name: str) -> str:
    """A random key made once and kept in ``store_meta`` under ``name``, so every process
    serving this store agrees on it (two processes making it at once: the first one
    stored wins)."""
    import secrets

    from sqlalchemy.exc import IntegrityError

    def stored() -> str | None:
        with engine.connect() as conn:
            return conn.execute(select(StoreMeta.value).where(StoreMeta.key == name)).scalar_one_or_none()

    found = stored()
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(insert(StoreMeta).values(key=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass
    found = stored()
    assert found is not None
    return found

"""Inserting many rows at once.

On SQLite, ``insert(Table)`` with a list of dicts runs every value through its column
type's bind processor in Python; for a bulk import that is millions of calls
(``UTCDateTime`` alone costs about 4 us a value, as much as SQLite's own insert work).
``insert_rows`` keeps the same guarantees there at a fraction of the cost:

- the statement is compiled by SQLAlchemy for the dialect (quoting, parameters), once
  per call;
- each column's conversion is chosen once: ``UTCDateTime`` columns refuse naive
  datetimes and store naive UTC as exactly the text SQLAlchemy's SQLite ``DATETIME``
  writes (reads through the models and raw reads see no difference), and each instant
  object is converted once (an event's time is also a visit's start, the previous
  visit's end, an order's placed_at...); other columns keep their type's processor;
- the rows go to the driver's ``executemany`` in one call.

Other databases take SQLAlchemy's own ``insert``: there the cost is the round trips,
and SQLAlchemy batches the rows into multi-row ``VALUES`` statements ("insertmanyvalues"),
which a plain ``executemany`` would not.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from itertools import chain, islice
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import FromClause

from datasource.schema import UTCDateTime, stored_utc


def sqlite_instant(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores for an instant (``stored_utc``)."""
    if value.tzinfo is timezone.utc:  # the usual case: one call, "+00:00" cut off
        return value.isoformat(" ", "microseconds")[:-6]
    return stored_utc(value).isoformat(" ", "microseconds")


def insert_rows(conn: Connection, table: FromClause, rows: Sequence[dict[str, Any]],
                memo: dict[int, tuple] | None = None) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``).

    Columns left out get their scalar Python default (``default=``), as with ``insert``.
    Pass the same ``memo`` (an empty dict at first) to several calls in one transaction
    to convert each instant object once across them; it keeps the objects it has seen,
    so an id in it cannot be taken by another object while it lives.
    """
    if not rows:
        return
    assert isinstance(table, Table), "insert_rows writes into a table"
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(rows[0]))
    keys = list(compiled.positiontup or ())
    given = set(rows[0])
    defaults = {}
    for key in keys:
        if key not in given:
            default = table.c[key].default
            if default is None or not default.is_scalar:
                raise ValueError(f"insert into {table.name}: no value for {key}")
            defaults[key] = default.arg
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    # Column by column: one comprehension per column instead of Python steps per cell.
    columns = [[row[key] for row in rows] for key in keys]
    memo = {} if memo is None else memo
    for i, key in enumerate(keys):
        column_type = table.c[key].type
        if isinstance(column_type, UTCDateTime):
            columns[i] = [None if value is None else _stored_text(value, memo)
                          for value in columns[i]]
        else:
            convert = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            if convert is not None:
                columns[i] = [convert(value) for value in columns[i]]
    conn.exec_driver_sql(str(compiled), list(zip(*columns)))


def _stored_text(value: datetime, memo: dict[int, tuple]) -> str:
    hit = memo.get(id(value))
    if hit is None:
        hit = memo[id(value)] = (value, sqlite_instant(value))
    return hit[1]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during bulk work (an import, seeding the
    demo): it builds millions of short-lived containers that reference counting frees,
    and the collector would walk the live ones again and again for nothing (15 % of an
    event-log import's CPU time, a third of seeding 1M demo orders). The few cycles made
    meanwhile are collected once it resumes; it is restored also on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Rows per SQLite INSERT statement in ``write_columns``, and SQLite's limit of
# parameters in one statement (3.32 and later).
ROWS_PER_INSERT = 200
SQLITE_MAX_PARAMETERS = 32_766


class Same:
    """One value for every row of a column (``write_columns``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def write_columns(conn: Connection, table: FromClause, columns: dict[str, Any], rows: int) -> None:
    """Insert ``rows`` rows given column by column: each value of ``columns`` is a
    sequence of ``rows`` values or a ``Same``. Values are in the form the database
    stores: instants as ``sqlite_instant`` text (naive UTC; PostgreSQL reads the same
    text), booleans as bool, no ``None`` where the column has a default.

    SQLite: one prepared ``INSERT`` through the driver's ``executemany``, with each
    ``Same`` written into the statement as a literal (a bound value costs per row);
    PostgreSQL: ``COPY FROM STDIN``.
    """
    if not rows:
        return
    assert isinstance(table, Table), "write_columns writes into a table"
    columns = dict(columns)
    for column in table.columns:  # those left out get their default, as with insert()
        if column.key in columns or column.primary_key:
            continue
        if column.default is not None and column.default.is_scalar:
            columns[column.key] = Same(column.default.arg)
        elif not column.nullable and column.server_default is None:
            raise ValueError(f"write into {table.name}: no value for {column.key}")
    names = list(columns)
    quote = conn.dialect.identifier_preparer.quote
    target = f"{conn.dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, names))})"
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    varying = [n for n in names if not isinstance(columns[n], Same)]
    for n in varying:
        if len(columns[n]) != rows:
            raise ValueError(f"{table.name}.{n}: {len(columns[n])} values for {rows} rows")
    if conn.dialect.name == "sqlite":
        row = "(" + ", ".join("?" if n in varying else _sqlite_literal(columns[n].value)
                              for n in names) + ")"
        # Many rows per statement: the driver's cost is per executed row of parameters.
        # Not into a table with a unique constraint: SQLite then takes longer per row.
        # (Unique indexes are dropped while a load writes: secondary_indexes_rebuilt.)
        per = 1 if any(c.unique for c in table.columns) else max(
            1, min(ROWS_PER_INSERT, SQLITE_MAX_PARAMETERS // max(1, len(varying))))
        whole = rows - rows % per
        cursor = dbapi.cursor()
        try:
            if not varying:
                for start in range(0, rows, per):
                    cursor.execute(f"INSERT INTO {target} VALUES {', '.join([row] * min(per, rows - start))}")
                return
            values = [columns[n] for n in varying]
            if whole:
                flat = chain.from_iterable(zip(*(islice(v, whole) for v in values)))
                cursor.executemany(f"INSERT INTO {target} VALUES {', '.join([row] * per)}",
                                   zip(*[flat] * (per * len(varying))))
            if rows - whole:
                cursor.execute(f"INSERT INTO {target} VALUES {', '.join([row] * (rows - whole))}",
                               tuple(chain.from_iterable(zip(*(islice(v, whole, None) for v in values)))))
        finally:
            cursor.close()
        return
    from itertools import repeat

    streams = [repeat(columns[n].value, rows) if isinstance(columns[n], Same) else columns[n]
               for n in names]
    with dbapi.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for cells in zip(*streams):
            copy.write_row(cells)


def _sqlite_literal(value: Any) -> str:
    """A value written into an SQLite statement: NULL, a number, or a quoted text (its
    quotes doubled: SQLite's only escape)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "NULL"
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"cannot write {value!r} as an SQLite literal")


# SQLite's page cache while a load builds its indexes (KiB): SQLite sorts an index's
# entries in memory up to the cache's size and merges runs from temporary files beyond
# it; 512 MiB holds the sort of each index of 1.65 M events (a fifth less CPU for the
# builds than with the import's 64 MiB). Pages are taken only as needed.
INDEX_BUILD_CACHE_KIB = 512 * 1024


@contextmanager
def secondary_indexes_rebuilt(conn: Connection, tables: Sequence[FromClause]) -> Iterator[None]:
    """On SQLite, drop the named indexes of ``tables`` and create them again at the end:
    building an index from a full table (one sort) costs a fraction of keeping it up
    to date row by row. Both happen in the caller's transaction, so a failure or a
    crash in between leaves the store with its indexes as before (the rollback puts
    them back). The indexes are built with a larger page cache
    (``INDEX_BUILD_CACHE_KIB``), the connection's own afterwards. Unique indexes are
    among them (event and finding ids): the caller writes no duplicate, and if it did,
    creating the index again would refuse it and the transaction would roll back.
    Unique constraints stay (they belong to the tables: the order numbers').

    On PostgreSQL nothing is dropped: dropping an index takes a lock that every reader
    of the table would wait on until the load commits."""
    from sqlalchemy.schema import CreateIndex, DropIndex

    if conn.dialect.name != "sqlite":
        yield
        return
    indexes = [index for table in tables if isinstance(table, Table)
               for index in sorted(table.indexes, key=lambda i: str(i.name))]
    for index in indexes:
        conn.execute(DropIndex(index, if_exists=True))
    yield
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{INDEX_BUILD_CACHE_KIB}")
    try:
        for index in indexes:
            conn.execute(CreateIndex(index))
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


@contextmanager
def rollback_journal(conn: Connection) -> Iterator[bool]:
    """On SQLite, ``conn``'s store in rollback-journal mode (``DELETE``, with
    ``synchronous=FULL``) for a load into a fresh store, and in WAL mode again
    afterwards, after a failure too; yields whether the switch was made. Call it outside
    a transaction; the load's transaction goes inside.

    In WAL mode every page a load writes is written twice: to the WAL, then, at the
    commit's checkpoint, into the store. A rollback journal keeps only the pages that
    existed before the transaction, so the pages a load adds to an empty store are
    written once; a crash or a failure rolls back to the store as it was, as with the
    WAL (a crash leaves a journal that the next connection plays back). SQLite makes the
    switch only when no other connection has the store open (a web worker, the
    scheduler); otherwise it refuses at once and the load runs in WAL mode. While a load
    runs in this mode, a process opening the store waits for it (each connection asks
    for WAL when it opens), and so do readers once the load has written pages."""
    if conn.dialect.name != "sqlite":
        yield False
        return
    busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        mode = conn.exec_driver_sql("PRAGMA journal_mode=DELETE").scalar_one()
    except OperationalError:  # "database is locked": another connection has it open
        mode = "wal"
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy)}")
    if mode != "delete":
        conn.commit()
        yield False
        return
    synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    conn.exec_driver_sql("PRAGMA synchronous=FULL")
    conn.commit()
    try:
        yield True
    finally:
        conn.rollback()  # (a failed load's transaction is over already; nothing is pending)
        conn.exec_driver_sql(f"PRAGMA synchronous={int(synchronous)}")
        with suppress(OperationalError):  # a reader got in: the next connection asks for WAL
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.commit()

"""Store-wide named locks: one process at a time per store holds ``jobs`` (the scheduled
jobs run in exactly one process) or ``import`` (one import at a time).

A lock belongs to the store, not to the way a process spells its URL or to the host it
runs on:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) whose key is
  derived from the store's identity, a random id written once into ``store_meta``
  (``store_identity``). ``localhost`` and ``127.0.0.1``, another TMPDIR, a container or
  another host all reach the same store, so they all meet the same lock. One pooled
  connection holds it for the life of the process (idle, not in a transaction); the
  server drops the lock when that session ends, so a killed worker leaves none behind.
  A connection pooler in transaction mode would break session locks: connect the
  worker directly or through session pooling.
- SQLite: an exclusive ``fcntl.flock`` on ``<database file>.<name>.lock`` beside the
  resolved database file (every spelling of the path resolves to it; the kernel drops
  the lock with the process).
- SQLite in memory: each process has its own store, so a lock inside the process.

Every lock is non-blocking: a process that does not get it runs no jobs (an import polls,
``datasource.importers.lock``). ``still_held`` is asked before each job run, so a process
whose lock went away (its PostgreSQL session was cut) runs nothing until it holds the
lock again.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import IO, ClassVar, Protocol

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from datasource.schema import StoreMeta

log = logging.getLogger(__name__)

STORE_ID_KEY = "store_id"
LOCK_PREFIX = "orderboard-"


class JobLock(Protocol):
    def acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...
    def describe(self) -> str: ...


def store_identity(engine: Engine) -> str:
    """The store's random id (``store_meta`` row ``store_id``), created on first use.
    Two processes creating it at once both end up with the one that was stored first."""
    with engine.connect() as conn:
        found = conn.execute(select(StoreMeta.value).where(StoreMeta.key == STORE_ID_KEY)).scalar()
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(insert(StoreMeta), [{"key": STORE_ID_KEY, "value": uuid.uuid4().hex}])
    except IntegrityError:
        pass  # another process stored one first: that one is the store's
    with engine.connect() as conn:
        return conn.execute(select(StoreMeta.value).where(StoreMeta.key == STORE_ID_KEY)).scalar_one()


def advisory_key(identity: str, name: str = "jobs") -> int:
    """A signed 64-bit advisory-lock key for the lock ``name`` of a store identity."""
    digest = hashlib.sha256(f"{LOCK_PREFIX}{name}:{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FileJobLock:
    """An exclusive, non-blocking file lock held for the life of the process (or until
    ``release``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def describe(self) -> str:
        return f"lock file {self.path}"


class LocalJobLock:
    """A lock within this process (a store in memory exists in one process only)."""

    _held: ClassVar[set[str]] = set()
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name
        self._mine = False

    def acquire(self) -> bool:
        with self._guard:
            if self.name in self._held:
                return False
            self._held.add(self.name)
            self._mine = True
            return True

    def still_held(self) -> bool:
        return self._mine

    def release(self) -> None:
        with self._guard:
            if self._mine:
                self._held.discard(self.name)
                self._mine = False

    def describe(self) -> str:
        return f"in-process lock {self.name}"


class AdvisoryJobLock:
    """A PostgreSQL session-level advisory lock on ``key``, held by one connection of
    ``engine`` that stays checked out (and idle) while the lock is held."""

    def __init__(self, engine: Engine, key: int, identity: str = "") -> None:
        self.engine = engine
        self.key = key
        self.identity = identity
        self._conn: Connection | None = None
        self._guard = threading.Lock()  # jobs run in several scheduler threads

    def acquire(self) -> bool:
        with self._guard:
            return self._acquire()

    def _acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
            conn.commit()  # the lock is the session's; no transaction (and snapshot) stays open
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """True while the session holding the lock is alive; after it was lost (a server
        restart, a cut connection), true again only if the lock could be taken back."""
        with self._guard:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.commit()
                    return True
                except DBAPIError as exc:
                    log.warning("the job lock's database session ended (%s); taking the lock again",
                                type(exc.orig or exc).__name__)
                    self._drop()
            try:
                return self._acquire()
            except DBAPIError as exc:
                log.warning("cannot take the job lock back: %s", type(exc.orig or exc).__name__)
                return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001 - the session is gone already
                pass

    def release(self) -> None:
        with self._guard:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                conn.commit()
                conn.close()
            except DBAPIError:  # the session is gone, and its lock with it
                conn.invalidate()
                conn.close()

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key} (store id {self.identity})"


def job_lock_for(database_url: str | URL, engine: Engine | None = None) -> JobLock:
    """The jobs lock of the store at ``database_url``."""
    return store_lock_for(database_url, engine, "jobs")


def beside_sqlite_file(database_url: str | URL, suffix: str) -> Path | None:
    """``<database file>.<suffix>`` beside the resolved file of a SQLite file store (every
    spelling of its path gives the same), None for other stores: where a store's locks and
    state that must outlive the database being unreadable are kept."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = (url.database or "").removeprefix("file:").split("?")[0]  # also URI filenames
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    path = Path(database).resolve()
    return path.with_name(f"{path.name}.{suffix}")


def store_lock_for(database_url: str | URL, engine: Engine | None, name: str) -> JobLock:
    """The lock ``name`` of the store at ``database_url`` (``engine``: an engine on it,
    needed for PostgreSQL, whose lock is keyed by the store's identity)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        beside = beside_sqlite_file(url, f"{name}.lock")
        if beside is not None:
            return FileJobLock(beside)
        return LocalJobLock(f"{name}:{url.render_as_string(hide_password=True)}")
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"no store lock for {url.get_backend_name()} stores")
    if engine is None:
        raise ValueError("a PostgreSQL store lock needs an engine on the store")
    identity = store_identity(engine)
    return AdvisoryJobLock(engine, advisory_key(identity, name), identity)

"""Which channels were told that the store is unavailable: one "data unavailable" notice
per channel and outage, and one "data available again" when it answers, however many
evaluators run (the worker, ``orderboard alerts check --once``) and however often they
restart.

The record belongs to the store, so every process using the store shares it:

- a SQLite file store: ``<database file>.alerts-outage.json`` beside the database file
  (like its locks, ``datasource.store_lock``), changed under an exclusive lock on
  ``<database file>.alerts-outage.lock``; it stays readable when the database file is
  not (gone, damaged, locked);
- PostgreSQL: rows of ``store_meta`` (``alert_outage:<channel>``), each claimed by one
  atomic INSERT and handed over by one DELETE ... RETURNING. (A server that cannot be
  reached at all also ends the job lock's session, so no job runs then:
  ``orderboard.jobs``.) When the store cannot take even that write, this process keeps
  the record in memory (at worst, a process restarted during that outage tells again);
- SQLite in memory: within the process (such a store has one process).

A channel is claimed before it is told and released when telling failed, so a failed
notice is tried again on the next run and two evaluators never both tell.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from datasource import alert_store
from datasource.store_lock import beside_sqlite_file

log = logging.getLogger(__name__)
LOCK_WAIT_S = 2.0  # the record is changed in a few milliseconds; never wait longer than this


class OutageLedger(Protocol):
    def claim(self, channel: str, now: datetime) -> bool:
        """Record that ``channel`` is being told of the outage; False when it already was."""

    def release(self, channel: str) -> None:
        """Telling ``channel`` failed: it is to be told on a later run."""

    def take_all(self) -> dict[str, datetime]:
        """The store answers again: every channel told of the outage (and when), each
        handed to exactly one caller, who tells it that the data is available again."""

    def restore(self, channel: str, told_at: datetime) -> None:
        """Telling ``channel`` of the recovery failed: hand it over again on a later run."""


class FileLedger:
    """The record as a JSON object {channel: told at} in a file, changed under a file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")

    @contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the lock {self.lock_path} is held elsewhere") from None
                    time.sleep(0.02)
            try:
                record = json.loads(self.path.read_text("utf-8")) if self.path.exists() else {}
                before = dict(record)
                yield record
                if record != before:
                    self._write(record)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, record: dict[str, str]) -> None:
        if not record:
            self.path.unlink(missing_ok=True)
            return
        scratch = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(record, ensure_ascii=False, sort_keys=True), "utf-8")
        os.replace(scratch, self.path)  # readers see the old record or the new one, whole

    def claim(self, channel: str, now: datetime) -> bool:
        with self._locked() as record:
            if channel in record:
                return False
            record[channel] = now.isoformat()
            return True

    def release(self, channel: str) -> None:
        with self._locked() as record:
            record.pop(channel, None)

    def take_all(self) -> dict[str, datetime]:
        if not self.path.exists():  # the common case, every run: no lock, no write
            return {}
        with self._locked() as record:
            taken = {k: datetime.fromisoformat(v) for k, v in record.items()}
            record.clear()
        return taken

    def restore(self, channel: str, told_at: datetime) -> None:
        with self._locked() as record:
            record.setdefault(channel, told_at.isoformat())


class MemoryLedger:
    """The record within this process, shared by the evaluators of one store."""

    _records: ClassVar[dict[str, dict[str, datetime]]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name

    def _record(self) -> dict[str, datetime]:
        return self._records.setdefault(self.name, {})

    def claim(self, channel: str, now: datetime) -> bool:
        with self._guard:
            record = self._record()
            if channel in record:
                return False
            record[channel] = now
            return True

    def release(self, channel: str) -> None:
        with self._guard:
            self._record().pop(channel, None)

    def take_all(self) -> dict[str, datetime]:
        with self._guard:
            taken = dict(self._record())
            self._record().clear()
        return taken

    def restore(self, channel: str, told_at: datetime) -> None:
        with self._guard:
            self._record().setdefault(channel, told_at)


STORE_ERRORS = (DBAPIError, PoolTimeout)


class StoreLedger:
    """The record in the store (``alert_store`` outage rows), or, for what the store
    cannot take, in this process."""

    def __init__(self, engine: Engine, fallback: MemoryLedger) -> None:
        self.engine = engine
        self.fallback = fallback

    def claim(self, channel: str, now: datetime) -> bool:
        try:
            claimed = alert_store.claim_outage_notice(self.engine, channel, now)
        except STORE_ERRORS as exc:
            log.warning("alerts: the outage record cannot be written to the store (%s); kept in this process",
                        type(exc).__name__)
            return self.fallback.claim(channel, now)
        if claimed:
            self.fallback.release(channel)
        return claimed

    def release(self, channel: str) -> None:
        self.fallback.release(channel)
        try:
            alert_store.drop_outage_notice(self.engine, channel)
        except STORE_ERRORS:
            log.warning("alerts: could not clear the outage record of %s in the store", channel)

    def take_all(self) -> dict[str, datetime]:
        return {**self.fallback.take_all(), **alert_store.take_outage_notices(self.engine)}

    def restore(self, channel: str, told_at: datetime) -> None:
        try:
            alert_store.restore_outage_notice(self.engine, channel, told_at)
        except STORE_ERRORS:
            self.fallback.restore(channel, told_at)


def ledger_for(engine: Engine) -> OutageLedger:
    """Where the outage record of the store of ``engine`` is kept (see above)."""
    beside = beside_sqlite_file(engine.url, "alerts-outage.json")
    if beside is not None:
        return FileLedger(beside)
    memory = MemoryLedger(str(engine.url.render_as_string(hide_password=True)))
    if engine.dialect.name == "sqlite":
        return memory
    return StoreLedger(engine, memory)

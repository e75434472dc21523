"""One import at a time per store.

Two imports of the same ledger started together would both read "order SO-1 is not
stored" and both insert it; the second then fails on the unique order number. Imports
therefore take a lock for the whole run: the second waits for the first (bounded by
``wait_s``) and then finds everything the first stored, or gives up with one line.

- SQLite: an exclusive ``flock`` on ``<database file>.import-lock`` beside the store
  (the lock dies with the process, so a killed import never leaves it held);
- PostgreSQL: a session advisory lock keyed on the store's schema, held on a connection
  of its own (released when that connection closes, however the import ends).
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from datasource.importers.errors import ImportSetupError

POLL_S = 0.2
PG_KEY = "orderboard import "


class ImportBusy(ImportSetupError):
    """Another import into the same store did not finish within the wait."""


def busy(waited_s: float) -> ImportBusy:
    return ImportBusy(f"another import into this store is still running (waited {waited_s:g} s); "
                      "run this one again when it has finished")


@contextmanager
def import_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """Hold the store's import lock for the ``with`` block; ImportBusy after ``wait_s``."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            yield
            return
        with _file_lock(Path(f"{url.database}.import-lock"), wait_s):
            yield
        return
    with _advisory_lock(engine, wait_s):
        yield


@contextmanager
def _file_lock(path: Path, wait_s: float) -> Iterator[None]:
    deadline = time.monotonic() + wait_s
    with path.open("a") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy(wait_s) from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    deadline = time.monotonic() + wait_s
    key = text("SELECT hashtext(:prefix || current_schema())")
    with engine.connect() as conn:
        lock_id = conn.execute(key, {"prefix": PG_KEY}).scalar_one()
        conn.commit()
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_id}).scalar_one():
            conn.commit()
            if time.monotonic() >= deadline:
                raise busy(wait_s)
            time.sleep(POLL_S)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
            conn.commit()

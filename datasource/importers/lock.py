"""One import at a time per store.

Two imports of the same ledger started together would both read "order SO-1 is not
stored" and both insert it; the second then fails on the unique order number. Imports
therefore hold the store's ``import`` lock (``datasource.store_lock``: a file beside a
SQLite store, an advisory lock keyed by a PostgreSQL store's identity; released when the
process ends, however the import ends) for the whole run: the second waits for the first
(bounded by ``wait_s``) and then finds everything the first stored, or gives up with one
line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from datasource.importers.errors import ImportSetupError
from datasource.store_lock import store_lock_for

POLL_S = 0.2


class ImportBusy(ImportSetupError):
    """Another import into the same store did not finish within the wait."""


def busy(waited_s: float) -> ImportBusy:
    return ImportBusy(f"another import into this store is still running (waited {waited_s:g} s); "
                      "run this one again when it has finished")


@contextmanager
def import_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """Hold the store's import lock for the ``with`` block; ImportBusy after ``wait_s``."""
    lock = store_lock_for(engine.url, engine, "import")
    deadline = time.monotonic() + wait_s
    while not lock.acquire():
        if time.monotonic() >= deadline:
            raise busy(wait_s)
        time.sleep(POLL_S)
    try:
        yield
    finally:
        lock.release()

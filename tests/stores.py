"""Store helpers shared by tests: a demo store in a SQLite file, and a snapshot of the
tables that the access commands and pages change."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from datasource.demo import generate, seed_store
from datasource.pipeline import default_pipeline
from datasource.schema import AuditEntry, DisplayToken, User, UserScope
from datasource.store import open_store


def demo_sqlite_url(directory: Path, n_orders: int, end: datetime, seed: int = 5) -> str:
    """The URL of a new SQLite store in ``directory`` holding ``n_orders`` demo orders up
    to ``end`` (the default pipeline)."""
    url = f"sqlite:///{directory / 'store.db'}"
    engine = open_store(url, default_pipeline())
    seed_store(engine, default_pipeline(), generate(seed=seed, n_orders=n_orders, end=end))
    engine.dispose()
    return url


def access_snapshot(engine) -> tuple:
    """Every row of the users, their scopes, the display tokens and the audit log."""
    with engine.connect() as conn:
        return tuple(tuple(tuple(r) for r in conn.execute(select(t)).all())
                     for t in (User.__table__, UserScope.__table__, DisplayToken.__table__, AuditEntry.__table__))

"""The audit log: who logged in, viewed, exported or changed what (DESIGN.md section 5a).

``record_audit`` appends one entry; ``audit_entries`` reads them back, newest first,
filtered by time, actor and action. Writing an entry does not move the data version: the
audit log is not part of any metric, so cached numbers stay valid.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from datasource.queries import raw, read_frame, to_utc
from datasource.schema import AuditEntry
from datasource.store import utcnow

audit_t = AuditEntry.__table__

# What the entries' ``action`` says (the web app and the command line write these;
# ``ingest`` is written by every import and demo-feed batch, ``datasource.ingest``).
ACTIONS = (
    "login", "login_failed", "lockout", "logout", "view", "export", "token_use",
    "user_add", "user_change", "user_disable", "user_enable", "user_passwd",
    "token_create", "token_revoke", "acknowledge", "ingest",
)


def record_audit(
    engine: Engine, actor: str, action: str, target: str, detail: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one audit entry."""
    with engine.begin() as conn:
        conn.execute(insert(AuditEntry), [{
            "at": at or utcnow(), "actor": actor[:64], "action": action[:32],
            "target": target[:256], "detail": detail,
        }])


def _where(stmt, since: datetime | None, until: datetime | None, actor: str | None, action: str | None):
    a = audit_t.c
    if since is not None:
        stmt = stmt.where(a.at >= since)
    if until is not None:
        stmt = stmt.where(a.at < until)
    if actor:
        stmt = stmt.where(a.actor == actor)
    if action:
        stmt = stmt.where(a.action == action)
    return stmt


def audit_entries(engine: Engine, since: datetime | None = None, until: datetime | None = None,
                  actor: str | None = None, action: str | None = None,
                  limit: int | None = 10_000, offset: int = 0) -> pd.DataFrame:
    """Entries newest first: at (UTC), actor, action, target, detail; ``since`` included,
    ``until`` not; ``offset`` entries skipped (a page of a long log)."""
    a = audit_t.c
    stmt = _where(select(a.id, raw(a.at), a.actor, a.action, a.target, a.detail), since, until, actor, action)
    stmt = stmt.order_by(a.at.desc(), a.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    frame = read_frame(engine, stmt)
    frame["at"] = to_utc(frame["at"])  # not one of the orders' datetime columns read_frame knows
    return frame


def count_audit_entries(engine: Engine, since: datetime | None = None, until: datetime | None = None,
                        actor: str | None = None, action: str | None = None) -> int:
    """How many entries ``audit_entries`` would list without a limit."""
    stmt = _where(select(func.count()).select_from(audit_t), since, until, actor, action)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())

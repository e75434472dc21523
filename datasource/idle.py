"""The idle-completion cut-off of logs without a terminal activity (DESIGN.md section 4).

With ``complete_after_idle_days = N`` in the pipeline, a case completes at its last event
once it has been idle longer than N days: relative to now, or (``idle_reference =
"newest_event"``, for a historical store) to the newest event the store holds. The
newest event is kept in ``store_meta`` by every ingest, so finding it never scans the
event log.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from datasource.pipeline import Pipeline
from datasource.schema import OrderEvent, StoreMeta

NEWEST_EVENT = "newest_event_at"


def idle_cutoff(conn: Connection, pipeline: Pipeline, now: datetime,
                batch_newest: datetime | None = None) -> datetime | None:
    """Orders whose last event is before this instant are complete; None without the rule.

    ``batch_newest``: the newest event about to be written (it counts for
    ``newest_event``)."""
    days = pipeline.complete_after_idle_days
    if days is None:
        return None
    if pipeline.idle_reference == "now":
        reference: datetime | None = now
    else:
        stored = newest_event(conn)
        candidates = [t for t in (stored, batch_newest) if t is not None]
        reference = max(candidates) if candidates else None
    if reference is None:
        return None
    return reference - timedelta(days=days)


def newest_event(conn: Connection) -> datetime | None:
    """The newest event instant in the store (store_meta; the event log once, for a
    store written before it was kept there)."""
    value = conn.execute(
        select(StoreMeta.value).where(StoreMeta.key == NEWEST_EVENT)
    ).scalar_one_or_none()
    if value is not None:
        return datetime.fromisoformat(value)
    found = conn.execute(select(func.max(OrderEvent.occurred_at))).scalar_one_or_none()
    return found.replace(tzinfo=timezone.utc) if found is not None and found.tzinfo is None else found


def remember_newest_event(conn: Connection, instant: datetime) -> None:
    """Keep ``store_meta``'s newest event up to date after writing events up to ``instant``."""
    instant = instant.astimezone(timezone.utc)
    value = conn.execute(
        select(StoreMeta.value).where(StoreMeta.key == NEWEST_EVENT)
    ).scalar_one_or_none()
    if value is None:
        stored = newest_event(conn)
        newest = max(t for t in (stored, instant) if t is not None)
        conn.execute(insert(StoreMeta), [{"key": NEWEST_EVENT, "value": newest.isoformat()}])
    elif datetime.fromisoformat(value) < instant:
        conn.execute(update(StoreMeta).where(StoreMeta.key == NEWEST_EVENT)
                     .values(value=instant.isoformat()))

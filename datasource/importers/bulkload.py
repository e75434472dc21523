"""Loading an event log into a fresh store in one go.

A store that holds no orders, events, visits, findings, changes or exceptions (a new
store) takes an event log (``shape = "events"``) whole, in one transaction, instead of
batch by batch through ``ingest``:

- rows are read as columns where that is certain (``importers.columns``, plain CSV);
  every other row goes through the row parser of the batch import, which stores or
  rejects it with its line and reason, the same as in a batch;
- event ids are the batch import's (``EventRecord.stable_uid``, or the file's own), so
  importing the file again, or a later one, recognises every stored event;
- visits, states and findings are derived by ``visit_arrays`` for orders made of
  ``enter`` events, by ``visits.derive_order`` for the others: the same rows as the
  batch import stores (ids aside: visits and findings are numbered order by order);
- the rows go to the tables column by column (``bulk.write_columns``), and on SQLite
  the tables' indexes are built once at the end (``bulk.secondary_indexes_rebuilt``).

All or nothing: the load is one transaction, so a failure (the database gone, a full
disk, the process killed) leaves the store as it was: empty, with its indexes. The
store is checked to be empty inside that transaction (on SQLite after taking the write
lock); when it is not, nothing is written and the caller imports batch by batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, exists, insert, select

from datasource.bulk import Same, rollback_journal, secondary_indexes_rebuilt, write_columns
from datasource.idle import idle_cutoff, remember_newest_event
from datasource.importers.batch import Batch
from datasource.importers.bulkderive import Derived, Findings, derive, findings_of
from datasource.importers.columns import EventColumns
from datasource.ingest import ATTRIBUTES, UID_LIMIT, IngestResult, derived_uid, natural_uid, summary
from datasource.instants import from_us, stored_texts, to_us, utc_isoformats
from datasource.pipeline import Pipeline
from datasource.schema import (
    AuditEntry,
    DataQualityFinding,
    Order,
    OrderChange,
    OrderEvent,
    OrderException,
    StageVisit,
)
from datasource.store import bump_data_version, utcnow
from datasource.visit_arrays import NONE

#: the tables a fresh store has no row in
STORED = (Order, OrderEvent, StageVisit, DataQualityFinding, OrderChange, OrderException)
LOADED = (Order, OrderEvent, StageVisit, DataQualityFinding)
#: events and visits are written this many at a time: their stored texts exist only for
#: the rows being written (a smaller peak of memory)
WRITE_ROWS = 200_000


class NotFresh(Exception):
    """The store has rows: import batch by batch."""


def is_fresh(conn: Connection) -> bool:
    return not any(conn.execute(select(exists().select_from(m.__table__))).scalar()
                   for m in STORED)


@dataclass
class Events:
    """Every stored row of the file, in line order. ``load`` empties the lists once it
    has written them (they may be the ``EventColumns``' own)."""

    line: np.ndarray
    order_number: list[str]
    stage: list[str | None]
    event_type: list[str]
    at: np.ndarray
    operator: list[str | None]
    note: list[str | None]
    uid: list[str]

    def empty(self) -> None:
        for values in (self.order_number, self.stage, self.event_type, self.operator, self.note,
                       self.uid):
            values.clear()


@dataclass
class Loaded:
    """What the load stored, for the import report."""

    stored_rows: np.ndarray  # bool per row of ``Events``: its event was new
    orders_created: int
    events_added: int
    finding_kinds: Counter  # distinct findings by kind
    finding_uids: set[str]
    findings_added: int


def events_of(columns: EventColumns | None, batch: Batch) -> Events:
    """The rows read as columns and those the row parser kept (``batch``), in line order,
    with their event ids."""
    seen = batch.seen
    slow_line = np.fromiter((s.line for s in seen), np.int64, len(seen))
    slow = [s.event for s in seen if s.event is not None]
    assert len(slow) == len(seen)  # every stored row of an event log has its event
    if columns is None:
        columns = EventColumns(np.zeros(0, np.int64), [], [], [], np.zeros(0, np.int64), [], [], [])
    uid = _event_ids(columns)
    if not slow:  # every row read as columns: in line order already
        return Events(columns.line, columns.order_number, columns.stage, columns.event_type,
                      columns.at, columns.operator, columns.note, uid)
    line = np.concatenate([columns.line, slow_line])
    order = np.argsort(line, kind="stable")
    ordered = order.tolist()

    def merged(fast: list, attr: str) -> list:
        values = fast + [getattr(e, attr) for e in slow]
        return [values[i] for i in ordered]

    at = np.concatenate([columns.at, np.fromiter((to_us(e.occurred_at) for e in slow), np.int64,
                                                 len(slow))])
    uids = uid + [e.stable_uid() for e in slow]
    return Events(line[order], merged(columns.order_number, "order_number"),
                  merged(columns.stage, "stage_code"), merged(columns.event_type, "event_type"),
                  at[order], merged(columns.operator, "operator"), merged(columns.note, "note"),
                  [uids[i] for i in ordered])


def _event_ids(columns: EventColumns) -> list[str]:
    """Each row's event id: the file's own, else ``ingest.derived_uid``. The natural form
    is written for every row at once; the rows with an id of their own, a note, or a
    natural id too long for the column then get theirs one by one."""
    iso = utc_isoformats(columns.at)
    uid = list(map(natural_uid, columns.order_number, columns.stage, columns.event_type, iso))
    other = np.fromiter(map(len, uid), np.int64, len(uid)) > UID_LIMIT
    if any(columns.note):
        other |= np.fromiter(map(bool, columns.note), bool, len(uid))
    if any(columns.event_id):
        other |= np.fromiter(map(bool, columns.event_id), bool, len(uid))
    for k in np.flatnonzero(other).tolist():
        uid[k] = columns.event_id[k] or derived_uid(columns.order_number[k], columns.stage[k],
                                                    columns.event_type[k], iso[k], columns.note[k])
    return uid


def load(engine: Engine, pipeline: Pipeline, events: Events, batch: Batch, source: str | None,
         target: str, progress: Callable[[], None] | None = None) -> Loaded:
    """Store the file's rows into a fresh store, in one transaction (module docstring).
    Raises NotFresh, having written nothing, when the store has rows."""
    # the first row of each event id stores it (hash tables in C: millions of rows)
    new = ~pd.Series(events.uid, dtype=object).duplicated(keep="first").to_numpy()
    keep = np.flatnonzero(new)
    codes, distinct = pd.factorize(np.asarray(events.order_number, dtype=object), sort=False)
    row_order = codes.astype(np.int64)  # each row's order, numbered in order of first line
    numbers: list[str] = distinct.tolist()
    first_line = np.zeros(len(numbers), np.int64)
    first_line[row_order[::-1]] = events.line[::-1]
    with engine.connect() as conn, rollback_journal(conn), conn.begin():
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before looking
        if not is_fresh(conn):
            raise NotFresh
        now = utcnow()
        newest = from_us(int(events.at[keep].max())) if len(keep) else None
        cutoff = idle_cutoff(conn, pipeline, now, newest)
        derived = derive(pipeline, events, keep, row_order[keep], numbers, batch, cutoff)
        now_text = stored_texts(np.array([to_us(now)]))[0]
        findings = findings_of(derived, numbers, first_line)
        loaded = Loaded(new, len(numbers), len(keep), Counter(findings.kind), set(findings.uid),
                        len(findings.uid))
        with secondary_indexes_rebuilt(conn, [m.__table__ for m in LOADED]):
            order_ids = _write_orders(conn, derived, numbers, batch, source, now_text)
            _write_events(conn, events, keep, order_ids[row_order[keep]], source, now_text)
            _write_visits(conn, derived, order_ids)
            _write_findings(conn, findings, source, now_text)
            # written: their memory is the index builds' (SQLite sorts in memory)
            del derived, findings
            events.empty()
            if progress is not None:
                progress()
        result = IngestResult(orders_created=len(numbers), events_added=len(keep),
                              events_duplicate=len(new) - len(keep),
                              findings_added=loaded.findings_added)
        if newest is not None:
            remember_newest_event(conn, newest)
        if result.changed:
            bump_data_version(conn)
            conn.execute(insert(AuditEntry), [{"at": now, "actor": "import", "action": "ingest",
                                                "target": target, "detail": summary(result)}])
    return loaded


def _instants(values: np.ndarray) -> list[str | None]:
    """Stored texts, None for ``NONE``."""
    missing = values == NONE
    if not missing.any():
        return cast(list[str | None], stored_texts(values))
    texts: list[str | None] = [None] * len(values)
    idx = np.flatnonzero(~missing)
    for i, t in zip(idx.tolist(), stored_texts(values[idx])):
        texts[i] = t
    return texts


def _write_orders(conn: Connection, parts: Derived, numbers: list[str], batch: Batch,
                  source: str | None, now: str) -> np.ndarray:
    """Insert the orders (in order of first line); returns their ids by order index."""
    n = len(numbers)
    columns: dict = {"order_number": numbers}
    for name in ATTRIBUTES:
        values = [batch.orders[k].attributes.get(name) if k in batch.orders else None
                  for k in numbers] if batch.orders else [None] * n
        if name == "promised_at":
            values = [None if v is None else stored_texts(np.array([to_us(v)]))[0] for v in values]
        columns[name] = Same(None) if all(v is None for v in values) else values
    states = parts.states
    columns["status"] = states["status"]
    columns["current_stage"] = states["current_stage"]
    for name in ("current_since", "placed_at", "completed_at", "cancelled_at"):
        values = _instants(np.asarray(states[name]))
        columns[name] = Same(None) if all(v is None for v in values) else values
    flags = [bool(batch.orders[k].cancelled) if k in batch.orders else False for k in numbers]
    columns["cancelled_flag"] = flags if any(flags) else Same(False)
    columns["source"] = Same(source)
    columns["updated_at"] = Same(now)
    write_columns(conn, Order.__table__, columns, n)
    ids = dict(conn.execute(select(Order.order_number, Order.id)).all())
    return np.fromiter((ids[k] for k in numbers), np.int64, n)


def _write_events(conn: Connection, events: Events, keep: np.ndarray, order_id: np.ndarray,
                  source: str | None, now: str) -> None:
    for start in range(0, len(keep), WRITE_ROWS):
        rows = keep[start:start + WRITE_ROWS].tolist()
        write_columns(conn, OrderEvent.__table__, {
            "event_uid": [events.uid[i] for i in rows],
            "order_id": order_id[start:start + WRITE_ROWS].tolist(),
            "stage_code": _picked(events.stage, rows),
            "event_type": _picked(events.event_type, rows),
            "occurred_at": stored_texts(events.at[rows]),
            "operator": _picked(events.operator, rows),
            "note": _picked(events.note, rows),
            "source": Same(source),
            "recorded_at": Same(now),
        }, len(rows))


def _picked(values: list, rows: list[int]) -> list | Same:
    picked = [values[i] for i in rows]
    first = picked[0] if picked else None
    return Same(first) if all(v == first for v in picked) else picked


def _write_visits(conn: Connection, parts: Derived, order_ids: np.ndarray) -> None:
    n = len(parts.visit_order)
    for start in range(0, n, WRITE_ROWS):
        end = min(n, start + WRITE_ROWS)
        # the next part's first start too: a visit most often ends where the next starts
        entered = stored_texts(parts.entered[start:end + 1])
        write_columns(conn, StageVisit.__table__, {
            "order_id": order_ids[parts.visit_order[start:end]].tolist(),
            "stage_code": parts.visit_stage[start:end],
            "visit_no": parts.visit_no[start:end].tolist(),
            "is_rework": parts.is_rework[start:end].tolist(),
            "entered_at": entered[:end - start],
            "left_at": _left_texts(parts.left[start:end], parts.entered[start:end + 1], entered),
            "duration_s": parts.duration_s[start:end],
            "operator": parts.visit_operator[start:end],
        }, end - start)


def _left_texts(left: np.ndarray, start: np.ndarray, entered: list[str]) -> list[str | None]:
    """The stored texts of the visits' ends (``left``), given the starts of the same
    visits and maybe one more (``start``) and their texts (``entered``): most end when
    the next visit starts or where they start (an end point), whose texts are written
    already."""
    n = len(left)
    texts: list[str | None] = [None] * n
    following = np.zeros(n, bool)
    following[:len(start) - 1] = left[:len(start) - 1] == start[1:n + 1]
    itself = ~following & (left == start[:n])
    other = np.flatnonzero(~following & ~itself & (left != NONE))
    for i in np.flatnonzero(following).tolist():
        texts[i] = entered[i + 1]
    for i in np.flatnonzero(itself).tolist():
        texts[i] = entered[i]
    for i, text in zip(other.tolist(), stored_texts(left[other])):
        texts[i] = text
    return texts


def _write_findings(conn: Connection, findings: Findings, source: str | None, now: str) -> None:
    kinds = set(findings.kind)
    write_columns(conn, DataQualityFinding.__table__, {
        "finding_uid": findings.uid,
        "order_number": findings.order_number,
        "kind": Same(kinds.pop()) if len(kinds) == 1 else findings.kind,
        "detail": findings.detail,
        "source": Same(source),
        "line": findings.line,
        "found_at": Same(now),
    }, len(findings.uid))

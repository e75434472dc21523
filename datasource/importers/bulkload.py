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
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, exists, insert, select

from datasource.bulk import Same, secondary_indexes_rebuilt, write_columns
from datasource.idle import idle_cutoff, remember_newest_event
from datasource.importers.batch import Batch
from datasource.importers.columns import EventColumns
from datasource.ingest import ATTRIBUTES, IngestResult, derived_uid, finding_uid, summary
from datasource.instants import from_us, local_seconds_texts, stored_texts, to_us, utc_isoformats
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
from datasource.visit_arrays import NONE, derive_enter_runs
from datasource.visits import OUT_OF_ORDER, Derived, EventFact, derive_order

#: the tables a fresh store has no row in
STORED = (Order, OrderEvent, StageVisit, DataQualityFinding, OrderChange, OrderException)
LOADED = (Order, OrderEvent, StageVisit, DataQualityFinding)


class NotFresh(Exception):
    """The store has rows: import batch by batch."""


def is_fresh(conn: Connection) -> bool:
    return not any(conn.execute(select(exists().select_from(m.__table__))).scalar()
                   for m in STORED)


@dataclass
class Events:
    """Every stored row of the file, in line order."""

    line: np.ndarray
    order_number: list[str]
    stage: list[str | None]
    event_type: list[str]
    at: np.ndarray
    operator: list[str | None]
    note: list[str | None]
    uid: list[str]


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
    iso = utc_isoformats(columns.at)
    uid = [given or derived_uid(n, s, t, i, note)
           for given, n, s, t, i, note in zip(columns.event_id, columns.order_number,
                                              columns.stage, columns.event_type, iso, columns.note)]
    line = np.concatenate([columns.line, slow_line])
    order = np.argsort(line, kind="stable")

    def merged(fast: list, attr: str) -> list:
        values = fast + [getattr(e, attr) for e in slow]
        return [values[i] for i in order.tolist()]

    at = np.concatenate([columns.at, np.fromiter((to_us(e.occurred_at) for e in slow), np.int64,
                                                 len(slow))])
    uids = uid + [e.stable_uid() for e in slow]
    return Events(line[order], merged(columns.order_number, "order_number"),
                  merged(columns.stage, "stage_code"), merged(columns.event_type, "event_type"),
                  at[order], merged(columns.operator, "operator"), merged(columns.note, "note"),
                  [uids[i] for i in order.tolist()])


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
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before looking
        if not is_fresh(conn):
            raise NotFresh
        now = utcnow()
        newest = from_us(int(events.at[keep].max())) if len(keep) else None
        cutoff = idle_cutoff(conn, pipeline, now, newest)
        derived = _derive(pipeline, events, keep, row_order[keep], numbers, batch, cutoff)
        now_text = stored_texts(np.array([to_us(now)]))[0]
        findings = _findings(derived, numbers, first_line)
        with secondary_indexes_rebuilt(conn, [m.__table__ for m in LOADED]):
            order_ids = _write_orders(conn, derived, numbers, batch, source, now_text)
            _write_events(conn, events, keep, order_ids[row_order[keep]], source, now_text)
            _write_visits(conn, derived, order_ids)
            _write_findings(conn, findings, source, now_text)
            if progress is not None:
                progress()
        result = IngestResult(orders_created=len(numbers), events_added=len(keep),
                              events_duplicate=len(events.uid) - len(keep),
                              findings_added=len(findings.uid))
        if newest is not None:
            remember_newest_event(conn, newest)
        if result.changed:
            bump_data_version(conn)
            conn.execute(insert(AuditEntry), [{"at": now, "actor": "import", "action": "ingest",
                                                "target": target, "detail": summary(result)}])
    return Loaded(new, len(numbers), len(keep), Counter(findings.kind), set(findings.uid),
                  len(findings.uid))


@dataclass
class _Derived:
    """Visits (arrays, one entry per visit, by order then visit), order states and
    findings text parts of all the file's orders."""

    visit_order: np.ndarray
    visit_stage: list[str]
    visit_no: np.ndarray
    is_rework: np.ndarray
    entered: np.ndarray
    left: np.ndarray
    duration_s: list[float | None]
    visit_operator: list[str | None]
    states: dict[str, list]  # OrderState fields, per order
    finding_order: np.ndarray
    finding_kind: list[str]
    finding_detail: list[str]


def _derive(pipeline: Pipeline, events: Events, keep: np.ndarray, order: np.ndarray,
            numbers: list[str], batch: Batch, cutoff: datetime | None) -> _Derived:
    """``derive_order`` of every order: ``visit_arrays`` for the orders made of ``enter``
    events (and not cancelled by a status column), ``derive_order`` for the others."""
    n = len(numbers)
    codes = pipeline.codes
    rank = {code: i for i, code in enumerate(sorted(codes, key=pipeline.positions.__getitem__))}
    by_rank = sorted(codes, key=rank.__getitem__)
    distinct_positions = len(set(pipeline.positions.values())) == len(codes)
    stage = [events.stage[i] for i in keep.tolist()]
    kind = [events.event_type[i] for i in keep.tolist()]
    simple = np.ones(n, bool) if distinct_positions else np.zeros(n, bool)
    plain = np.fromiter((t == "enter" and s is not None for s, t in zip(stage, kind)), bool, len(kind))
    simple[order[~plain]] = False
    has_events = np.zeros(n, bool)
    has_events[order] = True
    simple &= has_events
    index = {number: i for i, number in enumerate(numbers)}
    for number, pending in batch.orders.items():
        if pending.cancelled:
            simple[index[number]] = False
    at = events.at[keep]
    fast = np.flatnonzero(simple[order])
    branch = np.array([pipeline.is_branch(c) for c in by_rank], bool)
    terminal = rank.get(pipeline.terminal) if pipeline.terminal else None
    cut = None if cutoff is None else to_us(cutoff)
    positions = np.fromiter((rank[stage[i]] for i in fast.tolist()), np.int64, len(fast))
    visits, states, found = derive_enter_runs(order[fast], positions, at[fast], n, terminal,
                                              branch, cut)
    operator = [events.operator[i] for i in keep[fast[visits.first_event]].tolist()]
    vstage = [by_rank[p] for p in visits.position.tolist()]
    status = np.where(states.completed, "completed", "open").astype(object)
    state_cols = {
        "status": status.tolist(),
        "current_stage": [by_rank[p] if p >= 0 else None for p in states.current_position.tolist()],
        "current_since": states.current_since, "placed_at": states.placed_at,
        "completed_at": states.completed_at, "cancelled_at": np.full(n, NONE, np.int64),
    }
    finding_order = visits.order[found.visit]
    tz = pipeline.timezone
    late = found.visit
    ahead = found.furthest
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    late_text = local_seconds_texts(visits.entered[late], zone)
    ahead_text = local_seconds_texts(visits.entered[ahead], zone)
    detail = [f"{vstage[a]} entered {at_a} after {vstage[b]} {at_b}, which follows it in the "
              f"pipeline ({tz})"
              for a, at_a, b, at_b in zip(late.tolist(), late_text, ahead.tolist(), ahead_text)]
    parts = _Derived(visits.order, vstage, visits.visit_no, visits.is_rework, visits.entered,
                     visits.left, [None if d != d else d for d in visits.duration_s.tolist()],
                     operator, state_cols, finding_order, [OUT_OF_ORDER] * len(detail), detail)
    others = np.flatnonzero(~simple)
    if len(others):
        _derive_others(parts, pipeline, others, events, keep, order, numbers, batch, cutoff)
    return parts


def _derive_others(parts: _Derived, pipeline: Pipeline, others: np.ndarray, events: Events,
                   keep: np.ndarray, order: np.ndarray, numbers: list[str], batch: Batch,
                   cutoff: datetime | None) -> None:
    """``derive_order`` of the orders in ``others``, merged into ``parts`` in order."""
    wanted = set(others.tolist())
    facts: dict[int, list[EventFact]] = {o: [] for o in others.tolist()}
    for i, o in zip(keep.tolist(), order.tolist()):
        if o in wanted:
            facts[o].append(EventFact(events.stage[i], events.event_type[i], from_us(int(events.at[i])),
                                      events.operator[i]))
    v_order, v_stage, v_no, v_rework, v_in, v_left, v_dur, v_op = [], [], [], [], [], [], [], []
    f_order, f_kind, f_detail = [], [], []
    for o, known in facts.items():
        pending = batch.orders.get(numbers[o])
        d: Derived = derive_order(known, pipeline, bool(pending and pending.cancelled), cutoff)
        for v in d.visits:
            v_order.append(o)
            v_stage.append(v.stage_code)
            v_no.append(v.visit_no)
            v_rework.append(v.is_rework)
            v_in.append(to_us(v.entered_at))
            v_left.append(NONE if v.left_at is None else to_us(v.left_at))
            v_dur.append(v.duration_s)
            v_op.append(v.operator)
        for f in d.findings:
            f_order.append(o)
            f_kind.append(f.kind)
            f_detail.append(f.detail)
        state = d.state
        cols = parts.states
        cols["status"][o] = state.status
        cols["current_stage"][o] = state.current_stage
        for name in ("current_since", "placed_at", "completed_at", "cancelled_at"):
            value = getattr(state, name)
            cols[name][o] = NONE if value is None else to_us(value)
    visits = np.concatenate([parts.visit_order, np.array(v_order, np.int64)])
    arrange = np.argsort(visits, kind="stable")  # the others' visits among the rest, in order

    def put(array: np.ndarray, more: list, dtype) -> np.ndarray:
        return np.concatenate([array, np.array(more, dtype)])[arrange]

    def put_list(values: list, more: list) -> list:
        joined = values + more
        return [joined[i] for i in arrange.tolist()]

    parts.visit_order = visits[arrange]
    parts.visit_stage = put_list(parts.visit_stage, v_stage)
    parts.visit_no = put(parts.visit_no, v_no, np.int64)
    parts.is_rework = put(parts.is_rework, v_rework, bool)
    parts.entered = put(parts.entered, v_in, np.int64)
    parts.left = put(parts.left, v_left, np.int64)
    parts.duration_s = put_list(parts.duration_s, v_dur)
    parts.visit_operator = put_list(parts.visit_operator, v_op)
    found = np.concatenate([parts.finding_order, np.array(f_order, np.int64)])
    arrange = np.argsort(found, kind="stable")
    parts.finding_order = found[arrange]
    parts.finding_kind = put_list(parts.finding_kind, f_kind)
    parts.finding_detail = put_list(parts.finding_detail, f_detail)


@dataclass
class _Findings:
    """The findings to store, one per id."""

    uid: list[str]
    order_number: list[str]
    kind: list[str]
    detail: list[str]
    line: list[int]


def _findings(parts: _Derived, numbers: list[str], first_line: np.ndarray) -> _Findings:
    """The derived findings, with the line of their order's first row (ingest's origins),
    one per id (``FindingRecord.uid``): as ``ingest`` keeps them, the last of several
    with one id in the place of the first."""
    orders = parts.finding_order.tolist()
    number = [numbers[o] for o in orders]
    uid = list(map(finding_uid, parts.finding_kind, number, parts.finding_detail))
    line = first_line[parts.finding_order].tolist()
    last = {u: i for i, u in enumerate(uid)}
    if len(last) == len(uid):
        return _Findings(uid, number, parts.finding_kind, parts.finding_detail, line)
    take = list(last.values())
    return _Findings(list(last), [number[i] for i in take], [parts.finding_kind[i] for i in take],
                     [parts.finding_detail[i] for i in take], [line[i] for i in take])


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


def _write_orders(conn: Connection, parts: _Derived, numbers: list[str], batch: Batch,
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
    rows = keep.tolist()

    def column(values: list) -> list | Same:
        picked = [values[i] for i in rows]
        first = picked[0] if picked else None
        return Same(first) if all(v == first for v in picked) else picked

    write_columns(conn, OrderEvent.__table__, {
        "event_uid": [events.uid[i] for i in rows],
        "order_id": order_id.tolist(),
        "stage_code": column(events.stage),
        "event_type": column(events.event_type),
        "occurred_at": stored_texts(events.at[keep]),
        "operator": column(events.operator),
        "note": column(events.note),
        "source": Same(source),
        "recorded_at": Same(now),
    }, len(rows))


def _write_visits(conn: Connection, parts: _Derived, order_ids: np.ndarray) -> None:
    entered = stored_texts(parts.entered)
    write_columns(conn, StageVisit.__table__, {
        "order_id": order_ids[parts.visit_order].tolist(),
        "stage_code": parts.visit_stage,
        "visit_no": parts.visit_no.tolist(),
        "is_rework": parts.is_rework.tolist(),
        "entered_at": entered,
        "left_at": _left_texts(parts, entered),
        "duration_s": parts.duration_s,
        "operator": parts.visit_operator,
    }, len(parts.visit_order))


def _left_texts(parts: _Derived, entered: list[str]) -> list[str | None]:
    """The stored texts of the visits' ends: most end when the next visit starts or
    where they start (an end point), whose texts are written already."""
    left, start = parts.left, parts.entered
    n = len(left)
    texts: list[str | None] = [None] * n
    following = np.zeros(n, bool)
    following[:-1] = left[:-1] == start[1:]
    itself = ~following & (left == start)
    other = np.flatnonzero(~following & ~itself & (left != NONE))
    for i in np.flatnonzero(following).tolist():
        texts[i] = entered[i + 1]
    for i in np.flatnonzero(itself).tolist():
        texts[i] = entered[i]
    for i, text in zip(other.tolist(), stored_texts(left[other])):
        texts[i] = text
    return texts


def _write_findings(conn: Connection, findings: _Findings, source: str | None, now: str) -> None:
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

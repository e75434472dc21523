"""What a whole load (``bulkload``) stores besides the rows themselves: the visits, states
and findings of every order, as ``visits.derive_order`` gives them.

Orders made of ``enter`` events of pipeline stages (and not cancelled by a status
column) are derived all at once by ``visit_arrays``; every other order by
``derive_order`` itself, and merged in. Instants are microseconds (``instants``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from datasource.importers.batch import Batch
from datasource.ingest import finding_uid
from datasource.instants import from_us, local_seconds_texts, to_us
from datasource.pipeline import Pipeline
from datasource.visit_arrays import NONE, derive_enter_runs
from datasource.visits import OUT_OF_ORDER, EventFact, derive_order, out_of_order_detail

if TYPE_CHECKING:
    from datasource.importers.bulkload import Events


@dataclass
class Derived:
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


def derive(pipeline: Pipeline, events: Events, keep: np.ndarray, order: np.ndarray,
            numbers: list[str], batch: Batch, cutoff: datetime | None) -> Derived:
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
    late, ahead = found.visit, found.furthest
    zone = ZoneInfo(pipeline.timezone)
    late_text = local_seconds_texts(visits.entered[late], zone)
    ahead_text = local_seconds_texts(visits.entered[ahead], zone)
    detail = [out_of_order_detail(vstage[a], at_a, vstage[b], at_b, pipeline.timezone)
              for a, at_a, b, at_b in zip(late.tolist(), late_text, ahead.tolist(), ahead_text)]
    parts = Derived(visits.order, vstage, visits.visit_no, visits.is_rework, visits.entered,
                     visits.left, [None if d != d else d for d in visits.duration_s.tolist()],
                     operator, state_cols, finding_order, [OUT_OF_ORDER] * len(detail), detail)
    others = np.flatnonzero(~simple)
    if len(others):
        _derive_others(parts, pipeline, others, events, keep, order, numbers, batch, cutoff)
    return parts


def _derive_others(parts: Derived, pipeline: Pipeline, others: np.ndarray, events: Events,
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
        d = derive_order(known, pipeline, bool(pending and pending.cancelled), cutoff)
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
class Findings:
    """The findings to store, one per id."""

    uid: list[str]
    order_number: list[str]
    kind: list[str]
    detail: list[str]
    line: list[int]


def findings_of(parts: Derived, numbers: list[str], first_line: np.ndarray) -> Findings:
    """The derived findings, with the line of their order's first row (ingest's origins),
    one per id (``FindingRecord.uid``): as ``ingest`` keeps them, the last of several
    with one id in the place of the first."""
    orders = parts.finding_order.tolist()
    number = [numbers[o] for o in orders]
    uid = list(map(finding_uid, parts.finding_kind, number, parts.finding_detail))
    line = first_line[parts.finding_order].tolist()
    last = {u: i for i, u in enumerate(uid)}
    if len(last) == len(uid):
        return Findings(uid, number, parts.finding_kind, parts.finding_detail, line)
    take = list(last.values())
    return Findings(list(last), [number[i] for i in take], [parts.finding_kind[i] for i in take],
                     [parts.finding_detail[i] for i in take], [line[i] for i in take])

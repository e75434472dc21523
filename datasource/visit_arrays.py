"""``visits.derive_order`` for many orders at once, as numpy arrays, for a bulk load.

It covers the orders whose events are all ``enter`` events of pipeline stages, with no
cancelled flag: for those, DESIGN.md section 4 reduces to runs of one stage in time
order (ties in source order), and every rule of ``derive_order`` is a column operation
below. Any other order (``complete``, ``cancel``, notes, exceptions...) is derived by
``derive_order`` itself by the caller. The tests compare the two on generated logs.

Instants are microseconds since the epoch (``datasource.instants``); orders are numbered
``0..n-1``; ``None`` instants are ``NONE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NONE = np.iinfo(np.int64).min


@dataclass
class VisitArrays:
    """The visits of the orders, by order number then visit (the store's order)."""

    order: np.ndarray      # order index
    position: np.ndarray   # stage position
    entered: np.ndarray    # instant
    left: np.ndarray       # instant or NONE
    visit_no: np.ndarray
    is_rework: np.ndarray
    is_end: np.ndarray
    duration_s: np.ndarray  # float seconds, NaN for None
    first_event: np.ndarray  # index of the event that started the visit (its operator)


@dataclass
class StateArrays:
    """Per order (index ``0..n-1``): status and the instants of ``OrderState``; only the
    orders in ``derived`` are meaningful."""

    derived: np.ndarray
    completed: np.ndarray    # bool
    current_position: np.ndarray
    current_since: np.ndarray
    placed_at: np.ndarray
    completed_at: np.ndarray


@dataclass
class FindingArrays:
    """Out-of-pipeline-order findings: the visit entered out of order and the visit
    furthest along the pipeline before it, as indexes into the visits."""

    visit: np.ndarray
    furthest: np.ndarray


def derive_enter_runs(order: np.ndarray, position: np.ndarray, at: np.ndarray, n_orders: int,
                      terminal: int | None, branch: np.ndarray, idle_before: int | None
                      ) -> tuple[VisitArrays, StateArrays, FindingArrays]:
    """Visits, states and findings of orders whose events are ``enter`` events of known
    stages (``position``), given in source order. ``terminal``: the terminal stage's
    position; ``branch[p]``: whether the stage at position ``p`` is an optional branch;
    ``idle_before``: the idle-completion cut-off (``derive_order``'s ``idle_before``)."""
    n = len(order)
    sort = np.lexsort((np.arange(n), at, order))  # by order, time, then source order
    o, p, t = order[sort], position[sort], at[sort]
    starts = np.ones(n, bool)
    starts[1:] = (o[1:] != o[:-1]) | (p[1:] != p[:-1])  # a repeated entry starts nothing
    first = np.flatnonzero(starts)
    vo, vp, ve = o[first], p[first], t[first]
    v = len(first)

    # visit_no: the how-manieth visit of its stage within its order
    key = vo * (int(p.max(initial=0)) + 1) + vp
    grouped = np.lexsort((np.arange(v), key))
    ks = key[grouped]
    new_group = np.ones(v, bool)
    new_group[1:] = ks[1:] != ks[:-1]
    rank = np.arange(v) - np.maximum.accumulate(np.where(new_group, np.arange(v), 0))
    visit_no = np.empty(v, np.int64)
    visit_no[grouped] = rank + 1
    is_rework = visit_no > 1

    first_of_order = np.ones(v, bool)
    first_of_order[1:] = vo[1:] != vo[:-1]
    last_of_order = np.ones(v, bool)
    last_of_order[:-1] = vo[1:] != vo[:-1]
    left = np.full(v, NONE, np.int64)
    left[:-1] = ve[1:]
    left[last_of_order] = NONE

    # per order: first/last visit, last event
    last_event = np.full(n_orders, NONE, np.int64)
    event_ends = np.ones(n, bool)
    event_ends[:-1] = o[1:] != o[:-1]
    last_event[o[event_ends]] = t[event_ends]  # sorted by time: the last is the latest
    derived = np.zeros(n_orders, bool)
    derived[vo] = True
    placed = np.full(n_orders, NONE, np.int64)
    placed[vo[first_of_order]] = ve[first_of_order]
    current_position = np.full(n_orders, -1, np.int64)
    current_position[vo[last_of_order]] = vp[last_of_order]
    current_since = np.full(n_orders, NONE, np.int64)
    current_since[vo[last_of_order]] = ve[last_of_order]

    completed_at = np.full(n_orders, NONE, np.int64)
    is_end = np.zeros(v, bool)
    if terminal is not None:
        at_terminal = vp == terminal
        # the first terminal visit of each order completes it (visits are in time order)
        idx = np.flatnonzero(at_terminal)[::-1]  # reversed: the first one is written last
        completed_at[vo[idx]] = ve[idx]
        is_end |= at_terminal
    done = completed_at != NONE
    if terminal is not None:
        # a completed order's last visit is closed too, unless it is an optional branch
        is_end |= last_of_order & done[vo] & (vp != terminal) & ~branch[vp]
    if idle_before is not None:
        idle = derived & ~done & (last_event < idle_before)
        completed_at[idle] = last_event[idle]
        is_end |= last_of_order & idle[vo]
    left[is_end] = ve[is_end]
    open_visit = left == NONE
    duration = np.where(open_visit | is_end, np.nan, (left - ve) / 1e6)

    # out of pipeline order: first visits entered after a first visit of a later stage
    firsts = np.flatnonzero(~is_rework)
    fo, fp = vo[firsts], vp[firsts]
    span = int(vp.max(initial=0)) + 1
    running = np.maximum.accumulate(fo * span + fp)  # resets per order: orders ascend
    before = np.full(len(firsts), -1, np.int64)
    same_order = np.zeros(len(firsts), bool)
    same_order[1:] = fo[1:] == fo[:-1]
    before[1:] = running[:-1] - fo[1:] * span
    before[~same_order] = -1
    late = same_order & (fp < before)
    new_furthest = ~same_order | (fp > before)
    furthest = np.maximum.accumulate(np.where(new_furthest, np.arange(len(firsts)), 0))

    visits = VisitArrays(vo, vp, ve, left, visit_no, is_rework, is_end, duration, sort[first])
    states = StateArrays(derived, completed_at != NONE, current_position, current_since,
                         placed, completed_at)
    findings = FindingArrays(firsts[late], firsts[furthest[late]])
    return visits, states, findings

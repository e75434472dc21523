"""Derive an order's stage visits, status and data-quality findings from its events
(pure functions). This is DESIGN.md section 4's "time in stage", exactly:

- An order's stage entries are taken in time order; ties keep the order the source gave
  them (the caller passes events in source order: row order of a file, sequence of an
  API batch, then arrival order in the store). The pipeline file plays no part in it.
- Consecutive entries of the same stage are one visit (a repeated scan starts nothing).
- A visit lasts from entering its stage until the order's next visit starts, or until a
  ``complete`` event for its stage in between, whichever comes first.
- Entering a stage again after leaving it is a rework visit (``visit_no`` 2, 3...).
- A first entry of a stage *after* the first entry of a stage that follows it in the
  pipeline is a data-quality finding "out of pipeline order", never a negative duration.
- Entering the terminal stage completes the order. The visit that completes an order
  is its end point, not a stay: it is closed when entered (``left_at = entered_at``) and
  has no duration, so it is in no time-in-stage statistic. A completed order has no
  running stage: its last visit is closed too, unless it is an optional branch stage
  (after-sales), which keeps its own visits and may still be open.
- Logs without a terminal activity: when ``idle_before`` is given, an order whose last
  event is earlier completes at that last event (the pipeline's idle-completion rule).
- A ``cancel`` event, or the source's cancelled flag, cancels an order; cancelled wins
  over completed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from datasource.pipeline import Pipeline

OUT_OF_ORDER = "out_of_pipeline_order"


class EventFact(NamedTuple):
    stage_code: str | None
    event_type: str
    occurred_at: datetime
    operator: str | None = None


@dataclass
class Visit:
    stage_code: str
    entered_at: datetime
    visit_no: int = 1
    is_rework: bool = False
    left_at: datetime | None = None
    operator: str | None = None
    #: the order's end point (its completing visit): closed when entered, no duration
    is_end: bool = False

    @property
    def duration_s(self) -> float | None:
        """Seconds in the stage; None while open and for an end point."""
        if self.left_at is None or self.is_end:
            return None
        return (self.left_at - self.entered_at).total_seconds()


class OrderState(NamedTuple):
    status: str
    current_stage: str | None
    current_since: datetime | None
    placed_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class Finding(NamedTuple):
    """A data-quality finding about one order's events."""

    kind: str
    detail: str


class Derived(NamedTuple):
    visits: list[Visit]
    state: OrderState
    findings: list[Finding]


def derive_order(
    events: list[EventFact],
    pipeline: Pipeline,
    cancelled_flag: bool = False,
    idle_before: datetime | None = None,
) -> Derived:
    """Visits, state and findings of one order from all its events, in source order.

    ``idle_before``: the pipeline's idle-completion cut-off (an order with no terminal
    stage whose last event is earlier is completed at that event); None when the
    pipeline has no such rule.
    """
    positions = pipeline.positions
    visits = _visits_in_time_order(events, positions)
    findings = out_of_pipeline_order(visits, positions, pipeline.timezone)
    cancels = [e.occurred_at for e in events if e.event_type == "cancel"]
    cancelled_at = min(cancels) if cancels else None

    completed_at = None
    terminal = pipeline.terminal
    end = next((v for v in visits if v.stage_code == terminal), None)
    if end is not None:
        completed_at = end.entered_at
    elif idle_before is not None and visits and cancelled_at is None and not cancelled_flag:
        last_event = max(e.occurred_at for e in events)
        if last_event < idle_before:
            completed_at = last_event
            # the last visit is the end point, unless its own complete already ended it
            end = visits[-1] if visits[-1].left_at is None else None
    if completed_at is not None:
        for v in visits:
            if v.stage_code == terminal:
                _make_end(v)
        if end is not None:
            _make_end(end)
        last = visits[-1]
        if last.left_at is None and not pipeline.is_branch(last.stage_code):
            _make_end(last)

    if cancelled_at is not None or cancelled_flag:
        status = "cancelled"
    elif completed_at is not None:
        status = "completed"
    else:
        status = "open"
    current = visits[-1] if visits else None
    state = OrderState(
        status=status,
        current_stage=current.stage_code if current else None,
        current_since=current.entered_at if current else None,
        placed_at=visits[0].entered_at if visits else None,
        completed_at=completed_at,
        cancelled_at=cancelled_at,
    )
    return Derived(visits, state, findings)


def _visits_in_time_order(events: list[EventFact], positions: dict[str, int]) -> list[Visit]:
    """The visits of the ``enter`` and ``complete`` events of known stages, stably sorted
    by time (ties keep source order). An entry of the stage the order is in is a repeated
    scan; a ``complete`` of that stage ends the visit, so an entry after it starts a new
    (rework) visit. A visit not ended by its own ``complete`` ends when the next starts."""
    stream = sorted(
        [e for e in events if e.event_type in _VISIT_EVENTS and e.stage_code in positions],
        key=_occurred_at,  # stable: ties keep source order
    )
    visits: list[Visit] = []
    count: dict[str, int] = {}
    for code, event_type, occurred_at, operator in stream:
        assert code is not None  # only events of known stages are in the stream
        current = visits[-1] if visits else None
        in_it = current is not None and current.stage_code == code and current.left_at is None
        if event_type == "complete":
            if current is not None and in_it:
                current.left_at = occurred_at
            continue
        if in_it:
            continue  # a repeated entry of the stage the order is in
        n = count[code] = count.get(code, 0) + 1
        visits.append(Visit(code, occurred_at, n, n > 1, None, operator))
    for visit, following in itertools.pairwise(visits):
        if visit.left_at is None:
            visit.left_at = following.entered_at
    return visits


_VISIT_EVENTS = frozenset({"enter", "complete"})
_occurred_at = itemgetter(2)  # EventFact.occurred_at


def _make_end(v: Visit) -> None:
    v.left_at = v.entered_at
    v.is_end = True


def out_of_pipeline_order(visits: list[Visit], positions: dict[str, int], zone: str = "UTC"
                          ) -> list[Finding]:
    """One finding per first visit of a stage entered after the first visit of a stage
    that follows it in the pipeline (rework visits are expected to go back); times are
    written in ``zone``."""
    tz = ZoneInfo(zone)
    findings: list[Finding] = []
    furthest: Visit | None = None
    for v in visits:
        if v.is_rework:
            continue
        if furthest is not None and positions[v.stage_code] < positions[furthest.stage_code]:
            findings.append(Finding(OUT_OF_ORDER, out_of_order_detail(
                v.stage_code, local_text(v.entered_at, tz), furthest.stage_code,
                local_text(furthest.entered_at, tz), zone)))
        elif furthest is None or positions[v.stage_code] > positions[furthest.stage_code]:
            furthest = v
    return findings


def out_of_order_detail(stage: str, entered: str, furthest: str, furthest_entered: str,
                        zone: str) -> str:
    """The text of an out-of-pipeline-order finding (times as ``local_text`` writes them
    in ``zone``)."""
    return (f"{stage} entered {entered} after {furthest} {furthest_entered}, which follows it "
            f"in the pipeline ({zone})")


def local_text(t: datetime, tz: ZoneInfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in ``tz`` (isoformat: strftime costs three times as much
    and an import writes a finding for every case out of pipeline order)."""
    local = t.astimezone(tz)
    if local.year < 1000:  # strftime does not pad such years; keep its text
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.replace(tzinfo=None).isoformat(" ", "seconds")

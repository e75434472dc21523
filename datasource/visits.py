"""Derive an order's stage visits and status from its events (a pure function).

Rules (DESIGN.md section 3 and 4):

- Events are read in time order (ties broken by pipeline position).
- The first visit of each stage takes its place in *pipeline* order. When a milestone
  is earlier than one before it (the carrier date before the approval date), the
  stage before it gets a negative duration: that is a data-quality anomaly which the
  metrics leave out of stage statistics and count; it is not "fixed".
- Entering a stage that was already visited, after the order moved on, is a rework
  visit (failed QC sends an order back to production): it is appended in time order,
  numbered (visit_no 2, 3...) and flagged ``is_rework``.
- Entering the stage the order is already in is a duplicate and changes nothing.
- A visit ends when the next visit begins; the last visit ends at a ``complete``
  event for its stage, if one came after it was entered, otherwise it is still open.
- The terminal stage's first visit completes the order. A ``cancel`` event, or the
  source's cancelled flag, cancels it; cancelled wins over completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


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

    @property
    def duration_s(self) -> float | None:
        if self.left_at is None:
            return None
        return (self.left_at - self.entered_at).total_seconds()


class OrderState(NamedTuple):
    status: str
    current_stage: str | None
    current_since: datetime | None
    placed_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


def build_visits(events: list[EventFact], positions: dict[str, int]) -> list[Visit]:
    """The ordered visits of one order. Events of unknown stages are ignored here
    (importers reject or map them before they reach the store)."""
    enters = sorted(
        (e for e in events if e.event_type == "enter" and e.stage_code in positions),
        key=lambda e: (e.occurred_at, positions[e.stage_code]),  # type: ignore[index]
    )
    path: list[Visit] = []
    seen: dict[str, int] = {}
    furthest = -1  # the highest pipeline position of a first visit so far
    for e in enters:
        code = e.stage_code
        assert code is not None
        if path and path[-1].stage_code == code:
            continue  # duplicate enter of the current stage
        if code in seen:
            seen[code] += 1
            path.append(Visit(code, e.occurred_at, seen[code], True, operator=e.operator))
            continue
        seen[code] = 1
        visit = Visit(code, e.occurred_at, operator=e.operator)
        pos = positions[code]
        if pos > furthest:  # the usual case: the next stage of the pipeline
            furthest = pos
            path.append(visit)
            continue
        # First visits keep pipeline order: insert before the first later first-visit.
        at = next(i for i, v in enumerate(path)
                  if not v.is_rework and positions[v.stage_code] > pos)
        path.insert(at, visit)
    for current, following in zip(path, path[1:]):
        current.left_at = following.entered_at
    if path:
        last = path[-1]
        completes = [
            e.occurred_at
            for e in events
            if e.event_type == "complete" and e.stage_code == last.stage_code
            and e.occurred_at >= last.entered_at
        ]
        if completes:
            last.left_at = min(completes)
    return path


def order_state(
    visits: list[Visit],
    events: list[EventFact],
    first_stage: str,
    terminal: str,
    cancelled_flag: bool = False,
) -> OrderState:
    """Status and current position of an order, from its visits and events."""
    placed = next((v.entered_at for v in visits if v.stage_code == first_stage), None)
    if placed is None and visits:
        placed = min(v.entered_at for v in visits)
    completed = next((v.entered_at for v in visits if v.stage_code == terminal), None)
    cancels = [e.occurred_at for e in events if e.event_type == "cancel"]
    cancelled_at = min(cancels) if cancels else None
    if cancelled_at is not None or cancelled_flag:
        status = "cancelled"
    elif completed is not None:
        status = "completed"
    else:
        status = "open"
    current = visits[-1] if visits else None
    return OrderState(
        status=status,
        current_stage=current.stage_code if current else None,
        current_since=current.entered_at if current else None,
        placed_at=placed,
        completed_at=completed,
        cancelled_at=cancelled_at,
    )

"""The visit builder on hand-written event sequences, with expected visits spelt out."""

from datetime import datetime, timedelta, timezone

from datasource.pipeline import default_pipeline
from datasource.visits import EventFact, build_visits, order_state

PIPE = default_pipeline()
POS = PIPE.positions
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def enter(stage: str, hours: float) -> EventFact:
    return EventFact(stage, "enter", at(hours))


def shape(visits):
    """(stage, visit_no, rework, entered h, left h or None) per visit."""
    def h(t):
        return None if t is None else (t - T0).total_seconds() / 3600
    return [(v.stage_code, v.visit_no, v.is_rework, h(v.entered_at), h(v.left_at)) for v in visits]


def test_straight_path_each_visit_ends_when_the_next_begins():
    events = [enter("placed", 0), enter("reviewed", 1), enter("paid", 3), enter("received", 10)]
    assert shape(build_visits(events, POS)) == [
        ("placed", 1, False, 0, 1),
        ("reviewed", 1, False, 1, 3),
        ("paid", 1, False, 3, 10),
        ("received", 1, False, 10, None),
    ]


def test_events_arriving_out_of_order_are_sorted_by_time():
    events = [enter("paid", 3), enter("placed", 0), enter("reviewed", 1)]
    assert [v.stage_code for v in build_visits(events, POS)] == ["placed", "reviewed", "paid"]


def test_failed_inspection_back_to_production_is_rework():
    events = [
        enter("placed", 0), enter("produced", 2), enter("inspected", 10),
        enter("produced", 12), enter("inspected", 20), enter("shipped", 21),
    ]
    assert shape(build_visits(events, POS)) == [
        ("placed", 1, False, 0, 2),
        ("produced", 1, False, 2, 10),
        ("inspected", 1, False, 10, 12),
        ("produced", 2, True, 12, 20),
        ("inspected", 2, True, 20, 21),
        ("shipped", 1, False, 21, None),
    ]


def test_out_of_order_milestone_keeps_pipeline_order_and_gives_a_negative_duration():
    # Carrier (shipped) recorded at 3 h, approval (reviewed) at 5 h: the approval stage
    # "lasts" 3 - 5 = -2 h. Kept as recorded, for metrics to count as an anomaly.
    events = [enter("placed", 0), enter("shipped", 3), enter("reviewed", 5), enter("received", 9)]
    visits = build_visits(events, POS)
    assert shape(visits) == [
        ("placed", 1, False, 0, 5),
        ("reviewed", 1, False, 5, 3),
        ("shipped", 1, False, 3, 9),
        ("received", 1, False, 9, None),
    ]
    assert visits[1].duration_s == -2 * 3600


def test_duplicate_enter_of_the_current_stage_changes_nothing():
    events = [enter("placed", 0), enter("reviewed", 1), enter("reviewed", 2)]
    assert shape(build_visits(events, POS)) == [
        ("placed", 1, False, 0, 1),
        ("reviewed", 1, False, 1, None),
    ]


def test_complete_event_ends_the_last_visit():
    events = [enter("placed", 0), enter("reviewed", 1), EventFact("reviewed", "complete", at(4))]
    assert shape(build_visits(events, POS))[-1] == ("reviewed", 1, False, 1, 4)


def test_skipped_stages_are_simply_absent():
    events = [enter("placed", 0), enter("shipped", 5)]
    assert [v.stage_code for v in build_visits(events, POS)] == ["placed", "shipped"]


def test_order_state_open_completed_cancelled():
    open_events = [enter("placed", 0), enter("paid", 2)]
    state = order_state(build_visits(open_events, POS), open_events, "placed", "received")
    assert (state.status, state.current_stage, state.current_since, state.placed_at,
            state.completed_at) == ("open", "paid", at(2), at(0), None)

    done = open_events + [enter("received", 30)]
    state = order_state(build_visits(done, POS), done, "placed", "received")
    assert (state.status, state.completed_at) == ("completed", at(30))

    cancelled = open_events + [EventFact(None, "cancel", at(5))]
    state = order_state(build_visits(cancelled, POS), cancelled, "placed", "received")
    assert (state.status, state.cancelled_at, state.current_stage) == ("cancelled", at(5), "paid")

    flagged = order_state(build_visits(done, POS), done, "placed", "received", cancelled_flag=True)
    assert (flagged.status, flagged.cancelled_at, flagged.completed_at) == ("cancelled", None, at(30))


def test_placed_at_falls_back_to_the_earliest_visit_without_a_placed_event():
    events = [enter("reviewed", 1), enter("paid", 2)]
    state = order_state(build_visits(events, POS), events, "placed", "received")
    assert state.placed_at == at(1)

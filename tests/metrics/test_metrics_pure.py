"""The metric functions are pure: frames in, numbers/frames out, inputs unchanged."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_fixture import NOW, PIPELINE, WINDOW, load

from metrics import frames as frame_sql
from metrics.cycle_time import completed_in, cycle_time
from metrics.delay import at_risk_mask, delay, late_mask, overdue_mask, wip_now
from metrics.exceptions import exception_summary
from metrics.stages import delay_contributions, stage_table, typical_hours
from metrics.stats import percentile
from metrics.trend import daily_trend, flow_counts, wip_at

FLOW = ("placed", "pick", "ship")


@pytest.fixture
def frames(sqlite_store):
    load(sqlite_store.engine)
    e = sqlite_store.engine
    return {
        "orders": frame_sql.window_orders(e, WINDOW.start, WINDOW.end, None),
        "ended": frame_sql.visits_ended(e, WINDOW.start, WINDOW.end, PIPELINE.codes, None),
        "late": frame_sql.late_order_visits(e, WINDOW.start, WINDOW.end, None),
        "opened": frame_sql.exceptions_opened(e, WINDOW.start, WINDOW.end, None),
    }


def test_frames_are_tz_aware_utc(frames):
    assert str(frames["orders"]["placed_at"].dtype) == "datetime64[us, UTC]"
    assert str(frames["opened"]["resolved_at"].dtype) == "datetime64[us, UTC]"


def test_no_function_mutates_its_inputs(frames):
    before = {k: v.copy(deep=True) for k, v in frames.items()}
    orders, ended, late, opened = frames["orders"], frames["ended"], frames["late"], frames["opened"]
    completed = completed_in(orders, WINDOW)
    snapshot = completed.copy(deep=True)
    cycle_time(completed)
    late_mask(completed)
    wip = wip_now(orders, NOW, FLOW)
    wip_snapshot = wip.copy(deep=True)
    table = stage_table(ended, wip, late, PIPELINE, WINDOW, NOW)
    typical = typical_hours(table)
    overdue_mask(wip, NOW)
    at_risk_mask(wip, NOW, typical, FLOW)
    delay(completed, wip, NOW, typical, FLOW)
    delay_contributions(late, PIPELINE)
    exception_summary(opened, 3, NOW)
    daily_trend(orders, WINDOW, PIPELINE.timezone, NOW)
    flow_counts(orders, WINDOW.start, WINDOW.end)
    wip_at(orders, WINDOW.start)
    for k, v in frames.items():
        pd.testing.assert_frame_equal(v, before[k])
    pd.testing.assert_frame_equal(completed, snapshot)
    pd.testing.assert_frame_equal(wip, wip_snapshot)


def test_percentile_is_linear_interpolation():
    # ranks 0..3 of 10 20 30 40: p90 at rank 2.7 -> 30 + 0.7 * 10 = 37
    assert percentile(pd.Series([40, 10, 30, 20]), 90) == pytest.approx(37)
    assert percentile(pd.Series([], dtype="float64"), 50) is None

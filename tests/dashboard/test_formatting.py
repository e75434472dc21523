"""Screen formatting: missing values are "—", durations switch units, percentages."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd
import pytest

from dashboard.formatting import MISSING, duration, duration_parts, hours, local_time, number, percent


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, pd.NaT, math.nan])
def test_missing_values_are_a_dash(value):
    assert number(value) == MISSING
    assert percent(value) == MISSING
    assert duration(value) == MISSING
    assert hours(value) == MISSING
    assert duration_parts(value) == (MISSING, "")


def test_numbers_and_percentages():
    assert number(1234567) == "1,234,567"
    assert number(0) == "0"
    assert number(12.345, 1) == "12.3"
    assert percent(0.18279) == "18.3%"
    assert percent(0) == "0.0%"
    assert percent(1, 0) == "100%"


@pytest.mark.parametrize("h, zh, en", [
    (0.5, ("30", "分钟"), ("30", "min")),
    (3.66, ("3.7", "小时"), ("3.7", "h")),
    (36.4, ("36", "小时"), ("36", "h")),
    (47.9, ("48", "小时"), ("48", "h")),
    (48.0, ("2.0", "天"), ("2.0", "d")),
    (145.2, ("6.0", "天"), ("6.0", "d")),
])
def test_durations_switch_from_hours_to_days(h, zh, en):
    assert duration_parts(h, "zh") == zh
    assert duration_parts(h, "en") == en


def test_duration_strings():
    assert duration(145.2, "en") == "6.0 d"
    assert duration(145.2, "zh") == "6.0天"
    assert hours(54.56) == "54.6 h"
    assert hours(54.56, 0) == "55 h"


def test_local_time_in_the_configured_zone():
    moment = datetime(2026, 11, 20, 8, 0, 5, tzinfo=timezone.utc)
    assert local_time(moment, "Asia/Shanghai") == "16:00:05"
    assert local_time(None, "Asia/Shanghai") == MISSING

"""Windows and filters as data (the metric catalog has its own tests: test_metrics_catalog)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest

from metrics.window import Filters, Window


def test_window_is_half_open_utc_and_refuses_naive():
    w = Window(datetime(2026, 11, 2, 8, tzinfo=timezone(timedelta(hours=8))),
               datetime(2026, 11, 3, tzinfo=timezone.utc))
    assert w.start == datetime(2026, 11, 2, 0, tzinfo=timezone.utc)
    assert w.contains(w.start) and not w.contains(w.end)
    with pytest.raises(ValueError, match="naive"):
        Window(datetime(2026, 11, 2), datetime(2026, 11, 3, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="empty"):
        Window(w.end, w.start)
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.start = w.end  # type: ignore[misc]


def test_window_helpers_use_local_days():
    now = datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc)  # 2026-11-21 01:30 in Shanghai
    w = Window.last_days(7, now, "Asia/Shanghai")
    assert w.start == datetime(2026, 11, 14, 16, tzinfo=timezone.utc)  # 11-15 00:00 local
    assert w.end == datetime(2026, 11, 21, 16, tzinfo=timezone.utc)  # 11-22 00:00 local
    assert w.elapsed_days(now) == pytest.approx(6 + 1.5 / 24)
    week = Window.iso_week("2026-W47", "Asia/Shanghai")  # Monday 2026-11-16
    assert week.start == datetime(2026, 11, 15, 16, tzinfo=timezone.utc)
    assert week.duration == timedelta(days=7)
    assert week.previous() == Window.iso_week("2026-W46", "Asia/Shanghai")
    days = list(Window.between_dates(date(2026, 11, 1), date(2026, 11, 2), "Asia/Shanghai").local_days("Asia/Shanghai"))
    assert [d for d, _, _ in days] == [date(2026, 11, 1), date(2026, 11, 2)]
    with pytest.raises(ValueError, match="ISO week"):
        Window.iso_week("2026-47")


def test_filters_are_hashable_and_report_active():
    f = Filters(customer="acme", channel=["web", "shop"], owner="")
    assert f.active() == {"customer": "acme", "channel": ("web", "shop")}
    assert hash(f) == hash(Filters(customer="acme", channel=("web", "shop")))
    assert not Filters() and Filters().active() == {}

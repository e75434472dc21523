"""Failures logged once per streak, and the retry pause of a failing cache."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from dashboard.fault_streak import FaultStreak
from dashboard.service import CachedService, cache_config
from datasource.settings import load_settings


class Ticks:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_streak_logs_its_start_with_the_details_and_its_end_with_the_count(caplog):
    ticks = Ticks()
    began = datetime(2026, 11, 20, 6, 3, tzinfo=timezone.utc)
    streak = FaultStreak("cache", logging.getLogger("t"), clock=ticks, wall_clock=lambda: began)
    with caplog.at_level(logging.WARNING):
        for _ in range(1050):  # a minute of three screens against a Redis that is down
            streak.failed("cache read", ConnectionError("Error 111 connecting to 127.0.0.1:6390."))
        ticks.t += 60
        streak.succeeded()
        streak.succeeded()
    assert [r.getMessage() for r in caplog.records] == [
        "cache failing (cache read): ConnectionError: Error 111 connecting to 127.0.0.1:6390.; "
        "further failures are counted, not logged",
        "cache back after 1050 failed call(s) over 60 s",
    ]
    assert streak.since is None and not streak.failing


def test_one_failure_recorded_on_its_way_up_counts_once(caplog):
    """The service records a store failure, then the page that shows it records it again:
    one failed call, not two, in the streak's closing line."""
    streak = FaultStreak("store", logging.getLogger("t"), clock=Ticks())
    failure, another = OSError("connection refused"), OSError("connection refused")
    with caplog.at_level(logging.WARNING):
        streak.failed("summary", failure)
        streak.failed("a page's query", failure)
        streak.failed("summary", another)
        streak.succeeded()
    assert caplog.records[-1].getMessage() == "store back after 2 failed call(s) over 0 s"


def test_while_failing_calls_skip_except_one_probe_per_pause():
    ticks = Ticks()
    streak = FaultStreak("cache", logging.getLogger("t"), retry_s=5, clock=ticks)
    assert not streak.skip()
    streak.failed("cache read", TimeoutError("Timeout reading from socket"))
    assert [streak.skip() for _ in range(3)] == [True, True, True]
    ticks.t += 5
    assert [streak.skip() for _ in range(3)] == [False, True, True]  # one probe


class HungCache:
    """A cache whose calls all time out (a Redis stopped with SIGSTOP), counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    def _call(self, *a, **k):
        self.calls += 1
        raise TimeoutError("Timeout reading from 127.0.0.1:6390")

    get = set = delete = _call


def test_a_hung_cache_costs_one_timeout_per_pause_not_one_per_call(caplog):
    cache = HungCache()
    service = CachedService(cache, version=lambda: "1")
    values = [service.get("kpi", {"n": k}, lambda k=k: k).value for k in range(20)]
    assert values == list(range(20))  # computed directly: the cache is never a point of failure
    assert cache.calls == 1
    assert sum("cache failing" in r.getMessage() for r in caplog.records) == 1


def test_wait_settings_reach_redis_and_the_locks(monkeypatch):
    monkeypatch.setenv("ORDERBOARD_WAIT_S", "4")
    monkeypatch.setenv("ORDERBOARD_CACHE_WAIT_S", "0.25")
    settings = load_settings()
    assert (settings.wait_s, settings.cache_wait_s) == (4.0, 0.25)
    config = cache_config("redis://127.0.0.1:6379/0", None, cache_wait_s=settings.cache_wait_s)
    assert config["CACHE_OPTIONS"] == {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}


def test_a_bad_wait_setting_names_itself(monkeypatch):
    import pytest

    monkeypatch.setenv("ORDERBOARD_WAIT_S", "soon")
    with pytest.raises(ValueError, match="wait_s must be a number of seconds"):
        load_settings()

"""The cached service: one computation per key and period, staleness, cache failures."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from conftest import BrokenCache
from flask import Flask
from flask_caching import Cache

from dashboard.service import CachedService, cache_config

T0 = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone.utc)
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Store:
    """A fake data version that can be bumped or made unreachable."""

    def __init__(self) -> None:
        self.version = 1
        self.down = False

    def __call__(self) -> str:
        if self.down:
            raise ConnectionError("could not connect to server: Connection refused")
        return str(self.version)


def make_cache(tmp_path, config: dict | None = None) -> Cache:
    app = Flask(__name__)
    cache = Cache(config=config or cache_config(None, str(tmp_path / "cache")))
    cache.init_app(app)
    return cache


@pytest.fixture
def parts(tmp_path):
    clock, store = Clock(), Store()
    service = CachedService(make_cache(tmp_path), store, period_s=15, clock=clock,
                            lock_dir=str(tmp_path / "locks"))
    return service, clock, store


def counting(value="v"):
    calls = []

    def compute():
        calls.append(1)
        return f"{value}{len(calls)}"
    return compute, calls


def test_same_key_same_period_computes_once(parts):
    service, clock, _store = parts
    compute, calls = counting()
    first = service.get("summary", {"window": "7d"}, compute)
    clock.now += timedelta(seconds=5)  # same 15 s bucket (08:00:00 -> 08:00:05)
    second = service.get("summary", {"window": "7d"}, compute)
    assert (first.value, second.value, len(calls)) == ("v1", "v1", 1)
    assert second.computed_at == T0 and second.data_version == "1" and not second.stale


def test_other_params_new_data_or_next_period_recompute(parts):
    service, clock, store = parts
    compute, calls = counting()
    service.get("summary", {"window": "7d"}, compute)
    assert service.get("summary", {"window": "7d", "line": "A"}, compute).value == "v2"
    store.version = 2
    assert service.get("summary", {"window": "7d"}, compute).value == "v3"
    clock.now += timedelta(seconds=15)
    assert service.get("summary", {"window": "7d"}, compute).value == "v4"
    assert len(calls) == 4


def test_unreachable_store_serves_last_good_value_as_stale_then_recovers(parts):
    service, clock, store = parts
    compute, _calls = counting()
    service.get("summary", {}, compute)
    store.down = True
    clock.now = T0 + timedelta(minutes=1)
    stale = service.get("summary", {}, compute)
    clock.now = T0 + timedelta(minutes=2)
    still = service.get("summary", {}, compute)
    assert (stale.value, stale.stale, stale.stale_since, stale.computed_at) == ("v1", True, clock.now - timedelta(minutes=1), T0)
    assert still.stale_since == T0 + timedelta(minutes=1)  # since the first failure
    assert "Connection refused" in stale.error
    store.down = False
    fresh = service.get("summary", {}, compute)
    assert (fresh.value, fresh.stale) == ("v2", False)


def test_failing_computation_without_any_good_value_raises(parts):
    service, _clock, store = parts
    store.down = True
    with pytest.raises(ConnectionError):
        service.get("summary", {}, lambda: "never")


def test_a_broken_cache_falls_back_to_computing(tmp_path):
    service = CachedService(BrokenCache(OSError("disk full")), lambda: "1", lock_dir=str(tmp_path))
    assert service.get("summary", {}, lambda: 42).value == 42


def test_concurrent_screens_cost_one_computation_file_cache(parts):
    service, _clock, _store = parts
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "slow"

    results = []
    threads = [threading.Thread(target=lambda: results.append(service.get("s", {}, slow).value))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["slow"] * 20 and len(calls) == 1


def redis_or_skip():
    import redis

    url = os.environ.get("ORDERBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        if UNDER_CI:
            pytest.fail(f"Redis at {url} is not reachable ({exc}); CI must run the Redis tests")
        pytest.skip(f"Redis at {url} is not reachable ({exc})")
    return url, client


@pytest.mark.redis
def test_two_workers_sharing_redis_compute_once(tmp_path):
    url, client = redis_or_skip()
    prefix = f"obtest-{uuid.uuid4().hex[:8]}:"
    workers = [
        CachedService(make_cache(tmp_path, cache_config(url, None, prefix)), lambda: "1",
                      clock=lambda: T0, redis_client=client)
        for _ in range(2)
    ]
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "shared"

    results = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.get(prefix + "s", {}, slow).value))
               for w in workers for _ in range(10)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["shared"] * 20 and len(calls) == 1
        assert workers[0].computations_of(prefix + "s") == 1
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_background_mode_serves_the_last_value_while_one_refresh_runs(parts):
    service, _clock, store = parts
    started, release = threading.Event(), threading.Event()
    calls = []

    def compute():
        calls.append(1)
        if len(calls) > 1:  # the refresh: slow until released
            started.set()
            release.wait(5)
        return f"v{len(calls)}"

    assert service.get("wall", {}, compute, background=True).value == "v1"  # nothing yet: waits
    store.version = 2  # new data: the key misses
    answers = [service.get("wall", {}, compute, background=True) for _ in range(5)]
    assert started.wait(5)
    assert [a.value for a in answers] == ["v1"] * 5 and not any(a.stale for a in answers)
    release.set()
    service.wait_for_refreshes()
    assert service.get("wall", {}, compute, background=True).value == "v2"
    assert len(calls) == 2  # five requests during the refresh started one computation


def test_background_mode_computes_instead_of_serving_a_value_from_long_ago(parts):
    """A screen switched on in the morning gets today's numbers, not last night's."""
    service, clock, _store = parts
    compute, calls = counting()
    assert service.get("wall", {}, compute, background=True).value == "v1"
    clock.now += timedelta(seconds=15 * 3)  # three periods later: still served, refreshed behind
    assert service.get("wall", {}, compute, background=True).value == "v1"
    service.wait_for_refreshes()
    assert service.get("wall", {}, compute, background=True).value == "v2"
    clock.now += timedelta(hours=14)  # overnight
    fresh = service.get("wall", {}, compute, background=True)
    assert fresh.value == "v3" and fresh.computed_at == clock.now
    assert len(calls) == 3


def test_period_can_be_set_per_call(parts):
    service, clock, _store = parts
    compute, calls = counting()
    service.get("wall", {}, compute, period_s=60)
    clock.now += timedelta(seconds=30)  # a new 15 s bucket, the same 60 s one
    assert service.get("wall", {}, compute, period_s=60).value == "v1"
    assert service.get("live", {}, compute).value == "v2"
    assert len(calls) == 2


class CountingCache:
    """A cache that records every call (to count round trips on the hit path)."""

    def __init__(self, inner: Cache) -> None:
        self.inner, self.calls = inner, []

    def get(self, key):
        self.calls.append(("get", key))
        return self.inner.get(key)

    def set(self, key, value, timeout=None):
        self.calls.append(("set", key))
        return self.inner.set(key, value, timeout=timeout)

    def delete(self, key):
        self.calls.append(("delete", key))
        return self.inner.delete(key)


def test_a_hit_is_one_cache_read(tmp_path):
    cache, store = CountingCache(make_cache(tmp_path)), Store()
    service = CachedService(cache, store, clock=lambda: T0, lock_dir=str(tmp_path / "locks"))
    service.get("summary", {}, lambda: 1)
    service.get("wall", {}, lambda: 2, background=True, check_version=False)
    cache.calls.clear()
    assert service.get("summary", {}, lambda: 0).value == 1
    assert service.get("wall", {}, lambda: 0, background=True, check_version=False).value == 2
    assert [kind for kind, _ in cache.calls] == ["get", "get"]


def test_without_version_check_the_store_is_not_read_and_the_period_decides(parts):
    service, clock, store = parts
    store.down = True  # would make a versioned get stale
    compute, calls = counting()
    first = service.get("wall", {}, compute, check_version=False)
    store.down, store.version = False, 2  # a write: invisible until the period moves on
    same = service.get("wall", {}, compute, check_version=False)
    clock.now += timedelta(seconds=15)
    later = service.get("wall", {}, compute, check_version=False)
    assert (first.value, same.value, later.value) == ("v1", "v1", "v2")
    assert not first.stale and first.data_version is None and len(calls) == 2


def test_stale_since_starts_afresh_after_a_good_computation(parts):
    service, clock, store = parts
    compute, _ = counting()
    service.get("summary", {}, compute)
    store.down, clock.now = True, T0 + timedelta(minutes=1)
    assert service.get("summary", {}, compute).stale_since == T0 + timedelta(minutes=1)
    store.down, clock.now = False, T0 + timedelta(minutes=2)
    assert not service.get("summary", {}, compute).stale  # recovered: a new value
    store.down, clock.now = True, T0 + timedelta(minutes=3)
    again = service.get("summary", {}, compute)
    assert (again.value, again.stale_since) == ("v2", T0 + timedelta(minutes=3))


def test_a_failing_background_refresh_keeps_the_last_value_and_logs(parts, caplog):
    service, clock, _store = parts
    service.get("wall", {}, lambda: "v1", background=True, check_version=False)
    clock.now += timedelta(seconds=15)

    def broken():
        raise RuntimeError("metrics bug")

    assert service.get("wall", {}, broken, background=True, check_version=False).value == "v1"
    service.wait_for_refreshes()
    assert service.get("wall", {}, broken, background=True, check_version=False).value == "v1"
    service.wait_for_refreshes()
    # two failures, one line (a failure streak is logged once, with the error's words)
    lines = [r.getMessage() for r in caplog.records if "background refresh of wall" in r.getMessage()]
    assert len(lines) == 1 and "RuntimeError: metrics bug" in lines[0]


@pytest.mark.redis
def test_two_workers_refreshing_in_the_background_compute_once(tmp_path):
    """Stale-while-revalidate across workers: every worker answers at once with the last
    value, and one of them (not one per worker) computes the new period's value."""
    url, client = redis_or_skip()
    prefix = f"obtest-{uuid.uuid4().hex[:8]}:"
    clock = Clock()
    workers = [
        CachedService(make_cache(tmp_path, cache_config(url, None, prefix)), lambda: "1",
                      clock=clock, redis_client=client)
        for _ in range(3)
    ]
    calls, release = [], threading.Event()

    def compute():
        calls.append(1)
        if len(calls) > 1:
            release.wait(10)  # the new value: held until every worker has answered
        return f"v{len(calls)}"

    name = prefix + "frame"
    try:
        assert workers[0].get(name, {}, compute, background=True, check_version=False).value == "v1"
        clock.now += timedelta(seconds=15)
        answers = [w.get(name, {}, compute, background=True, check_version=False).value
                   for w in workers for _ in range(3)]
        release.set()
        for w in workers:
            w.wait_for_refreshes()
        assert answers == ["v1"] * 9 and len(calls) == 2
        assert [w.get(name, {}, compute, background=True, check_version=False).value
                for w in workers] == ["v2"] * 3
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_two_stores_with_the_same_relative_url_in_different_folders_have_their_own_keys(tmp_path, monkeypatch):
    from dashboard.context import AppContext
    from datasource.store import make_engine

    keys = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        from datasource.settings import Settings

        settings = Settings(database_url="sqlite:///orderboard-demo.db")
        keys.append(AppContext(settings, make_engine(settings.database_url), None).store_key)
    assert keys[0] != keys[1]

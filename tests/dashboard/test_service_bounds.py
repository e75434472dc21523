"""The cache keeps a bounded footprint: a day of screens leaves a handful of lock files,
lock objects and threads, however many periods and parameters went by."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from flask_caching import Cache
from test_service import T0, Clock

from dashboard.service import CachedService


def _service(tmp_path, clock) -> CachedService:
    app = Flask(__name__)
    cache = Cache(config={"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100_000})
    cache.init_app(app)
    return CachedService(cache, lambda: "1", period_s=5, clock=clock, lock_dir=str(tmp_path / "locks"))


def test_a_day_of_one_screen_leaves_a_bounded_footprint(tmp_path):
    clock = Clock()
    service = _service(tmp_path, clock)
    threads_before = threading.active_count()
    for step in range(24 * 3600 // 5):  # one screen every 5 s for 24 hours
        clock.now = T0 + timedelta(seconds=5 * step)
        summary = service.get("summary", {"window": {"days": 7}}, lambda step=step: step, period_s=5)
        frame = service.get("frame", {"screen": "main"}, lambda summary=summary: summary.value, period_s=5,
                            background=True, check_version=False)
        assert frame.value is not None
        if step % 500 == 0:
            service.wait_for_refreshes()
    service.wait_for_refreshes()
    lock_files = list((tmp_path / "locks").iterdir())
    assert len(lock_files) <= 8, f"{len(lock_files)} lock files after a day"
    assert len(service._threads) <= 2 and len(service._refreshing) == 0
    assert threading.active_count() <= threads_before + 1


def test_many_different_parameters_stay_bounded_too(tmp_path):
    """Search texts and filters in URLs are endless; the lock footprint is not."""
    clock = Clock()
    service = _service(tmp_path, clock)
    for i in range(2000):
        service.get("stage.list", {"q": f"search {i}"}, lambda i=i: i)
    assert len(list((tmp_path / "locks").iterdir())) <= 64


def test_a_computation_reading_another_value_of_its_own_stripe_does_not_deadlock(tmp_path):
    from dashboard.service import _stripe, cache_key

    clock = Clock()
    service = _service(tmp_path, clock)
    service.lock_wait_s = 120  # a deadlock would outlast the join below
    outer = {"screen": "outer"}
    target = _stripe(cache_key("frame", outer))
    inner = next({"screen": f"inner {i}"} for i in range(10_000)
                 if _stripe(cache_key("summary", {"screen": f"inner {i}"})) == target)

    def compute_outer():
        return service.get("summary", inner, lambda: "inner value").value + " seen"

    done = []
    worker = threading.Thread(target=lambda: done.append(service.get("frame", outer, compute_outer).value))
    worker.start()
    worker.join(timeout=20)
    assert done == ["inner value seen"]

"""The cache between metrics and the screens: N screens cost one computation per period.

``CachedService.get(namespace, params, compute)`` returns a ``Result``: the value, when it
was computed, the data version it was computed from, and whether it is stale.

- The key is namespace + parameters + the store's data version + a time bucket. The
  parameters hold *relative* windows ("last 7 days"), never an absolute now, so the key
  repeats; the time bucket (the refresh period) makes ages and "overdue now" move on even
  when nothing is written; the data version makes a write visible on the next refresh.
- One computation per key across threads, workers and hosts: a lock per computation
  (namespace + parameters, not per period or data version: a Redis lock with a Redis
  cache, a file lock with the file-system cache); whoever waits for the lock then finds
  the value in the cache. Without Redis the locks are striped over ``LOCK_STRIPES`` lock
  files and in-process locks, so however many periods and parameters go by (search texts
  and filters in URLs are endless) the footprint stays bounded.
- The cache is a speed-up, never a point of failure: a cache error is logged and the value
  is computed directly.
- Stale-while-revalidate (``background=True``, for wall screens): when the key of the
  current period misses but a last good value of the last ``SWR_PERIODS`` periods exists,
  that value is returned at once and one process recomputes in a background thread; no
  screen waits for a slow computation. ``computed_at`` says how old the value is. An
  older value (the first screen switched on in the morning would otherwise show last
  night's numbers until its next refresh) is not served: that request computes.
- ``check_version=False`` keys a value by parameters and period only and does not touch
  the store on the request path (a hit is one cache read). It suits values derived from
  another cached value whose key does carry the version (a wall's rendering is derived
  from its summary): a write then shows within one period.
- When the store cannot be reached, the last good value for the same parameters is
  returned with ``stale=True`` and ``stale_since`` (the first failure), so a wall screen
  keeps its numbers under a banner instead of going blank. Without any last good value the
  error is raised.
- Every wait is bounded (README, "Timeouts"): Redis calls by ``cache_wait_s`` (socket and
  connect timeouts), lock waits by ``lock_wait_s``; the store's own bounds are the
  engine's. Failures are logged once per streak (``dashboard.fault_streak``), and after a
  cache failure the cache is skipped for ``CACHE_RETRY_S`` (one probe per pause), so a
  hung Redis costs one timeout per pause, not one per call.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

from flask_caching import Cache

from dashboard.fault_streak import FaultStreak

log = logging.getLogger(__name__)
T = TypeVar("T")

LAST_GOOD_TIMEOUT = 7 * 24 * 3600
SWR_PERIODS = 3  # how many periods old a value stale-while-revalidate may still serve
COUNTER_PREFIX = "orderboard:computations:"
LOCK_STRIPES = 64  # lock files and in-process locks without Redis
LOCK_WAIT_S = 10.0  # the default of the wait_s setting
CACHE_WAIT_S = 0.25  # the default of the cache_wait_s setting
CACHE_RETRY_S = 5.0  # after a cache failure, calls skip the cache this long between probes


@dataclass(frozen=True)
class Result(Generic[T]):
    value: T
    computed_at: datetime
    data_version: str | None
    stale: bool = False
    stale_since: datetime | None = None
    error: str | None = None


def cache_config(cache_url: str | None, cache_dir: str | None, prefix: str = "orderboard:",
                 cache_wait_s: float = CACHE_WAIT_S) -> dict:
    """Flask-Caching configuration: Redis when a URL is given (every call bounded by
    ``cache_wait_s``), else the file system."""
    if cache_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": cache_url,
                "CACHE_KEY_PREFIX": prefix, "CACHE_DEFAULT_TIMEOUT": 300,
                "CACHE_OPTIONS": redis_timeouts(cache_wait_s)}
    directory = cache_dir or os.path.join(tempfile.gettempdir(), "orderboard-cache")
    return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": directory,
            "CACHE_THRESHOLD": 2000, "CACHE_DEFAULT_TIMEOUT": 300}


def redis_timeouts(cache_wait_s: float) -> dict:
    """The redis-py options that bound one call (connecting, then each read and write)."""
    return {"socket_timeout": cache_wait_s, "socket_connect_timeout": cache_wait_s}


def cache_key(namespace: str, params: dict[str, Any], *parts: str) -> str:
    blob = json.dumps(params, sort_keys=True, default=str)
    digest = hashlib.sha1("|".join((blob, *parts)).encode()).hexdigest()[:20]
    return f"{namespace}:{digest}"


class CachedService:
    """Cached, locked, stale-tolerant computations over one store.

    ``version`` returns the store's data version (raising when the store is unreachable);
    ``clock`` returns now (UTC), injectable for tests.
    """

    def __init__(
        self,
        cache: Cache,
        version: Callable[[], str],
        period_s: int = 15,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        redis_client: Any | None = None,
        lock_dir: str | None = None,
        lock_wait_s: float = LOCK_WAIT_S,
        scope_key: Callable[[], str] = lambda: "all",
    ) -> None:
        self.cache = cache
        self.version = version
        self.period_s = period_s
        self.clock = clock
        self.redis = redis_client
        self.lock_dir = lock_dir or os.path.join(tempfile.gettempdir(), "orderboard-locks")
        # Reentrant: a computation may read another cached value whose lock shares its stripe.
        self._stripes = [threading.RLock() for _ in range(LOCK_STRIPES)]
        self._held = threading.local()  # the stripes this thread holds across processes
        self._guard = threading.Lock()
        self._refreshing: set[str] = set()
        self._threads: list[threading.Thread] = []
        self.computations = 0  # in this process; the Redis counter spans processes
        self.lock_wait_s = lock_wait_s
        # The data scope of the request, part of every key: one viewer's rows are never
        # served to another from the cache (dashboard.access.cache_scope).
        self.scope_key = scope_key
        self.cache_faults = FaultStreak("cache", log, retry_s=CACHE_RETRY_S)
        self.store_faults = FaultStreak("store", log)

    # -- public -----------------------------------------------------------------
    def get(
        self,
        namespace: str,
        params: dict[str, Any],
        compute: Callable[[], T],
        period_s: int | None = None,
        background: bool = False,
        check_version: bool = True,
    ) -> Result[T]:
        """The cached value of ``compute`` for these parameters (see the module docstring).

        ``period_s`` overrides the service's period for this namespace (a wall refreshing
        every 15 s needs no 5 s period); ``background`` turns on stale-while-revalidate;
        ``check_version=False`` leaves the data version out of the key (no store read).
        """
        period = period_s or self.period_s
        params = {**params, "scope": self.scope_key()}
        last_good_key = cache_key(namespace + ":last", params)
        version: str | None = None
        if check_version:
            try:
                version = self.version()
            except Exception as exc:  # noqa: BLE001 - any store failure means "stale"
                return self._stale(last_good_key, exc)
        bucket = f"{period}s:{int(self.clock().timestamp()) // period}"
        key = cache_key(namespace, params, version or "", bucket)
        lock_id = cache_key(namespace, params)  # one lock per computation, whatever the period
        hit = self._cache_get(key)
        if hit is not None:
            return hit
        if background:
            last = self._cache_get(last_good_key)
            recent = last is not None and (
                self.clock() - last.computed_at <= timedelta(seconds=period * SWR_PERIODS))
            if recent:
                self._refresh_in_background(namespace, key, lock_id, last_good_key, version, period,
                                            compute)
                return last
        with self._lock(lock_id):
            hit = self._cache_get(key)
            if hit is not None:
                return hit
            try:
                value = compute()
            except Exception as exc:  # noqa: BLE001
                return self._stale(last_good_key, exc)
            return self._store(namespace, key, last_good_key, version, period, value)

    def computations_of(self, namespace: str) -> int | None:
        """Computations of a namespace across processes (Redis only)."""
        if self.redis is None:
            return None
        raw = self.redis.get(COUNTER_PREFIX + namespace)
        return int(raw) if raw else 0

    # -- helpers ----------------------------------------------------------------
    def _store(self, namespace, key, last_good_key, version, period, value) -> Result:
        result = Result(value, self.clock(), version)
        self._count(namespace)
        self._cache_set(key, result, period * 2)
        self._cache_set(last_good_key, result, LAST_GOOD_TIMEOUT)
        # A good computation ends a failure episode. Done here, not on every request, so
        # that a hit is one cache read; at worst a failure within one period of a recovery
        # is reported as part of the earlier episode (an earlier "stale since").
        self._cache_delete(last_good_key + ":failing")
        if version is not None:  # read from the store (not derived from a cached value)
            self.store_faults.succeeded()
        return result

    def _refresh_in_background(self, namespace, key, lock_id, last_good_key, version, period,
                               compute) -> None:
        """Recompute ``key`` in a thread, once: one thread per key in this process, and
        only the process that gets the key's lock without waiting."""
        with self._guard:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def run() -> None:
            try:
                with self._process_lock(lock_id, blocking=False) as acquired:
                    if acquired and self._cache_get(key) is None:
                        self._store(namespace, key, last_good_key, version, period, compute())
            except Exception as exc:  # noqa: BLE001 - the next request tries again
                self.store_faults.failed(f"background refresh of {namespace}", exc)
            finally:
                with self._guard:
                    self._refreshing.discard(key)

        # In a copy of the caller's context: the computation runs for the same viewer
        # (dashboard.access) as the request that started it.
        thread = threading.Thread(target=contextvars.copy_context().run, args=(run,),
                                  name=f"refresh-{namespace}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def wait_for_refreshes(self, timeout: float = 30) -> None:
        """Join background refreshes (for tests and orderly shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _stale(self, last_good_key: str, exc: Exception) -> Result:
        self.store_faults.failed("store unreachable or computation failed", exc)
        last = self._cache_get(last_good_key)
        if last is None:
            raise exc
        failing_key = last_good_key + ":failing"
        since = self._cache_get(failing_key)
        if since is None:
            since = self.clock()
            self._cache_set(failing_key, since, LAST_GOOD_TIMEOUT)
        return replace(last, stale=True, stale_since=since, error=str(exc).splitlines()[0])

    def _count(self, namespace: str) -> None:
        self.computations += 1
        if self.redis is not None:
            self._cache_call("count", lambda: self.redis.incr(COUNTER_PREFIX + namespace))

    def _cache_call(self, what: str, call: Callable[[], Any]) -> Any:
        """``call()``, or None when it fails or the cache is in a retry pause: the cache is
        never a point of failure (the caller computes instead)."""
        if self.cache_faults.skip():
            return None
        try:
            value = call()
        except Exception as exc:  # noqa: BLE001 - logged once per failure streak
            self.cache_faults.failed(f"{what}; computing without the cache", exc)
            return None
        self.cache_faults.succeeded()
        return value

    def _cache_get(self, key: str) -> Any:
        return self._cache_call("cache read", lambda: self.cache.get(key))

    def _cache_set(self, key: str, value: Any, timeout: int) -> None:
        self._cache_call("cache write", lambda: self.cache.set(key, value, timeout=timeout))

    def _cache_delete(self, key: str) -> None:
        self._cache_call("cache delete", lambda: self.cache.delete(key))

    @contextlib.contextmanager
    def _lock(self, lock_id: str) -> Iterator[None]:
        with self._stripes[_stripe(lock_id)], self._process_lock(lock_id):
            yield

    @contextlib.contextmanager
    def _process_lock(self, lock_id: str, blocking: bool = True) -> Iterator[bool]:
        """Hold a computation's lock across processes; yields whether it was acquired (when
        not blocking, or after waiting ``lock_wait_s``, the caller may go on without it)."""
        key = lock_id
        if self.redis is not None:
            if self.cache_faults.skip():  # the cache is failing: compute without its lock
                yield True
                return
            try:
                lock = self.redis.lock("orderboard:lock:" + key, timeout=60,
                                       blocking_timeout=self.lock_wait_s)
                acquired = bool(lock.acquire(blocking=blocking))
            except Exception as exc:  # noqa: BLE001
                self.cache_faults.failed("cache lock; computing without it", exc)
                yield True
                return
            try:
                yield acquired
            finally:
                if acquired:
                    with contextlib.suppress(Exception):
                        lock.release()
            return
        stripe = _stripe(lock_id)
        held: set[int] = self._held.__dict__.setdefault("stripes", set())
        if stripe in held:  # this thread already holds the stripe's file (a nested computation)
            yield True
            return
        os.makedirs(self.lock_dir, exist_ok=True)
        path = os.path.join(self.lock_dir, f"stripe-{stripe:02d}.lock")
        with open(path, "w") as handle:
            acquired = False
            deadline = time.monotonic() + (self.lock_wait_s if blocking else 0)
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    acquired = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        if blocking:
                            log.warning("waited %.0f s for %s; computing anyway", self.lock_wait_s, key)
                        break
                    time.sleep(0.02)
            if acquired:
                held.add(stripe)
            try:
                yield acquired or blocking
            finally:
                if acquired:
                    held.discard(stripe)
                    with contextlib.suppress(OSError):
                        fcntl.flock(handle, fcntl.LOCK_UN)


def _stripe(lock_id: str) -> int:
    return int(hashlib.sha1(lock_id.encode()).hexdigest()[:8], 16) % LOCK_STRIPES

"""A failing dependency (the store, the cache) as a streak: one log line when it starts,
one when it ends, and a retry pause for callers that can do without it.

Three wall screens refreshing every 5 s against a Redis that is down make about 36
requests a minute per process, each with several cache calls: logging each failure buries
the log (about 1,050 lines a minute were seen). A ``FaultStreak`` logs the first failure of
a streak with the driver's message (hosts, ports: the log is for operators), counts the
rest silently, and logs once more when a call succeeds again, with how many failed and for
how long. ``since`` is when the streak began (what a screen tells its viewers, in plain
words).

``retry_s`` turns the streak into a simple circuit breaker for optional dependencies:
while a streak runs, ``skip()`` is true except once every ``retry_s`` seconds (a probe),
so a hung cache costs one timeout per pause instead of one per call.

Per process and thread-safe; the clock is injectable for tests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone


class FaultStreak:
    def __init__(self, name: str, logger: logging.Logger, retry_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.name = name
        self.log = logger
        self.retry_s = retry_s
        self.clock = clock
        self.wall_clock = wall_clock
        self.failures = 0
        self.since: datetime | None = None
        self._started = 0.0
        self._next_try = 0.0
        self._last: BaseException | None = None  # the last exception recorded
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def skip(self) -> bool:
        """True while a streak runs and its retry pause has not passed (then the caller
        does without the dependency); the first call after each pause is let through."""
        if not self.retry_s:
            return False
        with self._lock:
            if not self.failures or self.clock() >= self._next_try:
                self._next_try = self.clock() + self.retry_s
                return False
            return True

    def failed(self, what: str, exc: BaseException | str) -> None:
        """Record a failure; the first of a streak is logged with its details. The same
        exception recorded again (the service records it, then the page that shows it)
        counts once."""
        with self._lock:
            if not isinstance(exc, str):
                if exc is self._last:
                    return
                self._last = exc
            first = self.failures == 0
            self.failures += 1
            if first:
                self.since = self.wall_clock()
                self._started = self.clock()
            self._next_try = self.clock() + self.retry_s
        if first:
            detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
            self.log.warning("%s failing (%s): %s; further failures are counted, not logged",
                             self.name, what, str(detail).strip().replace("\n", " ")[:500])

    def succeeded(self) -> None:
        """End a streak (logged once with its count and length); cheap when none runs."""
        if not self.failures:
            return
        with self._lock:
            failures, self.failures, self.since, self._last = self.failures, 0, None, None
            lasted = self.clock() - self._started
        if failures:
            self.log.warning("%s back after %d failed call(s) over %.0f s", self.name, failures, lasted)

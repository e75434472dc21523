"""Time windows and filters: the two parameters of every metric.

A ``Window`` is half-open, ``[start, end)``, with tz-aware UTC bounds. Helpers build
windows from local calendar days in the pipeline's time zone, so "the last 7 days" is
the same window all day long (a stable cache key) and a day means a local day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

FILTER_COLUMNS = ("production_line", "customer", "channel", "product_line", "owner")


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give a time zone")
    return value.astimezone(timezone.utc)


def local_midnight(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` begins in zone ``tz``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


@dataclass(frozen=True)
class Window:
    """The half-open interval ``[start, end)`` of UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"empty window: end {self.end} is not after start {self.start}")

    @classmethod
    def between_dates(cls, first: date, last: date, tz: str) -> Window:
        """Local days ``first`` to ``last``, both included: [first 00:00, last+1 00:00) in tz."""
        return cls(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz))

    @classmethod
    def last_days(cls, n: int, now: datetime, tz: str = "UTC") -> Window:
        """The last ``n`` local days in ``tz`` including today: from local midnight n-1 days
        before today to the coming local midnight. The end is in the future while today
        runs; metrics that divide by days use the elapsed part (see ``elapsed_days``)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        today = as_utc(now).astimezone(ZoneInfo(tz)).date()
        return cls.between_dates(today - timedelta(days=n - 1), today, tz)

    @classmethod
    def iso_week(cls, week: str, tz: str = "UTC") -> Window:
        """ISO week ``"2026-W47"``: Monday 00:00 to the next Monday 00:00, local time in tz."""
        try:
            year_text, week_text = week.upper().split("-W")
            monday = date.fromisocalendar(int(year_text), int(week_text), 1)
        except ValueError as exc:
            raise ValueError(f"not an ISO week like 2026-W47: {week!r}") from exc
        return cls.between_dates(monday, monday + timedelta(days=6), tz)

    def previous(self) -> Window:
        """The window of the same length that ends where this one starts."""
        return Window(self.start - (self.end - self.start), self.start)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def elapsed_days(self, now: datetime) -> float:
        """Days of the window that have passed by ``now`` (0 when it has not begun)."""
        until = min(self.end, as_utc(now))
        return max(0.0, (until - self.start).total_seconds() / 86400)

    def local_days(self, tz: str) -> Iterator[tuple[date, datetime, datetime]]:
        """(local date, UTC start, UTC end) of each local day overlapping the window,
        clipped to the window."""
        zone = ZoneInfo(tz)
        day = self.start.astimezone(zone).date()
        while True:
            begin = max(local_midnight(day, tz), self.start)
            if begin >= self.end:
                return
            end = min(local_midnight(day + timedelta(days=1), tz), self.end)
            yield day, begin, end
            day += timedelta(days=1)

    def contains(self, instant: datetime) -> bool:
        return self.start <= as_utc(instant) < self.end


@dataclass(frozen=True)
class Filters:
    """Order attributes to restrict every number to; None means "all".

    A value is one string, or a tuple of strings meaning any of them.
    """

    production_line: str | tuple[str, ...] | None = None
    customer: str | tuple[str, ...] | None = None
    channel: str | tuple[str, ...] | None = None
    product_line: str | tuple[str, ...] | None = None
    owner: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            elif value == "":
                object.__setattr__(self, f.name, None)

    def active(self) -> dict[str, str | tuple[str, ...]]:
        """The filters that restrict something, as {orders column: value}."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def __bool__(self) -> bool:
        return bool(self.active())

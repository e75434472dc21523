"""The demo factory's model: one simulation for the seeded history and the live feed.

Each order's whole life is drawn the moment it is placed (``datasource.demo.lives``);
nothing is cut at "now". ``datasource.demo.records`` turns the part of those lives that
falls in a time window into records: the history is the window up to its end, the live
feed the windows after it, step by step. So the feed replays the very lives the history
began (an order open at the end of the history moves on exactly as drawn) and new orders
come from the same draws at the same rates.

Orders arrive as a Poisson process whose intensity follows office hours and weekdays
(local time of the pipeline's zone). The history places exactly ``n_orders`` in its
window, which is that process conditioned on its count; after the window, each local day
is drawn on its own (``DemoModel.day_after``) with a generator seeded by (seed, day), so
the feed needs nothing but the model's parameters to continue, even after a restart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from datasource.demo import world
from datasource.demo.lives import DAY_US, HOUR_US, Lifecycles, simulate
from datasource.pipeline import Pipeline

FEED_STREAM = 1  # second word of the seed of the days after the history

# Orders come in office hours, less on weekends (local time of the pipeline's zone).
HOUR_WEIGHT = np.array([1, 1, 1, 1, 1, 2, 3, 6, 12, 16, 16, 14, 9, 12, 15, 15, 13, 10, 7, 6, 5, 4, 3, 2], float)
WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3])  # Monday first


# -- arrivals ---------------------------------------------------------------------------


def arrival_weight(local_hour_index: np.ndarray) -> np.ndarray:
    """Relative arrival intensity in each local hour (hours since 1970-01-01 local)."""
    weekday = ((local_hour_index // 24) + 3) % 7  # 1970-01-01 was a Thursday
    return HOUR_WEIGHT[local_hour_index % 24] * WEEKDAY_WEIGHT[weekday]


def arrival_mass(lo_us: int, hi_us: int, offset_us: int) -> float:
    """The integral of ``arrival_weight`` over [lo, hi), in weight x hours: the expected
    arrivals of the interval are proportional to it."""
    if hi_us <= lo_us:
        return 0.0
    lo, hi = lo_us + offset_us, hi_us + offset_us
    hours = np.arange(lo // HOUR_US, (hi - 1) // HOUR_US + 1, dtype=np.int64)
    overlap = np.minimum((hours + 1) * HOUR_US, hi) - np.maximum(hours * HOUR_US, lo)
    return float((arrival_weight(hours) * overlap).sum() / HOUR_US)


def placement_times(rng: np.random.Generator, n: int, lo_us: int, hi_us: int, offset_us: int) -> np.ndarray:
    """n sorted placement times in [lo, hi] (microseconds since the epoch), by rejection
    against the weekly profile."""
    out: list[np.ndarray] = []
    have = 0
    top = HOUR_WEIGHT.max() * WEEKDAY_WEIGHT.max()
    while have < n:
        t = rng.integers(lo_us, hi_us, max(3 * (n - have), 64), endpoint=True)
        keep = rng.random(t.shape[0]) * top < arrival_weight((t + offset_us) // HOUR_US)
        out.append(t[keep])
        have += int(keep.sum())
    return np.sort(np.concatenate(out)[:n]) if out else np.zeros(0, np.int64)


def order_numbers(placed: np.ndarray, offset_us: int, first_seq: dict[int, int] | None = None) -> list[str]:
    """SO + local date (yymmdd) + five-digit sequence of the day, in placement order;
    ``first_seq`` gives a day's first sequence number when it is not 1."""
    day = (placed + offset_us) // DAY_US
    days, first = np.unique(day, return_index=True)
    first_of = dict(zip(days.tolist(), first.tolist()))
    start = first_seq or {}
    return [
        f"{day_prefix(d)}{i - first_of[d] + start.get(d, 1):05d}" for i, d in enumerate(day.tolist())
    ]


def day_prefix(day: int) -> str:
    return world.ORDER_PREFIX + (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%y%m%d")


# -- the model's parameters -------------------------------------------------------------


@dataclass(frozen=True)
class DemoModel:
    """Everything that decides the demo factory: seed, history size and window, pipeline.

    ``history()`` is the lives of the ``n_orders`` placed in [start, end]; ``day_after(d)``
    the lives of the orders placed on local day ``d`` after ``end``, at the history's rate.
    """

    seed: int
    n_orders: int
    start: datetime
    end: datetime
    pipeline: Pipeline

    @cached_property
    def offset_us(self) -> int:
        """The zone's UTC offset at the end of the history (the factory keeps one clock)."""
        offset = ZoneInfo(self.pipeline.timezone).utcoffset(self.end.replace(tzinfo=None))
        assert offset is not None  # a ZoneInfo always knows its offset
        return int(offset.total_seconds()) * 1_000_000

    @property
    def start_us(self) -> int:
        return to_us(self.start)

    @property
    def end_us(self) -> int:
        return to_us(self.end)

    @cached_property
    def arrivals_per_weight_hour(self) -> float:
        """The arrival intensity per unit of ``arrival_weight``: the history's count over
        its window's mass, so the days after it run at the history's rate."""
        mass = arrival_mass(self.start_us, self.end_us + 1, self.offset_us)
        return self.n_orders / mass if mass > 0 else 0.0

    def history(self) -> Lifecycles:
        rng = np.random.default_rng(self.seed)
        placed = placement_times(rng, self.n_orders, self.start_us, self.end_us, self.offset_us)
        numbers = order_numbers(placed, self.offset_us)
        return simulate(rng, placed, numbers, self.offset_us, self.pipeline)

    def local_day(self, us: int) -> int:
        """The local day (days since 1970-01-01 in the zone) of an instant."""
        return (us + self.offset_us) // DAY_US

    def day_after(self, day: int, history_placed: np.ndarray) -> Lifecycles:
        """The orders placed on local ``day`` after the history's end (``history_placed``:
        the history's placement times, to continue the day's order numbers)."""
        rng = np.random.default_rng([self.seed, FEED_STREAM, day])
        lo = max(day * DAY_US - self.offset_us, self.end_us + 1)
        hi = (day + 1) * DAY_US - self.offset_us - 1
        count = int(rng.poisson(self.arrivals_per_weight_hour * arrival_mass(lo, hi + 1, self.offset_us)))
        placed = placement_times(rng, count, lo, hi, self.offset_us) if hi >= lo else np.zeros(0, np.int64)
        already = int((((history_placed + self.offset_us) // DAY_US) == day).sum())
        numbers = order_numbers(placed, self.offset_us, {day: already + 1})
        return simulate(rng, placed, numbers, self.offset_us, self.pipeline)

    def to_json(self) -> str:
        return json.dumps({
            "seed": self.seed, "orders": self.n_orders, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "pipeline": pipeline_fingerprint(self.pipeline),
        })

    @classmethod
    def from_json(cls, text: str, pipeline: Pipeline) -> "DemoModel":
        """The model recorded by ``to_json``; ValueError when ``pipeline`` is not the one
        the history was made with (the feed would then continue another factory)."""
        data = json.loads(text)
        if data["pipeline"] != pipeline_fingerprint(pipeline):
            raise ValueError("the demo history was made with another stage pipeline")
        return cls(int(data["seed"]), int(data["orders"]), datetime.fromisoformat(data["start"]),
                   datetime.fromisoformat(data["end"]), pipeline)


def pipeline_fingerprint(pipeline: Pipeline) -> str:
    return hashlib.sha1(repr(pipeline).encode("utf-8")).hexdigest()[:16]


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware instant (exact, no float rounding)."""
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

"""Left running for three days, the demo still looks like its own history.

A store is seeded with 90 days of history, then the live feed is fast-forwarded through
72 simulated hours (its clock is a parameter). Every six hours the wall's numbers are read
with ``compute_summary`` (what the wall shows): WIP and open SLA breaches per stage, the
7-day delay rate, and at the end the orders placed on each full day. Each must lie within
the range the history's own days show (after a 30-day warm-up, while the empty factory
fills), read the same way at the same local hours, widened by ``TOLERANCE``.

The history's days are read "as of" each past instant from the seeded store's visits and
orders (``as_of``). That reading is checked to equal ``compute_summary`` at every feed
checkpoint, where both see the same store, so the ranges measure what the wall shows.
A feed that runs faster or slower than the history fails: ``test_a_runaway_feed_fails``
runs the checks on the figures the old feed reached after 20 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from datasource import queries
from datasource.demo import generate, seed_store
from datasource.demo.feed import DemoFeed
from datasource.schema import StageVisit
from metrics import frames
from metrics.summary import compute_summary
from metrics.trend import flow_counts
from metrics.window import Window

# Local midnight in Asia/Shanghai, a Friday: the three days fed are Friday to Sunday, so
# the weekday rhythm (busy weekday, quiet weekend) is part of what is checked.
END = datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)
ORDERS = 1500            # 90 days, about 17 a day (the CLI's default is 3000)
WARM_UP_DAYS = 30        # the history starts empty; its first month is not a "typical day"
SAMPLE_EVERY = timedelta(hours=6)
FEED_STEP = timedelta(minutes=20)
FEED_HOURS = 72
# How far outside the history's range a reading may fall: 10 % of the range's bound plus
# two orders (a stage holding 0-6 orders is within chance at 8), 3 points of delay rate.
TOLERANCE = {"relative": 0.10, "count": 2, "rate": 0.03}


@dataclass
class Reading:
    """What the wall shows at one instant."""

    at: datetime
    wip: dict[str, int]              # flow stage -> open orders in it
    breaches: dict[str, int]         # flow stage -> open orders over its SLA in it
    delay_rate: float | None         # late share of the last 7 days' completions

    @property
    def wip_total(self) -> int:
        return sum(self.wip.values())

    @property
    def breaches_total(self) -> int:
        return sum(self.breaches.values())


def wall_reading(engine, pipeline, now: datetime) -> Reading:
    s = compute_summary(engine, pipeline, Window(now - timedelta(days=7), now), None, now)
    rows = s.stages.set_index("code")
    return Reading(now, {c: int(rows.at[c, "wip"]) for c in rows.index},
                   {c: int(rows.at[c, "open_breaches_now"]) for c in rows.index}, s.delay.rate)


class AsOf:
    """The same figures for any past instant, from a store's visits and orders: an order
    is in a stage at t from entering it until it leaves it or is cancelled; it breaches
    when t - entered > SLA; the delay rate is the late share of the orders (not
    cancelled) completed in [t - 7 days, t). Instants are int64 microseconds, so
    hundreds of readings take a moment."""

    def __init__(self, engine, pipeline) -> None:
        v = StageVisit.__table__.c
        visits = queries.read_frame(engine, select(
            v.order_id, v.stage_code, queries.raw(v.entered_at), queries.raw(v.left_at)))
        self.orders = frames.window_orders(engine, datetime(1970, 1, 1, tzinfo=timezone.utc),
                                            datetime(2100, 1, 1, tzinfo=timezone.utc), None)
        cancelled = self.orders.set_index("id")["cancelled_at"]
        self.sla_h = {s.code: s.sla_hours for s in pipeline.flow_stages}
        self.stage = visits["stage_code"].astype(str).to_numpy()
        self.entered = _us(visits["entered_at"])
        self.until = np.minimum(_us(visits["left_at"]), _us(visits["order_id"].map(cancelled)))
        self.sla_us = visits["stage_code"].map(self.sla_h).fillna(np.inf).to_numpy() * 3.6e9
        o = self.orders
        self.completed = np.where(o["status"] == "cancelled", NEVER, _us(o["completed_at"]))
        self.late = (o["completed_at"] > o["promised_at"]).fillna(False).to_numpy()

    def reading(self, t: datetime) -> Reading:
        now = _us(pd.Series([t]))[0]
        here = (self.entered <= now) & (self.until > now)
        over = here & (now - self.entered > self.sla_us)
        done = (self.completed >= now - 7 * 24 * 3_600_000_000) & (self.completed < now)
        rate = float(self.late[done].mean()) if done.any() else None
        return Reading(t, {c: int((here & (self.stage == c)).sum()) for c in self.sla_h},
                       {c: int((over & (self.stage == c)).sum()) for c in self.sla_h}, rate)

    def placed_on(self, day_start: datetime) -> int:
        return flow_counts(self.orders, day_start, day_start + timedelta(days=1))["placed"]


NEVER = np.iinfo(np.int64).max


def _us(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 microseconds; missing ones as NEVER."""
    stamps = pd.to_datetime(values, utc=True).dt.as_unit("us")
    return np.where(stamps.isna().to_numpy(), NEVER, stamps.array.asi8)


@dataclass
class Ranges:
    """Low and high of each figure over the history's readings."""

    low: dict[str, float]
    high: dict[str, float]

    @classmethod
    def of(cls, figures: list[dict[str, float]]) -> Ranges:
        frame = pd.DataFrame(figures)
        return cls(frame.min().to_dict(), frame.max().to_dict())

    def outside(self, figures: dict[str, float]) -> list[str]:
        """The figures outside the widened range, each with its value and range."""
        out = []
        for name, value in figures.items():
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            lo, hi = self.low[name], self.high[name]
            if name.startswith("delay"):
                lo, hi = lo - TOLERANCE["rate"], hi + TOLERANCE["rate"]
            else:
                lo = lo * (1 - TOLERANCE["relative"]) - TOLERANCE["count"]
                hi = hi * (1 + TOLERANCE["relative"]) + TOLERANCE["count"]
            if not lo <= value <= hi:
                out.append(f"{name}={value:g} outside [{lo:g}, {hi:g}]")
        return out


def figures(r: Reading) -> dict[str, float]:
    """The figures checked: WIP and open breaches per stage and in total, delay rate."""
    out: dict[str, float] = {f"wip:{c}": n for c, n in r.wip.items()}
    out["wip:total"] = r.wip_total
    out.update({f"breaches:{c}": n for c, n in r.breaches.items()})
    out["breaches:total"] = r.breaches_total
    out["delay_rate"] = r.delay_rate
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Seed, read the history's days, fast-forward 72 hours; the readings of both."""
    from datasource.pipeline import default_pipeline
    from datasource.store import open_store

    pipeline = default_pipeline()
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo72') / 'demo.db'}", pipeline)
    seed_store(engine, pipeline, generate(seed=7, n_orders=ORDERS, end=END, pipeline=pipeline))
    history = AsOf(engine, pipeline)
    first = END - timedelta(days=90 - WARM_UP_DAYS)
    instants = [first + k * SAMPLE_EVERY for k in range(int((END - first) / SAMPLE_EVERY) + 1)]
    past = [history.reading(t) for t in instants]
    days = [first + timedelta(days=k) for k in range((END - first).days)]
    placed_per_day = [history.placed_on(d) for d in days]
    at_end = wall_reading(engine, pipeline, END)

    feed = DemoFeed.open(engine, pipeline)
    fed: list[Reading] = []
    now = END
    while now < END + timedelta(hours=FEED_HOURS):
        now += FEED_STEP
        feed.step(now)
        if (now - END) % SAMPLE_EVERY == timedelta(0):
            fed.append(wall_reading(engine, pipeline, now))
    after = AsOf(engine, pipeline)
    fed_days = [END + timedelta(days=k) for k in range(FEED_HOURS // 24)]
    yield {
        "past": past, "placed_per_day": placed_per_day, "at_end": at_end, "history": history,
        "fed": fed, "after": after, "fed_placed": [after.placed_on(d) for d in fed_days],
    }
    engine.dispose()


def test_the_reading_of_past_instants_is_what_the_wall_shows(run):
    """The history's ranges are read the wall's way: at the history's end and at each
    feed checkpoint, ``AsOf`` equals ``compute_summary``."""
    assert run["history"].reading(END) == run["at_end"]
    for shown in run["fed"]:
        assert run["after"].reading(shown.at) == shown


def history_ranges(run) -> Ranges:
    return Ranges.of([figures(r) for r in run["past"]]
                     + [{"placed_per_day": n} for n in run["placed_per_day"]])


def test_72_hours_of_feed_stay_within_the_history_s_days(run):
    past = history_ranges(run)
    problems = [f"{r.at:%m-%d %H:%M}Z {p}" for r in run["fed"] for p in past.outside(figures(r))]
    problems += [p for n in run["fed_placed"] for p in past.outside({"placed_per_day": n})]
    assert problems == []
    assert len(run["fed"]) == FEED_HOURS * 3600 // SAMPLE_EVERY.seconds


def test_the_feed_keeps_a_day_and_night_and_weekday_rhythm(run):
    """Orders come in office hours and less at the weekend, as in the history."""
    orders = run["after"].orders
    fed = orders.loc[orders["placed_at"] > END]
    local_hour = fed["placed_at"].dt.tz_convert("Asia/Shanghai").dt.hour
    assert ((local_hour >= 8) & (local_hour < 20)).mean() > 0.7
    friday, saturday, sunday = run["fed_placed"]
    assert friday > saturday + sunday


def test_the_feed_keeps_breaches_and_orders_in_every_stage(run):
    """What the old feed lost within minutes: orders in transit, and breaches at all."""
    assert all(r.wip["in_transit"] >= 5 for r in run["fed"])
    assert all(r.breaches_total >= 1 for r in run["fed"])


# What the previous feed (a random walk: a few orders moved every 3 seconds, 0.3 new
# orders a step) showed on this very store after 20 and 60 minutes of 3-second steps,
# read with ``wall_reading`` and ``AsOf.placed_on``: orders rushing in and through,
# transit emptying, breaches gone.
OLD_FEED = [
    {"wip:placed": 12, "wip:reviewed": 6, "wip:paid": 8, "wip:prepared": 13, "wip:produced": 5,
     "wip:inspected": 8, "wip:shipped": 7, "wip:in_transit": 3, "wip:total": 62,
     "breaches:total": 0, "delay_rate": 0.0627, "placed_per_day": 132},
    {"wip:placed": 11, "wip:reviewed": 10, "wip:paid": 10, "wip:prepared": 11, "wip:produced": 11,
     "wip:inspected": 11, "wip:shipped": 19, "wip:in_transit": 14, "wip:total": 97,
     "breaches:total": 0, "delay_rate": 0.0333, "placed_per_day": 406},
]


def test_the_old_feed_fails_these_checks(run):
    past = history_ranges(run)
    after_20_min, after_an_hour = (past.outside(f) for f in OLD_FEED)
    assert {p.split("=")[0] for p in after_20_min} == {
        "wip:placed", "wip:produced", "wip:in_transit", "breaches:total", "placed_per_day"}
    assert {p.split("=")[0] for p in after_an_hour} >= {
        "wip:placed", "wip:inspected", "wip:shipped", "wip:in_transit", "breaches:total",
        "delay_rate", "placed_per_day"}

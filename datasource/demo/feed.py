"""The live demo feed: the demo factory's life after its history, as the clock moves.

The store records the model that made its history (``datasource.demo.MODEL_KEY``) and
the instant up to which it has been fed (``FED_UNTIL_KEY``). Each ``DemoFeed.step(now)``
sends what that model says happens in (fed until, now]: the orders the history left open
move on exactly as they were drawn, and new orders arrive, wait, hit exceptions and get
them resolved by the same draws, at the same rates and with the same day/night and
weekday rhythm as the history. So a demo left running for days looks like the history's
own days, and a demo restarted after a pause catches up with the time it missed.

``now`` always comes from the caller (the scheduled job passes its clock), so a test can
fast-forward days in seconds. Records carry stable ids, so a step repeated or cut
differently stores nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from datasource.demo import DEMO_MARK, FED_UNTIL_KEY, MODEL_KEY, read_meta, write_meta
from datasource.demo.lives import Lifecycles
from datasource.demo.model import DemoModel, to_us
from datasource.demo.records import Records, records_between
from datasource.ingest import IngestResult, ingest
from datasource.pipeline import Pipeline


class FeedUnavailable(RuntimeError):
    """The store is not a demo store whose model is known: the feed writes nothing."""


class DemoFeed:
    """The demo model's future, handed to the store step by step.

    Lives are drawn once per process and dropped when nothing more happens in them: the
    history's (for the orders it left open) and one batch per local day after it.
    """

    def __init__(self, engine: Engine, model: DemoModel) -> None:
        self.engine = engine
        self.model = model
        history = model.history()
        self._history_placed = history.placed
        self._lives: list[Lifecycles] = [history]
        self._next_day = model.local_day(model.end_us)

    @classmethod
    def open(cls, engine: Engine, pipeline: Pipeline) -> "DemoFeed":
        """The feed of a demo store; ``FeedUnavailable`` for any other store, for a demo
        store made before the model was recorded, or with another pipeline."""
        with engine.connect() as conn:
            mark, recorded = read_meta(conn, DEMO_MARK), read_meta(conn, MODEL_KEY)
        if mark is None:
            raise FeedUnavailable("not a demo store: the demo feed only writes to stores "
                                  "created by `orderboard demo`")
        if recorded is None:
            raise FeedUnavailable("this demo store predates the recorded demo model; delete it "
                                  "and run `orderboard demo` again to start afresh")
        try:
            model = DemoModel.from_json(recorded, pipeline)
        except ValueError as exc:
            raise FeedUnavailable(f"{exc}; run the demo with the configuration it was made with") from None
        return cls(engine, model)

    def fed_until(self) -> datetime:
        with self.engine.connect() as conn:
            value = read_meta(conn, FED_UNTIL_KEY)
        return datetime.fromisoformat(value) if value else self.model.end

    def records(self, since: datetime, now: datetime) -> Records:
        """What happens in (since, now], in time order within each kind."""
        lo, hi = to_us(since), to_us(now)
        while self._next_day <= self.model.local_day(hi):
            self._lives.append(self.model.day_after(self._next_day, self._history_placed))
            self._next_day += 1
        self._lives = [life for life in self._lives if life.last_us > lo]
        found = Records()
        for life in self._lives:
            found.extend(records_between(life, self.model.pipeline, lo, hi))
        found.events.sort(key=lambda e: e.occurred_at)
        return found

    def step(self, now: datetime) -> IngestResult:
        """Store what happened since the last step, up to ``now`` (aware); a ``now`` not
        after the last step stores nothing."""
        since = self.fed_until()
        if now <= since:
            return IngestResult()
        found = self.records(since, now)
        result = ingest(self.engine, self.model.pipeline, found.orders, found.events,
                        found.exceptions, actor="demo-feed", target="live feed")
        with self.engine.begin() as conn:
            write_meta(conn, FED_UNTIL_KEY, now.isoformat())
        return result

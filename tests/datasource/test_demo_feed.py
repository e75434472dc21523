"""The live demo feed continues the history's model: same lives, same ids, any step size."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from datasource.demo import FED_UNTIL_KEY, generate, read_meta, seed_store
from datasource.demo.feed import DemoFeed, FeedUnavailable
from datasource.demo.model import DemoModel, to_us
from datasource.demo.records import records_between
from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.pipeline import Pipeline, default_pipeline
from datasource.schema import Order, OrderEvent, OrderException, StageVisit, StoreMeta
from metrics.summary import compute_summary
from metrics.window import Window

END = datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)  # local midnight in Shanghai


def _seeded(store, n: int = 300, seed: int = 3):
    data = generate(seed=seed, n_orders=n, end=END, pipeline=store.pipeline)
    seed_store(store.engine, store.pipeline, data)
    return data


def _content(engine) -> dict:
    """Everything the feed writes, as comparable rows (no surrogate ids, no write times)."""
    with engine.connect() as conn:
        number = dict(conn.execute(select(Order.id, Order.order_number)).all())
        return {
            "orders": sorted(conn.execute(select(
                Order.order_number, Order.status, Order.current_stage, Order.current_since,
                Order.placed_at, Order.completed_at, Order.cancelled_at, Order.promised_at,
                Order.customer, Order.quantity)).all()),
            "events": sorted(conn.execute(select(
                OrderEvent.event_uid, OrderEvent.stage_code, OrderEvent.event_type,
                OrderEvent.occurred_at, OrderEvent.operator)).all()),
            "exceptions": sorted(conn.execute(select(
                OrderException.exception_uid, OrderException.kind, OrderException.opened_at,
                OrderException.acknowledged_at, OrderException.resolved_at)).all()),
            "visits": sorted((number[r[0]],) + tuple(r[1:]) for r in conn.execute(select(
                StageVisit.order_id, StageVisit.stage_code, StageVisit.visit_no,
                StageVisit.entered_at, StageVisit.left_at))),
        }


def test_step_size_and_restarts_do_not_change_what_is_stored(tmp_path):
    """One step of a day, or hourly steps each by a freshly opened feed (a restart every
    hour): the same store, record for record."""
    from datasource.store import open_store

    pipeline = default_pipeline()
    stores = []
    for name in ("one-step", "hourly"):
        engine = open_store(f"sqlite:///{tmp_path / name}.db", pipeline)
        seed_store(engine, pipeline, generate(seed=3, n_orders=300, end=END, pipeline=pipeline))
        stores.append(engine)
    DemoFeed.open(stores[0], pipeline).step(END + timedelta(hours=24))
    for hour in range(1, 25):
        DemoFeed.open(stores[1], pipeline).step(END + timedelta(hours=hour))
    one, hourly = (_content(e) for e in stores)
    assert one == hourly
    assert len(one["events"]) > 2616  # the history's own events, then a day's more
    for e in stores:
        e.dispose()


def test_a_repeated_or_earlier_step_stores_nothing(store):
    _seeded(store)
    feed = DemoFeed.open(store.engine, store.pipeline)
    first = feed.step(END + timedelta(hours=6))
    assert first.events_added > 0
    assert not feed.step(END + timedelta(hours=6)).changed
    assert not feed.step(END + timedelta(hours=2)).changed
    assert feed.fed_until() == END + timedelta(hours=6)


def test_the_feed_sends_what_the_model_draws_after_the_history(store):
    """Exactly the model's records of (end, now]: the history's open orders move on as
    drawn, and the new orders are the model's, numbered after the day's last one."""
    data = _seeded(store)
    now = END + timedelta(hours=30)
    model = DemoModel(3, 300, data.start, data.end, store.pipeline)
    history = model.history()
    expected = records_between(history, store.pipeline, to_us(END), to_us(now))
    for day in (model.local_day(to_us(END)), model.local_day(to_us(now))):
        expected.extend(records_between(model.day_after(day, history.placed), store.pipeline,
                                        to_us(END), to_us(now)))
    result = DemoFeed.open(store.engine, store.pipeline).step(now)
    with store.engine.connect() as conn:
        stored = set(conn.execute(select(OrderEvent.event_uid).where(OrderEvent.occurred_at > END)).scalars())
        orders = conn.execute(select(func.count()).select_from(Order)).scalar_one()
    assert stored == {e.uid for e in expected.events}
    assert result.orders_created == len(expected.orders) > 0
    assert orders == 300 + len(expected.orders)  # no new number hit a stored order
    moved_on = {e.order_number for e in expected.events} & {o.order_number for o in data.orders}
    assert len(moved_on) >= 5


def test_the_feed_finishes_the_lives_the_history_began(store):
    """Six weeks on, the orders the history left open have all completed or been
    cancelled, as their drawn lives say, and no stage duration is negative."""
    data = _seeded(store)
    feed = DemoFeed.open(store.engine, store.pipeline)
    for week in range(1, 7):
        feed.step(END + timedelta(weeks=week))
    numbers = [o.order_number for o in data.orders]
    with store.engine.connect() as conn:
        still_open = conn.execute(select(func.count()).select_from(Order).where(
            Order.order_number.in_(numbers), Order.status == "open")).scalar_one()
    assert still_open == 0
    now = END + timedelta(weeks=6)
    summary = compute_summary(store.engine, store.pipeline, Window(now - timedelta(days=7), now), None, now)
    assert summary.anomalies == {}
    assert summary.wip > 0 and summary.delay.completed > 0  # new orders kept coming


def test_each_step_sends_its_events_in_time_order(store):
    _seeded(store)
    feed = DemoFeed.open(store.engine, store.pipeline)
    found = feed.records(END, END + timedelta(days=2))
    times = [e.occurred_at for e in found.events]
    assert times == sorted(times) and len(times) > 50


def test_the_same_seed_feeds_the_same_factory(tmp_path):
    from datasource.store import open_store

    pipeline = default_pipeline()
    contents = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        engine = open_store(f"sqlite:///{tmp_path / name}.db", pipeline)
        seed_store(engine, pipeline, generate(seed=seed, n_orders=200, end=END, pipeline=pipeline))
        DemoFeed.open(engine, pipeline).step(END + timedelta(hours=36))
        contents.append(_content(engine))
        engine.dispose()
    assert contents[0] == contents[1]
    assert contents[0]["events"] != contents[2]["events"]


def test_no_feed_for_a_store_the_demo_did_not_make(store):
    with pytest.raises(FeedUnavailable, match="not a demo store"):
        DemoFeed.open(store.engine, store.pipeline)
    ingest(store.engine, store.pipeline, [OrderRecord("REAL-1")],
           [EventRecord("REAL-1", "placed", "enter", END)])
    with pytest.raises(FeedUnavailable, match="not a demo store"):
        DemoFeed.open(store.engine, store.pipeline)


def test_no_feed_for_an_older_demo_store_or_another_pipeline(store):
    _seeded(store, n=50)
    other = Pipeline(store.pipeline.stages, store.pipeline.terminal, "Europe/Berlin")
    with pytest.raises(FeedUnavailable, match="another stage pipeline"):
        DemoFeed.open(store.engine, other)
    with store.engine.begin() as conn:  # a demo store made before the model was recorded
        conn.execute(StoreMeta.__table__.delete().where(StoreMeta.key == "demo_model"))
    with pytest.raises(FeedUnavailable, match="delete it"):
        DemoFeed.open(store.engine, store.pipeline)


def test_seeding_records_the_model_and_where_the_feed_starts(store):
    data = _seeded(store, n=50)
    with store.engine.connect() as conn:
        assert read_meta(conn, FED_UNTIL_KEY) == END.isoformat()
    feed = DemoFeed.open(store.engine, store.pipeline)
    assert feed.model == DemoModel(3, 50, data.start, END, store.pipeline)
    other = generate(seed=4, n_orders=50, end=END, pipeline=store.pipeline)
    with pytest.raises(ValueError, match="another demo history"):
        seed_store(store.engine, store.pipeline, other)


def test_arrival_mass_is_the_weekly_profile_integrated():
    from datasource.demo.model import DAY_US, HOUR_US, HOUR_WEIGHT, WEEKDAY_WEIGHT, arrival_mass

    monday = 4 * DAY_US  # 1970-01-05, a Monday, local midnight with offset 0
    assert arrival_mass(monday, monday + 7 * DAY_US, 0) == HOUR_WEIGHT.sum() * WEEKDAY_WEIGHT.sum()
    # 09:00-09:30 on a Saturday, and the same half hour seen from UTC+8 (01:00 UTC).
    saturday_9 = monday + 5 * DAY_US + 9 * HOUR_US
    assert arrival_mass(saturday_9, saturday_9 + HOUR_US // 2, 0) == 16 * 0.45 / 2
    eight = 8 * HOUR_US
    assert arrival_mass(saturday_9 - eight, saturday_9 - eight + HOUR_US // 2, eight) == 16 * 0.45 / 2


def test_days_after_the_history_arrive_at_its_rate():
    """Over eight weeks after the history, as many orders a week as the history had."""
    model = DemoModel(11, 1800, END - timedelta(days=90), END, default_pipeline())
    history = model.history()
    first = model.local_day(to_us(END))
    placed = sum(model.day_after(day, history.placed).placed.shape[0] for day in range(first, first + 56))
    expected = 1800 * 56 / 90
    assert abs(placed - expected) < 4 * expected ** 0.5  # Poisson: within four sigma

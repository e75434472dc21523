"""The demo factory's history: reproducible and realistic in shape (the live feed:
test_demo_feed.py, test_demo_72h.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from datasource.demo import generate, is_demo_store, seed_store
from datasource.ingest import ingest
from datasource.schema import Order, OrderException, StageVisit
from metrics.summary import compute_summary
from metrics.window import Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def history():
    return generate(seed=7, n_orders=1500, end=END)


def test_same_seed_gives_identical_records(history):
    again = generate(seed=7, n_orders=1500, end=END)
    assert again.orders == history.orders
    assert again.events == history.events
    assert again.exceptions == history.exceptions
    other = generate(seed=8, n_orders=1500, end=END)
    assert other.events != history.events


def test_window_defaults_to_90_days_before_end(history):
    placed = [e.occurred_at for e in history.events if e.stage_code == "placed" and e.event_type == "enter"]
    assert END - timedelta(days=90) <= min(placed) and max(placed) <= END
    assert all(e.occurred_at <= END and e.occurred_at.tzinfo is not None for e in history.events)
    assert history.start == END - timedelta(days=90)


def test_naive_window_is_refused():
    with pytest.raises(ValueError, match="aware"):
        generate(n_orders=10, end=datetime(2026, 11, 20))


def test_records_have_the_factory_cast(history):
    assert len(history.orders) == 1500
    assert len({o.order_number for o in history.orders}) == 1500
    assert {o.channel for o in history.orders} == {"direct", "distributor", "online"}
    assert {o.production_line for o in history.orders} == {"Line A", "Line B", None}
    assert all(o.production_line is None for o in history.orders if o.channel == "online")
    assert len({o.customer for o in history.orders}) >= 10
    assert len({o.owner for o in history.orders}) >= 6
    assert all(e.operator for e in history.events)
    lead_days = [(o.promised_at - END).days for o in history.orders[-50:]]
    assert min(lead_days) >= 0 and max(lead_days) <= 40


def test_online_orders_skip_production(history):
    online = {o.order_number for o in history.orders if o.channel == "online"}
    produced = {e.order_number for e in history.events if e.stage_code in ("produced", "inspected")}
    assert online and not (online & produced)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, history):
    from datasource.pipeline import default_pipeline
    from datasource.store import open_store

    pipeline = default_pipeline()
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}", pipeline)
    seed_store(engine, pipeline, history)
    yield engine, pipeline
    engine.dispose()


def test_history_has_a_realistic_shape(seeded):
    engine, _ = seeded
    with engine.connect() as conn:
        status = dict(conn.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        completed = conn.execute(select(Order.completed_at, Order.promised_at)
                                 .where(Order.status == "completed")).all()
        reworked = conn.execute(select(func.count(func.distinct(StageVisit.order_id)))
                                .where(StageVisit.is_rework)).scalar_one()
        kinds = Counter(conn.execute(select(OrderException.kind)).scalars())
        still_open = conn.execute(select(func.count()).select_from(OrderException)
                                  .where(OrderException.resolved_at.is_(None))).scalar_one()
    late = sum(c > p for c, p in completed) / len(completed)
    assert 0.10 <= late <= 0.20
    assert 0.03 <= reworked / 1500 <= 0.08
    assert 0.01 <= status["cancelled"] / 1500 <= 0.035
    assert set(kinds) == {"shortage", "quality_failure", "logistics_delay", "payment_overdue",
                          "customer_change"}
    assert still_open >= 1
    pipeline = seeded[1]
    summary = compute_summary(engine, pipeline, Window.last_days(7, END, pipeline.timezone), None, END)
    assert sum(summary.stages["wip"]) == summary.wip and 0 < summary.wip <= status["open"]
    assert (summary.stages["wip"] > 0).sum() >= 5


def test_some_open_orders_are_stuck_beyond_sla(seeded):
    engine, pipeline = seeded
    summary = compute_summary(engine, pipeline, Window.last_days(7, END, pipeline.timezone), None, END)
    assert summary.stages["open_breaches_now"].sum() >= 3


def test_seeding_twice_changes_nothing(seeded, history):
    engine, pipeline = seeded
    again = seed_store(engine, pipeline, history)
    assert not again.changed
    assert again.events_duplicate == len(history.events)


def test_non_demo_store_is_not_marked(store):
    ingest(store.engine, store.pipeline, [], [])
    assert not is_demo_store(store.engine)

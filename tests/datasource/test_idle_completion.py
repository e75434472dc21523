"""Logs without a terminal activity: cases complete at their last event once idle longer
than the pipeline's complete_after_idle_days, as time passes (the scheduled job)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from datasource.ingest import EventRecord, complete_idle_orders, ingest
from datasource.pipeline import Pipeline, default_pipeline
from datasource.schema import Order, StageVisit
from datasource.settings import Settings
from datasource.store import upgrade_store, utcnow
from orderboard.jobs import registered_jobs

IDLE = Pipeline(default_pipeline().stages, None, "UTC", complete_after_idle_days=30)


def state(engine, number):
    with engine.connect() as conn:
        order = conn.execute(select(Order.status, Order.completed_at)
                             .where(Order.order_number == number)).one()
        visits = conn.execute(select(StageVisit.stage_code, StageVisit.left_at, StageVisit.duration_s)
                              .join(Order, Order.id == StageVisit.order_id)
                              .where(Order.order_number == number)
                              .order_by(StageVisit.entered_at)).all()
    return tuple(order), [tuple(v) for v in visits]


def test_cases_complete_when_they_have_been_idle_long_enough(store):
    upgrade_store(store.engine, IDLE)
    now = utcnow()
    t = now - timedelta(days=20)
    ingest(store.engine, IDLE, events=[
        EventRecord("old", "placed", "enter", now - timedelta(days=50)),
        EventRecord("old", "paid", "enter", now - timedelta(days=45)),
        EventRecord("recent", "placed", "enter", t),
        EventRecord("recent", "paid", "enter", t + timedelta(hours=3)),
    ])
    # On ingest: "old" has been idle 45 days > 30: completed at its last event.
    (status, completed), visits = state(store.engine, "old")
    assert (status, completed) == ("completed", now - timedelta(days=45))
    assert visits[-1] == ("paid", now - timedelta(days=45), None)  # the end point
    assert state(store.engine, "recent")[0] == ("open", None)
    # Nothing new happens; 9 days later it is still within 30 days...
    assert complete_idle_orders(store.engine, IDLE, now + timedelta(days=9)) == 0
    assert state(store.engine, "recent")[0] == ("open", None)
    # ... and 11 days later it has been idle 30 days and 21 hours: completed.
    assert complete_idle_orders(store.engine, IDLE, now + timedelta(days=11)) == 1
    (status, completed), visits = state(store.engine, "recent")
    assert (status, completed) == ("completed", t + timedelta(hours=3))
    assert visits == [("placed", t + timedelta(hours=3), 3 * 3600.0),
                      ("paid", t + timedelta(hours=3), None)]
    # A new event on a completed case reopens it (its events decide).
    ingest(store.engine, IDLE, events=[EventRecord("old", "shipped", "enter", now)])
    assert state(store.engine, "old")[0] == ("open", None)


def test_the_job_runs_only_where_the_rule_is_configured(sqlite_store):
    plain = Settings(database_url=sqlite_store.url)
    assert "idle-completion" not in [j.id for j in registered_jobs(plain, sqlite_store.engine)]
    idle = Settings(database_url=sqlite_store.url, pipeline=IDLE)
    assert "idle-completion" in [j.id for j in registered_jobs(idle, sqlite_store.engine)]

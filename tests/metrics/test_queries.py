"""datasource.queries: the frames, their time zone, filters, and index use."""

from __future__ import annotations

import pytest
from metrics_fixture import NOW, PIPELINE, WINDOW, load
from sqlalchemy import text

from datasource import queries
from metrics import frames, populations


@pytest.fixture
def loaded(store):
    load(store.engine)
    return store


def _numbers(engine, ids) -> list[str]:
    frame = queries.orders_by_ids(engine, list(ids))
    return sorted(frame["order_number"])


def test_window_orders_holds_everything_that_matters(loaded):
    frame = frames.window_orders(loaded.engine, WINDOW.start, WINDOW.end, None)
    # every order but L (completed at -10, before the window, never in WIP during it)
    assert _numbers(loaded.engine, frame["id"]) == list("ABCDEFGHIJKMNP")
    for column in ("current_since", "placed_at", "completed_at", "cancelled_at", "promised_at"):
        assert str(frame[column].dtype) == "datetime64[us, UTC]"
    acme = frames.window_orders(loaded.engine, WINDOW.start, WINDOW.end, {"customer": "acme"})
    assert _numbers(loaded.engine, acme["id"]) == list("ABCDE")


def test_visit_and_exception_frames(loaded):
    e = loaded.engine
    ended = frames.visits_ended(e, WINDOW.start, WINDOW.end, ["pick"], None)
    assert sorted(ended["duration_s"] / 3600) == [1, 4, 4, 4, 9, 14, 15, 18, 20, 50]
    assert ended["is_rework"].dtype == bool and ended["is_rework"].sum() == 1
    late = frames.late_order_visits(e, WINDOW.start, WINDOW.end, None)
    assert sorted(set(_numbers(e, late["order_id"]))) == ["B", "C", "F"]
    opened = frames.exceptions_opened(e, WINDOW.start, WINDOW.end, {"customer": ("acme",)})
    assert sorted(opened["kind"]) == ["shortage", "shortage"]
    assert frames.count_open_exceptions(e, NOW, None) == 3
    assert frames.count_placed(e, WINDOW.start, NOW, {"customer": "zenith"}) == 8


def test_unknown_filter_is_refused(loaded):
    with pytest.raises(ValueError, match="unknown filter"):
        frames.window_orders(loaded.engine, WINDOW.start, WINDOW.end, {"price": "1"})


def _plan(engine, stmt) -> str:
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        return "\n".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_summary_queries_use_indexes_on_sqlite(sqlite_store):
    """The statements of the summary reach their rows through indexes (no full scan of
    orders or stage_visits), which is what keeps them fast on a million orders."""
    e = sqlite_store.engine
    load(e)
    from sqlalchemy import select

    o, v = queries.orders.c, queries.visits.c
    branches = _plan(e, frames.window_order_ids(WINDOW.start, WINDOW.end))
    for index in ("ix_orders_status_", "ix_orders_cancelled_at", "ix_orders_completed_at",
                  "ix_orders_placed_at"):
        assert index in branches
    assert "SCAN orders\n" not in branches + "\n" and "SCAN stage_visits" not in branches
    visits = select(v.stage_code, v.duration_s).where(
        v.stage_code.in_(list(PIPELINE.codes)), v.left_at >= WINDOW.start, v.left_at < WINDOW.end)
    assert "ix_visits_stage_left" in _plan(e, visits)
    completed = select(o.id).where(*populations.completed_conditions(WINDOW.start, WINDOW.end))
    assert "ix_orders_completed_at" in _plan(e, completed)


# sqlite_stat1 of the 1,000,000-order store of bench/bench_metrics.py, as ANALYZE wrote it:
# averages over every order, where "open" is one status of three (really 1.5 % of the orders)
# and an open visit looks like any other visit.
MILLION_ORDER_STATS = {
    "ix_orders_status_stage": "1000000 333334 71429", "ix_orders_cancelled_at": "1000000 51",
    "ix_orders_promised_at": "1000000 2584", "ix_orders_completed_at": "1000000 1",
    "ix_orders_placed_at": "1000000 1", "ix_orders_status_placed": "1000000 333334 1",
    "sqlite_autoindex_orders_1": "1000000 1",
    "ix_visits_order": "8440562 9", "ix_visits_stage_left": "8440562 844057 1 1 1", "ix_visits_open": "35240 1 1",
}


def test_open_order_statements_search_by_status_under_a_million_orders_statistics(sqlite_store):
    """With the planner statistics of a million orders, the open orders (WIP, overdue)
    are read as one range of ``ix_orders_status_placed`` rather than through placed_at or
    promised_at alone (nearly every order), and the operators at the current stages from
    the open visits' own index."""
    from datetime import timedelta

    from metrics.alert_rules import current_operators
    from metrics.stages import flow_codes

    e = sqlite_store.engine
    load(e)
    with e.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
        for index, stat in MILLION_ORDER_STATS.items():
            conn.execute(text("UPDATE sqlite_stat1 SET stat = :s WHERE idx = :i"), {"s": stat, "i": index})
    e.dispose()  # the statistics are read when a connection opens
    sla = {s.code: s.sla_hours * 3600 for s in PIPELINE.stages}
    for what in ("wip", "overdue_now"):
        stmt = populations.drill_statement(what, start=NOW, end=NOW + timedelta(seconds=1), now=NOW, filters={},
                                           flow_codes=flow_codes(PIPELINE), sla_seconds=sla, today_start=NOW)
        assert "ix_orders_status_placed (status=? AND placed_at<?)" in _plan(e, stmt), what
    with e.connect() as conn:  # the open visits' operators: their own index, as current_operators reads them
        plans = [str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + _sql(e, current_operators, list(range(1, 51)))))]
    assert plans == ["SEARCH stage_visits USING INDEX ix_visits_open (order_id=? AND operator>?)"]


def _sql(engine, function, *args) -> str:
    """The SQL ``function(engine, *args)`` sends (its first statement), values inlined as 1."""
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.replace("?", "1"))

    event.listen(engine, "before_cursor_execute", record)
    try:
        function(engine, *args)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent[0]

"""The bulk insert path stores exactly what SQLAlchemy's own ``insert`` stores."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import StatementError

from datasource.bulk import insert_rows
from datasource.schema import Order, StageVisit

SHANGHAI = timezone(timedelta(hours=8))
PLACED = datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=SHANGHAI)  # 01:30:15.000250 UTC
NOW = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)


def _order(number: str, **extra) -> dict:
    return {"order_number": number, "customer": "C1", "quantity": 3, "amount": 12.5,
            "placed_at": PLACED, "promised_at": None, "updated_at": NOW, **extra}


def _raw_orders(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(
        "select customer, quantity, amount, placed_at, promised_at, updated_at, status, "
        "cancelled_flag from orders order by order_number"))]


def test_rows_are_stored_as_sqlalchemy_insert_stores_them(store):
    with store.engine.begin() as conn:
        conn.execute(insert(Order), [_order("BY-ORM")])
        insert_rows(conn, Order.__table__, [_order("BY-BULK")])
        by_orm, by_bulk = _raw_orders(conn)
        assert by_bulk == by_orm
        # Read back through the model: aware UTC, the same instant that went in.
        placed = conn.execute(select(Order.placed_at).where(Order.order_number == "BY-BULK")).scalar_one()
    assert placed == PLACED and placed.tzinfo == timezone.utc
    assert placed.hour == 1 and placed.microsecond == 250


def test_left_out_columns_get_their_defaults_or_null(store):
    with store.engine.begin() as conn:
        insert_rows(conn, Order.__table__, [{"order_number": "A"}, {"order_number": "B"}])
        rows = conn.execute(select(Order.status, Order.cancelled_flag, Order.customer)).all()
    assert rows == [("open", False, None), ("open", False, None)]


def test_naive_datetimes_are_refused_and_nothing_is_written(store):
    # SQLAlchemy wraps the type's ValueError in a StatementError; the message is the same.
    with pytest.raises((ValueError, StatementError), match="naive datetime"), store.engine.begin() as conn:
        insert_rows(conn, Order.__table__, [_order("A"), _order("B", placed_at=datetime(2026, 3, 1))])
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from orders")).scalar_one() == 0


def test_shared_instants_and_booleans(store):
    """One datetime object in many rows and columns (the memo) stays correct per row."""
    with store.engine.begin() as conn:
        insert_rows(conn, Order.__table__, [_order("A")])
        order_id = conn.execute(select(Order.id)).scalar_one()
        start = PLACED
        middle = PLACED + timedelta(hours=5)
        insert_rows(conn, StageVisit.__table__, [
            {"order_id": order_id, "stage_code": "placed", "visit_no": 1, "is_rework": False,
             "entered_at": start, "left_at": middle, "duration_s": 18000.0, "operator": None},
            {"order_id": order_id, "stage_code": "reviewed", "visit_no": 1, "is_rework": True,
             "entered_at": middle, "left_at": None, "duration_s": None, "operator": "x"},
        ])
        rows = conn.execute(select(StageVisit.stage_code, StageVisit.is_rework,
                                   StageVisit.entered_at, StageVisit.left_at)
                            .order_by(StageVisit.id)).all()
    assert rows == [("placed", False, start, middle), ("reviewed", True, middle, None)]


def test_no_rows_is_a_no_op(store):
    with store.engine.begin() as conn:
        insert_rows(conn, Order.__table__, [])
        assert conn.execute(text("select count(*) from orders")).scalar_one() == 0


def test_columns_written_at_once_are_stored_as_sqlalchemy_insert_stores_them(store):
    """``write_columns``: values in stored form, a ``Same`` for a column of one value
    (written into the SQLite statement: quotes and all), defaults for those left out."""
    from datasource.bulk import ROWS_PER_INSERT, Same, sqlite_instant, write_columns

    rows = 2 * ROWS_PER_INSERT + 3  # whole statements of many rows, and the rest
    numbers = [f"BY-COLUMNS-{i:04d}" for i in range(rows)]
    with store.engine.begin() as conn:
        conn.execute(insert(Order), [_order(f"BY-ORM-{i:04d}", customer="O'Brien; --", source=None)
                                     for i in range(rows)])
        write_columns(conn, Order.__table__, {
            "order_number": numbers, "customer": Same("O'Brien; --"), "quantity": [3] * rows,
            "amount": Same(12.5), "placed_at": [sqlite_instant(PLACED)] * rows,
            "promised_at": Same(None), "updated_at": Same(sqlite_instant(NOW)), "source": Same(None),
        }, rows)
        stored = _raw_orders(conn)
        sources = conn.execute(text("select count(*) from orders where source is null")).scalar_one()
    assert stored[:rows] == stored[rows:]  # BY-COLUMNS-... sort before BY-ORM-...
    assert stored[0][0] == "O'Brien; --" and sources == 2 * rows
    with store.engine.begin() as conn:
        write_columns(conn, StageVisit.__table__, {
            "order_id": [1, 1], "stage_code": ["placed", "paid"], "entered_at": Same(sqlite_instant(NOW)),
        }, 2)
        visits = conn.execute(text("select stage_code, visit_no, is_rework, left_at from stage_visits "
                                   "order by stage_code")).all()
    assert [tuple(v) for v in visits] == [("paid", 1, False, None), ("placed", 1, False, None)]


def test_indexes_rebuilt_in_the_same_transaction_with_the_cache_given_back(store):
    """``secondary_indexes_rebuilt``: on SQLite the tables' indexes (unique ones too) are
    gone while rows are written, back at the end with a larger page cache for the
    builds, and the connection's own cache after; a duplicate of a unique id written
    meanwhile is refused when its index is built again, and the rollback restores it."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from datasource.bulk import INDEX_BUILD_CACHE_KIB, secondary_indexes_rebuilt
    from datasource.schema import OrderEvent

    def names(conn) -> set[str]:
        return {i["name"] for i in inspect(conn).get_indexes("order_events")}

    sqlite = store.backend == "sqlite"
    with store.engine.begin() as conn:
        wanted = names(conn)
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one() if sqlite else None
        seen = []
        with secondary_indexes_rebuilt(conn, [OrderEvent.__table__]):
            seen.append(names(conn))
        assert names(conn) == wanted and "ux_events_uid" in wanted
        if sqlite:
            assert seen == [set()]
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == cache
    assert INDEX_BUILD_CACHE_KIB >= 64 * 1024
    if not sqlite:
        assert seen == [wanted]  # PostgreSQL keeps its indexes
        return
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(Order), [_order("DUP")])
        with secondary_indexes_rebuilt(conn, [OrderEvent.__table__]):
            for _ in range(2):
                conn.execute(text("INSERT INTO order_events (event_uid, order_id, event_type, occurred_at) "
                                  "SELECT 'same', id, 'enter', '2026-03-01 00:00:00.000000' FROM orders"))
    with store.engine.connect() as conn:
        assert names(conn) == wanted
        assert conn.execute(text("select count(*) from order_events")).scalar_one() == 0

"""The store's column limits, read from the schema: what an import checks each value
against when the mapping and rows are read, so a value that does not fit is one clear
line (a setup error or a rejected row), the same on SQLite (which would store it) and
PostgreSQL (which would fail the whole batch)."""

from __future__ import annotations

from datasource.schema import Order, OrderEvent


def _length(column) -> int:
    return int(column.type.length)


ORDER_NUMBER_LIMIT = _length(Order.__table__.c.order_number)
TEXT_LIMITS = {
    name: _length(Order.__table__.c[name])
    for name in ("customer", "channel", "production_line", "product_line", "owner", "priority")
}
OPERATOR_LIMIT = _length(OrderEvent.__table__.c.operator)
EVENT_ID_LIMIT = _length(OrderEvent.__table__.c.event_uid)
SOURCE_LIMIT = min(_length(Order.__table__.c.source), _length(OrderEvent.__table__.c.source))

"""The changes later imports made to stored orders (``orderboard history``).

Each row of ``order_changes``: an order's field, its value before and after, the source
file and line that said so, and when it was recorded. Instants are shown in the given
zone; a promised date (stored as the end of its day) as that day.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from datasource.schema import Order, OrderChange

INSTANT_FIELDS = ("promised_at",)


def change_rows(engine: Engine, number: str | None = None, limit: int | None = None) -> list[dict]:
    """The recorded changes (of one order, or all), newest first: ``order_number, field,
    old_value, new_value, source, line, changed_at``."""
    c = OrderChange
    stmt = (select(Order.order_number, c.field, c.old_value, c.new_value, c.source, c.line,
                   c.changed_at)
            .join(Order, Order.id == c.order_id)
            .order_by(c.changed_at.desc(), c.id.desc()))
    if number is not None:
        stmt = stmt.where(Order.order_number == number)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def change_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(OrderChange)).scalar_one())


def shown_value(field: str, value: str | None, zone: ZoneInfo) -> str:
    """A stored change value for people: local time for instants (a promised end of day
    as its date), ``—`` for empty."""
    if value is None or value == "":
        return "—"
    if field in INSTANT_FIELDS or field.startswith("enter:"):
        try:
            local = datetime.fromisoformat(value).astimezone(zone)
        except ValueError:
            return value
        if field == "promised_at" and (local.hour, local.minute, local.second) == (0, 0, 0):
            return (local - timedelta(days=1)).date().isoformat()
        return local.strftime("%Y-%m-%d %H:%M")
    return value


def render_history(engine: Engine, zone: ZoneInfo, number: str | None = None,
                   as_json: bool = False, limit: int | None = None) -> str:
    """The text ``orderboard history`` prints: one line per change, newest first,
    ``<recorded at>  <order>  <field>: <old> -> <new>  (<source> line <n>)``; JSON: the
    rows with times in ISO 8601 UTC."""
    rows = change_rows(engine, number, limit)
    if as_json:
        return json.dumps([{**r, "changed_at": r["changed_at"].isoformat()} for r in rows],
                          ensure_ascii=False, indent=2)
    if not rows:
        return f"no recorded changes of order {number}" if number else "no recorded changes"
    lines = [
        f"{r['changed_at'].astimezone(zone):%Y-%m-%d %H:%M}  {r['order_number']}  {r['field']}: "
        f"{shown_value(r['field'], r['old_value'], zone)} -> {shown_value(r['field'], r['new_value'], zone)}"
        f"  ({r['source'] or '?'} line {r['line'] if r['line'] is not None else '?'})"
        for r in rows
    ]
    lines.append(f"{len(rows)} changes")
    return "\n".join(lines)

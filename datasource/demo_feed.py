"""The live demo feed: every call moves a few open orders on and places a few new ones.

``advance`` is what the scheduled demo job runs every few seconds. It reads a small
sample of open orders, writes their next stage's ``enter`` event at ``now``, places new
orders, and now and then opens, acknowledges or resolves an exception or cancels an order,
all in one small ``ingest`` transaction. Event ids derive from what happened and when,
so re-sending a step's events is harmless, and an order that already moved at ``now``
is not moved again by a repeated step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, func, select

from datasource import demo_world as world
from datasource.ingest import EventRecord, ExceptionRecord, IngestResult, OrderRecord, ingest
from datasource.pipeline import Pipeline
from datasource.schema import Order, OrderException

MOVES_PER_STEP = (1, 5)      # uniform, upper bound excluded
NEW_ORDERS_PER_STEP = 0.3    # Poisson mean; about the rate at which orders complete
REWORK_CHANCE = 0.06         # an inspection fails and the order goes back to production
OPEN_EXCEPTION_CHANCE = 0.15
ACKNOWLEDGE_CHANCE = 0.3
CANCEL_CHANCE = 0.01


def advance(engine: Engine, pipeline: Pipeline, now: datetime, rng: np.random.Generator) -> IngestResult:
    """One step of the live feed at ``now`` (aware UTC); returns what ``ingest`` stored."""
    with engine.connect() as conn:
        open_ids = conn.execute(
            # Orders that entered their stage at or after ``now`` stay put: a repeated step
            # never moves an order twice at one instant.
            select(Order.id).where(Order.status == "open", Order.current_since < now)
            .order_by(Order.id)
        ).scalars().all()
    chosen: list[int] = []
    if open_ids:
        k = min(len(open_ids), int(rng.integers(*MOVES_PER_STEP)))
        chosen = sorted(int(i) for i in rng.choice(open_ids, size=k, replace=False))
    events: list[EventRecord] = []
    exceptions: list[ExceptionRecord] = []
    with engine.connect() as conn:
        moving = conn.execute(
            select(Order.id, Order.order_number, Order.channel, Order.current_stage)
            .where(Order.id.in_(chosen)).order_by(Order.id)
        ).all()
        unresolved = _unresolved_exceptions(conn, [r.id for r in moving])
        for row in moving:
            _move(pipeline, row, now, rng, unresolved.get(row.order_number, []), events, exceptions)
        orders = _new_orders(conn, pipeline, now, rng, events)
        _now_and_then(conn, pipeline, now, rng, open_ids, set(chosen), events, exceptions)
    return ingest(engine, pipeline, orders, events, exceptions, actor="demo-feed", target="live feed")


def _move(pipeline, row, now, rng, unresolved, events, exceptions) -> None:
    path = world.order_path(pipeline, online=row.channel == "online")
    current = row.current_stage
    if current not in path or current == pipeline.terminal:
        return
    number = row.order_number
    for x in unresolved:  # leaving the stage settles its exceptions
        if x.stage_code == current:
            exceptions.append(_settled(x, now))
            events.append(EventRecord(number, current, "resolve", now, x.owner, x.note))
    if current == world.REWORK_FROM and world.REWORK_TO in path and rng.random() < REWORK_CHANCE:
        nxt = world.REWORK_TO
        owner = str(rng.choice(world.operators_for(pipeline, current)))
        note = world.EXCEPTION_NOTES[world.QUALITY_FAILURE]
        exceptions.append(ExceptionRecord(
            f"live:{number}:{world.QUALITY_FAILURE}:{now.isoformat()}", number, current,
            world.QUALITY_FAILURE, now, severity="high", owner=owner, note=note))
        events.append(EventRecord(number, current, "exception", now, owner, note))
    else:
        nxt = path[path.index(current) + 1]
    operator = str(rng.choice(world.operators_for(pipeline, nxt)))
    events.append(EventRecord(number, nxt, "enter", now, operator))


def _settled(x, now: datetime) -> ExceptionRecord:
    return ExceptionRecord(
        x.exception_uid, x.order_number, x.stage_code, x.kind, x.opened_at,
        acknowledged_at=x.acknowledged_at or now, resolved_at=now, owner=x.owner, note=x.note,
    )


def _unresolved_exceptions(conn, order_ids: list[int]) -> dict[str, list]:
    if not order_ids:
        return {}
    rows = conn.execute(
        select(OrderException.exception_uid, Order.order_number, OrderException.stage_code,
               OrderException.kind, OrderException.opened_at, OrderException.acknowledged_at,
               OrderException.owner, OrderException.note)
        .join(Order, Order.id == OrderException.order_id)
        .where(OrderException.order_id.in_(order_ids), OrderException.resolved_at.is_(None))
        .order_by(OrderException.id)
    ).all()
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(r.order_number, []).append(r)
    return out


def _new_orders(conn, pipeline: Pipeline, now: datetime, rng, events: list[EventRecord]) -> list[OrderRecord]:
    count = int(rng.poisson(NEW_ORDERS_PER_STEP))
    if count == 0:
        return []
    tz = ZoneInfo(pipeline.timezone)
    local = now.astimezone(tz)
    prefix = world.ORDER_PREFIX + local.strftime("%y%m%d")
    last = conn.execute(
        select(func.max(Order.order_number)).where(
            Order.order_number.like(prefix + "%"), func.length(Order.order_number) == len(prefix) + 5)
    ).scalar()
    first_seq = int(last[len(prefix):]) + 1 if last else 1
    attrs = world.sample_attributes(rng, count)
    expected = np.array([_expected_hours(pipeline, bool(o)) for o in attrs["online"]])
    lead = world.promise_lead_days(rng, expected, attrs["priority"])
    end_of_today = local.replace(hour=23, minute=59, second=59, microsecond=0)
    orders = []
    for k in range(count):
        c = world.CUSTOMERS[int(attrs["customer"][k])]
        p = int(attrs["product"][k])
        number = f"{prefix}{first_seq + k:05d}"
        orders.append(OrderRecord(
            order_number=number, customer=c.name, channel=c.channel,
            production_line=world.production_line_of(p, bool(attrs["online"][k])),
            product_line=list(world.PRODUCTS)[p], owner=c.owner,
            quantity=int(attrs["quantity"][k]), amount=float(attrs["amount"][k]),
            priority=world.PRIORITIES[int(attrs["priority"][k])],
            promised_at=end_of_today + timedelta(days=int(lead[k])), source="demo",
        ))
        first = pipeline.first.code
        events.append(EventRecord(number, first, "enter", now,
                                  str(rng.choice(world.operators_for(pipeline, first)))))
    return orders


def _expected_hours(pipeline: Pipeline, online: bool) -> float:
    path = world.order_path(pipeline, online)[:-1]
    return sum(m * float(np.exp(s * s / 2)) for m, s in (world.stage_hours(pipeline, c, online) for c in path))


def _now_and_then(conn, pipeline, now, rng, open_ids, moved, events, exceptions) -> None:
    """Occasionally: a new exception on a waiting order, an acknowledgement, a cancellation."""
    waiting = [i for i in open_ids if i not in moved]
    if waiting and rng.random() < OPEN_EXCEPTION_CHANCE:
        oid = int(rng.choice(waiting))
        row = conn.execute(select(Order.order_number, Order.current_stage, Order.channel)
                           .where(Order.id == oid)).one()
        kind = world.STAGE_EXCEPTION.get(row.current_stage or "")
        if kind and not (kind == "payment_overdue" and row.channel == "online"):
            owner = str(rng.choice(world.operators_for(pipeline, row.current_stage)))
            severities = world.EXCEPTION_KINDS[kind][3]
            note = world.EXCEPTION_NOTES[kind]
            exceptions.append(ExceptionRecord(
                f"live:{row.order_number}:{kind}:{now.isoformat()}", row.order_number,
                row.current_stage, kind, now, severity=str(rng.choice(severities)),
                owner=owner, note=note))
            events.append(EventRecord(row.order_number, row.current_stage, "exception", now, owner, note))
    if rng.random() < ACKNOWLEDGE_CHANCE:
        x = conn.execute(
            select(OrderException.exception_uid, Order.order_number, OrderException.stage_code,
                   OrderException.kind, OrderException.opened_at, OrderException.owner,
                   OrderException.note)
            .join(Order, Order.id == OrderException.order_id)
            .where(OrderException.acknowledged_at.is_(None), OrderException.resolved_at.is_(None))
            .order_by(OrderException.opened_at).limit(1)
        ).first()
        if x is not None and x.opened_at <= now:
            exceptions.append(ExceptionRecord(x.exception_uid, x.order_number, x.stage_code, x.kind,
                                              x.opened_at, acknowledged_at=now, owner=x.owner, note=x.note))
    early = set(pipeline.codes[:3])
    if waiting and rng.random() < CANCEL_CHANCE:
        oid = int(rng.choice(waiting))
        row = conn.execute(select(Order.order_number, Order.current_stage).where(Order.id == oid)).one()
        if row.current_stage in early:
            events.append(EventRecord(row.order_number, row.current_stage, "cancel", now, "客服",
                                      "客户取消订单 / cancelled by the customer"))

"""A hand-worked store of 15 orders for the metrics tests (times in hours after T).

Pipeline: placed (SLA 2 h) -> pick (SLA 10 h) -> ship (SLA 24 h) -> received (terminal),
after_sales optional. Zone Asia/Shanghai. T = 2026-11-02 00:00 local = 2026-11-01 16:00Z.
Window W = local days 2026-11-02 .. 2026-11-08 = [T, T+168 h). now = T + 108 h
(2026-11-06 12:00 local). The expected numbers are worked out in test_metrics_summary.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord, ingest
from datasource.pipeline import Pipeline, Stage
from datasource.store import upgrade_store
from metrics.window import Window

T = datetime(2026, 11, 1, 16, 0, tzinfo=timezone.utc)
NOW = T + timedelta(hours=108)
WINDOW = Window(T, T + timedelta(hours=168))

PIPELINE = Pipeline(
    stages=(
        Stage("placed", "下单", "Placed", 0, 2, "Sales"),
        Stage("pick", "备货", "Pick", 1, 10, "Warehouse"),
        Stage("ship", "运输", "Ship", 2, 24, "Logistics"),
        Stage("received", "签收", "Received", 3, 0, "Logistics"),
        Stage("after_sales", "售后", "After-sales", 4, 72, "Service", optional=True),
    ),
    terminal="received",
    timezone="Asia/Shanghai",
)


def at(hours: float) -> datetime:
    return T + timedelta(hours=hours)


# number: (customer, promised h or None, [(stage, entered h), ...], cancel h or None, flag)
ORDERS = {
    "A": ("acme", 30, [("placed", 0), ("pick", 1), ("ship", 5), ("received", 20)], None, False),
    "B": ("acme", 40, [("placed", 2), ("pick", 6), ("ship", 20), ("received", 60)], None, False),
    "C": ("acme", 20, [("placed", -50), ("pick", -40), ("ship", 10), ("received", 30)], None, False),
    "D": ("acme", None, [("placed", 3), ("pick", 4), ("ship", 8), ("received", 9)], None, False),
    "E": ("acme", 50, [("placed", 10), ("pick", 12), ("ship", 30), ("received", 40)], None, False),
    # rework: back from ship to pick at 30 (pick visit 2), ship again at 45 (ship visit 2)
    "F": ("zenith", 45, [("placed", 20), ("pick", 21), ("ship", 25), ("pick", 30), ("ship", 45),
                          ("received", 50)], None, False),
    # out of pipeline order: ship recorded at 35, before pick at 40 -> visits follow the
    # clock (placed 30-35, ship 35-40, pick 40-60) and the order has a finding
    "G": ("zenith", 100, [("placed", 30), ("pick", 40), ("ship", 35), ("received", 60)], None, False),
    "H": ("zenith", 110, [("placed", 90), ("pick", 92)], None, False),
    "I": ("zenith", 100, [("placed", 50), ("pick", 51), ("ship", 60)], None, False),
    "J": ("zenith", 200, [("placed", 107)], None, False),
    "K": ("zenith", 100, [("placed", 5), ("pick", 6)], 8, False),
    "L": ("zenith", 0, [("placed", -100), ("pick", -99), ("ship", -90), ("received", -10)], None, False),
    "M": ("zenith", None, [("placed", -30), ("pick", -29), ("ship", -20)], None, False),
    "N": ("zenith", 100, [("placed", 15), ("pick", 16)], None, True),
    "P": ("zenith", 100, [("placed", 60), ("pick", 61), ("ship", 62), ("received", 70)], 80, False),
}

# uid: (order, stage, kind, opened h, acknowledged h, resolved h)
EXCEPTIONS = {
    "X1": ("B", "pick", "shortage", 7, 8, 19),
    "X2": ("I", "ship", "logistics_delay", 70, 74, None),
    "X3": ("C", "pick", "shortage", -45, -44, None),
    "X4": ("H", "pick", "quality_failure", 100, None, 150),
    "X5": ("E", "pick", "shortage", 20, 22, 26),
}


def records() -> tuple[list[OrderRecord], list[EventRecord], list[ExceptionRecord]]:
    orders, events, exceptions = [], [], []
    for number, (customer, promised, path, cancel, flag) in ORDERS.items():
        orders.append(OrderRecord(
            number, customer=customer, channel="web" if customer == "zenith" else "direct",
            production_line="L1" if number < "H" else "L2", owner="wang",
            promised_at=None if promised is None else at(promised), cancelled=flag,
        ))
        events += [EventRecord(number, code, "enter", at(h)) for code, h in path]
        if cancel is not None:
            events.append(EventRecord(number, path[-1][0], "cancel", at(cancel)))
    for uid, (number, stage, kind, opened, ack, res) in EXCEPTIONS.items():
        exceptions.append(ExceptionRecord(
            uid, number, stage, kind, at(opened),
            acknowledged_at=None if ack is None else at(ack),
            resolved_at=None if res is None else at(res),
        ))
    return orders, events, exceptions


def load(engine) -> None:
    upgrade_store(engine, PIPELINE)
    orders, events, exceptions = records()
    ingest(engine, PIPELINE, orders, events, exceptions)

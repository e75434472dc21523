"""A small hand-made store for the alert tests (default pipeline; times relative to NOW).

| order | stage (entered)       | promised   | owner | notes                                          |
|-------|-----------------------|------------|-------|------------------------------------------------|
| A     | placed (NOW-10 h)     | NOW-1 h    | 张三  | over SLA 4 h (critical); overdue; exception X1 opened NOW-2 h, high, owner 王五 |
| B     | placed (NOW-3 h)      | NOW+5 h    | 李四  | 75 % of SLA (warning at share 0.5); due within 12 h |
| C     | placed (NOW-1 h)      | NOW+1000 h | 张三  | fine; exception X2 opened NOW-10 min           |
| D     | in_transit (NOW-2 h)  | NOW+2 h    | 李四  | due within 12 h but in the last flow stage     |
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord, ingest
from datasource.pipeline import Pipeline

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)


def h(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def seed_small(engine: Engine, pipeline: Pipeline) -> None:
    orders = [
        OrderRecord("A", owner="张三", promised_at=h(-1), production_line="L1"),
        OrderRecord("B", owner="李四", promised_at=h(5), production_line="L1"),
        OrderRecord("C", owner="张三", promised_at=h(1000), production_line="L2"),
        OrderRecord("D", owner="李四", promised_at=h(2), production_line="L2"),
    ]
    events = [
        EventRecord("A", "placed", "enter", h(-10), operator="op-a"),
        EventRecord("B", "placed", "enter", h(-3), operator="op-b"),
        EventRecord("C", "placed", "enter", h(-1)),
        EventRecord("D", "placed", "enter", h(-30)),
        EventRecord("D", "in_transit", "enter", h(-2), operator="driver-d"),
    ]
    exceptions = [
        ExceptionRecord("X1", "A", "placed", "shortage", h(-2), severity="high", owner="王五"),
        ExceptionRecord("X2", "C", "placed", "quality", h(-10 / 60), owner="王五"),
    ]
    ingest(engine, pipeline, orders, events, exceptions)


def seed_breaching(engine: Engine, pipeline: Pipeline, n: int, prefix: str = "PO", owners: int = 7,
                   hours_over: float = 1.0) -> None:
    """``n`` open orders in ``prepared`` (SLA 48 h) for 48 + ``hours_over`` hours."""
    sla = pipeline.stage("prepared").sla_hours
    orders = [OrderRecord(f"{prefix}-{i:05d}", owner=f"owner{i % owners}", promised_at=h(500)) for i in range(n)]
    events = [EventRecord(f"{prefix}-{i:05d}", "prepared", "enter", h(-(sla + hours_over)) - timedelta(seconds=i))
              for i in range(n)]
    ingest(engine, pipeline, orders, events)


def move_on(engine: Engine, pipeline: Pipeline, number: str, stage: str, at: datetime) -> None:
    ingest(engine, pipeline, events=[EventRecord(number, stage, "enter", at)])

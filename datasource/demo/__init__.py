"""The demo factory: a seeded, reproducible order history, then a live feed.

``generate`` builds about 90 days of history for a factory with two production lines and
an online shop (see ``datasource.demo.world`` for the cast): orders flow through the
pipeline's stages with lognormal stays around the SLAs, promised dates a few days to
weeks out (about one completed order in seven is late), rework after failed inspection,
cancellations, exceptions with opened/acknowledged/resolved times, and the orders still
open at ``end`` spread over the stages. The same seed and window give identical records.

The lives are drawn by ``datasource.demo.model`` (vectorised with numpy) and cut at
``end`` by ``datasource.demo.records``; ``seed_store`` writes them through ``ingest`` in
batches and records the model's parameters in the store, so that the live feed
(``datasource.demo.feed``) continues the same lives and draws new orders from the same
model afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from datasource.bulk import cyclic_gc_paused
from datasource.demo.model import DemoModel
from datasource.demo.records import records_between
from datasource.ingest import EventRecord, ExceptionRecord, IngestResult, OrderRecord, ingest
from datasource.pipeline import Pipeline, default_pipeline
from datasource.schema import Order, StoreMeta
from datasource.store import utcnow

__all__ = [
    "DemoData", "generate", "seed_store", "is_demo_store", "store_is_empty",
    "mark_demo_store", "read_meta", "write_meta", "MODEL_KEY", "FED_UNTIL_KEY",
]

DEMO_MARK = "demo_seed"
MODEL_KEY = "demo_model"          # the model's parameters (``DemoModel.to_json``)
FED_UNTIL_KEY = "demo_fed_until"  # everything up to this instant is in the store


@dataclass
class DemoData:
    """Records of a generated history, ready for ``ingest``."""

    orders: list[OrderRecord]
    events: list[EventRecord]
    exceptions: list[ExceptionRecord]
    seed: int = 7
    start: datetime | None = None
    end: datetime | None = None


def generate(
    seed: int = 7,
    n_orders: int = 3000,
    start: datetime | None = None,
    end: datetime | None = None,
    pipeline: Pipeline | None = None,
) -> DemoData:
    """A reproducible history of ``n_orders`` orders placed between ``start`` and ``end``.

    ``end`` defaults to now (UTC, rounded down to the minute), ``start`` to 90 days
    before ``end``. Both must be time-zone aware. Nothing happens after ``end``: an order
    whose next stage would begin later is still open at ``end``.
    """
    pipeline = pipeline or default_pipeline()
    end = end or utcnow().replace(second=0, microsecond=0)
    start = start or end - timedelta(days=90)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be time-zone aware")
    if not start < end:
        raise ValueError(f"start {start} is not before end {end}")
    with cyclic_gc_paused():
        return _generate(seed, int(n_orders), start, end, pipeline)


def _generate(seed: int, n: int, start: datetime, end: datetime, pipeline: Pipeline) -> DemoData:
    model = DemoModel(seed, n, start, end, pipeline)
    found = records_between(model.history(), pipeline, model.start_us - 1, model.end_us)
    return DemoData(found.orders, found.events, found.exceptions, seed, start, end)


# -- writing into a store -------------------------------------------------------------


def seed_store(
    engine: Engine,
    pipeline: Pipeline,
    data: DemoData,
    batch_orders: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Write a generated history through ``ingest``, one transaction per batch of orders.

    The store is marked as a demo store first (``is_demo_store``), with the model that
    made the history, so the live feed may write to it and continues that model from
    ``data.end``. ``progress`` is called with the number of orders written after each batch.
    """
    if data.start is None or data.end is None:
        raise ValueError("a demo history needs its start and end")
    model = DemoModel(data.seed, len(data.orders), data.start, data.end, pipeline)
    mark_demo_store(engine, model)
    events_of: dict[str, list[EventRecord]] = defaultdict(list)
    for e in data.events:
        events_of[e.order_number].append(e)
    exceptions_of: dict[str, list[ExceptionRecord]] = defaultdict(list)
    for x in data.exceptions:
        exceptions_of[x.order_number].append(x)
    total = IngestResult()
    for lo in range(0, len(data.orders), batch_orders):
        batch = data.orders[lo: lo + batch_orders]
        result = ingest(
            engine, pipeline, batch,
            [e for o in batch for e in events_of.get(o.order_number, ())],
            [x for o in batch for x in exceptions_of.get(o.order_number, ())],
            actor="demo", target="demo history",
        )
        _add(total, result)
        if progress is not None:
            progress(len(batch))
    return total


def _add(total: IngestResult, part: IngestResult) -> None:
    for f in fields(IngestResult):
        if f.name == "warnings":
            total.warnings.extend(part.warnings)
        else:
            setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))


def mark_demo_store(engine: Engine, model: DemoModel) -> None:
    """Record that this store holds the history of ``model``, fed up to its end
    (idempotent). A store that holds another demo history is refused: the feed could
    only continue one."""
    with engine.begin() as conn:
        if read_meta(conn, DEMO_MARK) is None:
            write_meta(conn, DEMO_MARK, str(model.seed))
            write_meta(conn, MODEL_KEY, model.to_json())
            write_meta(conn, FED_UNTIL_KEY, model.end.isoformat())
        elif read_meta(conn, MODEL_KEY) != model.to_json():
            raise ValueError("the store already holds another demo history")


def read_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(StoreMeta.value).where(StoreMeta.key == key)).scalar()


def write_meta(conn: Connection, key: str, value: str) -> None:
    """Set a store fact, creating it when absent."""
    if conn.execute(update(StoreMeta).where(StoreMeta.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(StoreMeta), [{"key": key, "value": value}])


def is_demo_store(engine: Engine) -> bool:
    """True when the store was seeded by the demo (the live feed only writes to those)."""
    with engine.connect() as conn:
        return conn.execute(select(StoreMeta.value).where(StoreMeta.key == DEMO_MARK)).first() is not None


def store_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Order)).scalar_one() == 0

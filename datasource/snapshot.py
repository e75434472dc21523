"""What the store holds right now: open orders per stage and a few totals.

A handful of grouped counts on indexed columns, for the live overview page. The metric
definitions proper (cycle time, delay rate, bottleneck) live in ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, func, select

from datasource.schema import Order, OrderException, StageRow, StoreMeta
from datasource.store import DATA_VERSION


@dataclass(frozen=True)
class StageCount:
    """Open orders whose current stage is ``code``; ``over_sla`` of them have been there
    longer than the stage's SLA (``now - current_since > sla_hours``)."""

    code: str
    label_zh: str
    label_en: str
    sla_hours: float
    open: int
    over_sla: int


@dataclass(frozen=True)
class Overview:
    """Open orders per stage (stages before the terminal one, optional ones left out) and
    totals at ``as_of``: open orders, open orders past their promised time (``overdue``),
    orders placed and completed in the 24 hours before ``as_of``, unresolved exceptions."""

    as_of: datetime
    data_version: str | None
    stages: tuple[StageCount, ...]
    open_total: int
    overdue: int
    placed_24h: int
    completed_24h: int
    open_exceptions: int


def stage_counts(engine: Engine) -> dict[str, int]:
    """Open orders per current stage code (stages without open orders are absent)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Order.current_stage, func.count())
            .where(Order.status == "open")
            .group_by(Order.current_stage)
        ).all()
    return {stage: count for stage, count in rows if stage is not None}


def overview(engine: Engine, now: datetime) -> Overview:
    """The live overview at ``now`` (aware UTC) in one connection."""
    with engine.connect() as conn:
        stages = conn.execute(
            select(StageRow.code, StageRow.label_zh, StageRow.label_en, StageRow.position,
                   StageRow.sla_hours, StageRow.terminal, StageRow.optional)
            .order_by(StageRow.position)
        ).all()
        terminal = next((s.position for s in stages if s.terminal), len(stages))
        flow = [s for s in stages if s.position < terminal and not s.optional]
        breach = case(
            *[(and_(Order.current_stage == s.code,
                    Order.current_since < now - timedelta(hours=s.sla_hours)), 1) for s in flow],
            else_=0,
        ) if flow else None
        query = select(Order.current_stage, func.count(),
                       func.sum(breach) if breach is not None else func.sum(0))
        counts = {
            stage: (count, int(over or 0))
            for stage, count, over in conn.execute(
                query.where(Order.status == "open").group_by(Order.current_stage)
            )
        }
        since = now - timedelta(hours=24)
        overdue = conn.execute(
            select(func.count()).where(Order.status == "open", Order.promised_at < now)
        ).scalar_one()
        placed = conn.execute(select(func.count()).where(Order.placed_at >= since,
                                                         Order.placed_at <= now)).scalar_one()
        completed = conn.execute(
            select(func.count()).where(Order.status == "completed", Order.completed_at >= since,
                                       Order.completed_at <= now)
        ).scalar_one()
        exceptions = conn.execute(
            select(func.count()).select_from(OrderException)
            .where(OrderException.resolved_at.is_(None), OrderException.opened_at <= now)
        ).scalar_one()
        version = conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == DATA_VERSION)
        ).scalar_one_or_none()
    return Overview(
        as_of=now,
        data_version=version,
        stages=tuple(
            StageCount(s.code, s.label_zh, s.label_en, s.sla_hours, *counts.get(s.code, (0, 0)))
            for s in flow
        ),
        open_total=sum(c for c, _ in counts.values()),
        overdue=overdue,
        placed_24h=placed,
        completed_24h=completed,
        open_exceptions=exceptions,
    )

"""The wide shape: one row per order, one timestamp column per stage.

A row becomes the order's attributes plus one ``enter`` event per milestone that has a
value. Its event id is derived from order number, stage, event type and instant
(``EventRecord.stable_uid``), so importing the same file again adds nothing.

Data-quality findings of a row (recorded, never "fixed"; the row is still stored):

- Milestones out of pipeline order (Olist: the carrier date before the approval) are
  found where every shape's are, when the order's visits are derived:
  ``out_of_pipeline_order`` (``datasource.visits``).
- ``completed_status_without_timestamp``: the status is one of ``[status] completed``
  but the terminal stage is mapped and has no value (``delivered`` without a delivery
  date).
- ``cancelled_but_shipped``: the order is cancelled but has a value for ``shipped`` or
  a later non-optional stage (checked only when the pipeline has a ``shipped`` stage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datasource.importers.attributes import OrderFields, RowContext, parse_order_fields
from datasource.importers.errors import RowRejected
from datasource.importers.timestamps import parse_timestamp, to_utc
from datasource.ingest import FindingRecord
from datasource.pipeline import Pipeline

SHIPPED = "shipped"
COMPLETED_WITHOUT_TIME = "completed_status_without_timestamp"
CANCELLED_BUT_SHIPPED = "cancelled_but_shipped"


@dataclass
class MilestoneRow:
    """A parsed row: order fields and the UTC instant of each stage that has a value,
    in pipeline order."""

    line: int
    order: OrderFields
    times: dict[str, datetime] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # stage -> the cell as written


def parse_milestone_row(line: int, values: list[Any], ctx: RowContext) -> MilestoneRow:
    """Parse one row; RowRejected names the first bad value."""
    order = parse_order_fields(values, ctx)
    row = MilestoneRow(line, order, warnings=list(order.warnings))
    for stage, column in ctx.mapping.milestones.items():
        try:
            reading = parse_timestamp(ctx.cell(values, column), ctx.mapping.timestamp_format,
                                      ctx.mapping.date_order)
        except RowRejected as exc:
            raise RowRejected(f"{column}: {exc}") from None
        if reading is None:
            continue
        instant, warning = to_utc(reading.value, ctx.zone)
        if warning:
            row.warnings.append(f"{column}: {warning}")
        row.times[stage] = instant
        row.raw[stage] = ctx.cell(values, column)
    return row


def row_findings(row: MilestoneRow, ctx: RowContext, pipeline: Pipeline,
                 source: str | None) -> list[FindingRecord]:
    """The data-quality findings of one parsed row (see the module docstring)."""
    number = row.order.order_number
    found: list[FindingRecord] = []

    def local(instant: datetime) -> str:
        return instant.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M:%S")

    status = row.order.status
    mapping = ctx.mapping
    terminal = pipeline.terminal
    if (status is not None and status.casefold() in mapping.completed_values
            and terminal in mapping.milestones and terminal not in row.times):
        found.append(FindingRecord(
            number, COMPLETED_WITHOUT_TIME,
            f"status {status!r} says the order is completed but {terminal} "
            f"({mapping.milestones[terminal]}) is empty", source, row.line,
        ))
    if row.order.cancelled and SHIPPED in pipeline.positions:
        start = pipeline.position(SHIPPED)
        late = [s for s in row.times
                if pipeline.position(s) >= start and not pipeline.stage(s).optional]
        if late:
            said = ", ".join(f"{s} {local(row.times[s])}" for s in late)
            found.append(FindingRecord(
                number, CANCELLED_BUT_SHIPPED,
                f"status {status!r} says cancelled but it has {said}", source, row.line,
            ))
    return found

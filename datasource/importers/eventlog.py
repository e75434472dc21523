"""The long shape: one row per event.

A row becomes one ``EventRecord`` plus the order's attributes (if the mapping has any).

- Stage: the ``[stages]`` table maps source values (compared case-insensitively,
  surrounding spaces ignored) to pipeline codes; a value that already is a pipeline code
  needs no entry. Any other value rejects the row: stages are never invented.
  ``enter`` and ``complete`` events need a stage; the other types may leave it empty.
- Event type: the ``event_type`` column through ``[event_types]`` or one of the store's
  types as written; without that column every row is ``enter``. A value mapped to
  ``skip`` leaves the row out before anything else of it is read (``RowSkipped``).
- Event id: the ``event_id`` column when mapped (the sender's id, stored as given, so it
  must be unique across everything sent to the store), otherwise derived from order
  number, stage, type, instant and note (``EventRecord.stable_uid``).
- Repeated stages are kept as they come: re-entering production after QC is rework,
  which the stage-visit builder numbers and flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasource.importers.attributes import OrderFields, RowContext, parse_order_fields, text
from datasource.importers.errors import RowRejected, RowSkipped
from datasource.importers.limits import EVENT_ID_LIMIT, OPERATOR_LIMIT
from datasource.importers.mapping import SKIP
from datasource.importers.timestamps import parse_timestamp, to_utc
from datasource.ingest import EventRecord
from datasource.pipeline import Pipeline
from datasource.schema import EVENT_TYPES

NEEDS_STAGE = ("enter", "complete")


@dataclass
class EventRow:
    line: int
    order: OrderFields
    event: EventRecord
    warnings: list[str] = field(default_factory=list)


def parse_event_row(line: int, values: list[Any], ctx: RowContext, pipeline: Pipeline,
                    source: str | None) -> EventRow:
    """Parse one row; RowRejected names the first bad value, RowSkipped a row the
    mapping leaves out."""
    raw_type = text(ctx.field(values, "event_type"))
    if raw_type is not None and ctx.mapping.event_types.get(raw_type.casefold()) == SKIP:
        raise RowSkipped(raw_type)
    order = parse_order_fields(values, ctx)
    warnings = list(order.warnings)
    event_type = _event_type(raw_type, ctx)
    stage = _stage(text(ctx.field(values, "stage")), ctx, pipeline)
    if stage is None and event_type in NEEDS_STAGE:
        raise RowRejected(f"stage is missing for an {event_type!r} event")
    column = ctx.mapping.columns["timestamp"]
    try:
        reading = parse_timestamp(ctx.field(values, "timestamp"), ctx.mapping.timestamp_format,
                                  ctx.mapping.date_order)
    except RowRejected as exc:
        raise RowRejected(f"{column}: {exc}") from None
    if reading is None:
        raise RowRejected(f"{column}: timestamp is missing")
    occurred_at, warning = to_utc(reading.value, ctx.zone)
    if warning:
        warnings.append(f"{column}: {warning}")
    operator = text(ctx.field(values, "operator"))
    if operator is not None and len(operator) > OPERATOR_LIMIT:
        raise RowRejected(f"operator is longer than {OPERATOR_LIMIT} characters")
    event_id = text(ctx.field(values, "event_id"))
    if event_id is not None and len(event_id) > EVENT_ID_LIMIT:
        raise RowRejected(f"event id is longer than {EVENT_ID_LIMIT} characters")
    event = EventRecord(
        order.order_number, stage, event_type, occurred_at, operator=operator,
        note=text(ctx.field(values, "note")), uid=event_id, source=source,
    )
    return EventRow(line, order, event, warnings)


def _event_type(raw: Any, ctx: RowContext) -> str:
    value = text(raw)
    if "event_type" not in ctx.mapping.columns or value is None:
        return "enter"
    key = value.casefold()
    if key in ctx.mapping.event_types:
        return ctx.mapping.event_types[key]
    if key in EVENT_TYPES:
        return key
    raise RowRejected(
        f"event type {value!r} is not one of {', '.join(EVENT_TYPES)} and not in [event_types]"
    )


def _stage(value: str | None, ctx: RowContext, pipeline: Pipeline) -> str | None:
    if value is None:
        return None
    key = value.casefold()
    if key in ctx.mapping.stages:
        return ctx.mapping.stages[key]
    if value in pipeline.positions:
        return value
    raise RowRejected(
        f"stage {value!r} is not in the pipeline ({', '.join(pipeline.codes)}) "
        "and not mapped in [stages]"
    )

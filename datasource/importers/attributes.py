"""Order attributes of one row: text, numbers, the promised deadline and the status.

Rules, each a rejection reason when broken:

- the order id is present and at most 64 characters;
- text fields fit their columns (customer 128, priority 16, the others 64 characters);
  a value is never cut short;
- quantity is a whole number >= 0 (``3`` or ``3.0``), amount a number >= 0;
- the promised value is a timestamp (see ``timestamps``). A date without a time of day,
  or a time of exactly 00:00:00 when the mapping says ``promised_is_date``, is the
  end of that local day.

Empty cells are None: "not given", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from datasource.importers.errors import RowRejected
from datasource.importers.limits import ORDER_NUMBER_LIMIT, TEXT_LIMITS
from datasource.importers.mapping import Mapping
from datasource.importers.timestamps import end_of_day, parse_timestamp, to_utc



@dataclass
class RowContext:
    """What a row parser needs: the mapping, column positions and the zone."""

    mapping: Mapping
    index: dict[str, int]
    zone: ZoneInfo
    #: field name -> position in a row, for every mapped field (looked up once here:
    #: a bulk import reads millions of cells)
    positions: dict[str, int] = field(init=False, repr=False)
    #: ``(name, limit, position or None, constant)`` of each stored text attribute
    text_fields: tuple[tuple[str, int, int | None, Any], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.positions = {name: self.index[column] for name, column in self.mapping.columns.items()}
        self.text_fields = tuple(
            (name, limit, self.positions.get(name), self.mapping.constants.get(name))
            for name, limit in TEXT_LIMITS.items()
        )

    def cell(self, values: list[Any], column: str) -> Any:
        return values[self.index[column]]

    def field(self, values: list[Any], name: str) -> Any:
        """The raw value of a mapped field (None when the mapping has no such column)."""
        position = self.positions.get(name)
        return None if position is None else values[position]


@dataclass
class OrderFields:
    """The order part of a row, parsed."""

    order_number: str
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    cancelled: bool = False
    warnings: list[str] = field(default_factory=list)
    #: the row's cells as the file has them (for messages in the user's terms)
    values: list[Any] = field(default_factory=list, repr=False)


def text(raw: Any) -> str | None:
    """A cell as stripped text; whole floats from spreadsheets lose their ``.0``."""
    if raw.__class__ is str:  # the usual case (every CSV cell), first
        return raw.strip() or None
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    value = str(raw).strip()
    return value or None


def parse_order_fields(values: list[Any], ctx: RowContext) -> OrderFields:
    """The order number, attributes, promised instant and status of a row."""
    mapping = ctx.mapping
    number = text(ctx.field(values, "order_number"))
    if number is None:
        raise RowRejected("order id is missing")
    if len(number) > ORDER_NUMBER_LIMIT:
        raise RowRejected(f"order id is longer than {ORDER_NUMBER_LIMIT} characters")
    out = OrderFields(number)
    attrs = out.attributes
    for name, limit, position, constant in ctx.text_fields:
        value = constant if position is None else text(values[position])
        if value is not None and len(value) > limit:
            raise RowRejected(f"{name} is longer than {limit} characters")
        attrs[name] = value
    attrs["quantity"] = _quantity(ctx.field(values, "quantity"))
    attrs["amount"] = _amount(ctx.field(values, "amount"))
    if "quantity" in mapping.constants:
        attrs["quantity"] = _quantity(mapping.constants["quantity"])
    if "amount" in mapping.constants:
        attrs["amount"] = _amount(mapping.constants["amount"])
    attrs["promised_at"] = _promised(ctx.field(values, "promised"), ctx, out.warnings)
    out.values = values
    status = text(ctx.field(values, "status"))
    out.status = status
    if status is not None and status.casefold() in mapping.cancelled_values:
        out.cancelled = True
    return out


def _number(raw: Any, name: str) -> float | None:
    if raw is None or isinstance(raw, bool):
        if raw is None:
            return None
        raise RowRejected(f"{name} {raw!r} is not a number")
    if isinstance(raw, (int, float)):
        return float(raw)
    value = str(raw).strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowRejected(f"{name} {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RowRejected(f"{name} {value!r} is not a number")
    return number


def _quantity(raw: Any) -> int | None:
    number = _number(raw, "quantity")
    if number is None:
        return None
    if not number.is_integer():
        raise RowRejected(f"quantity {raw!r} is not a whole number")
    if number < 0:
        raise RowRejected(f"quantity {raw!r} is negative")
    return int(number)


def _amount(raw: Any) -> float | None:
    number = _number(raw, "amount")
    if number is not None and number < 0:
        raise RowRejected(f"amount {raw!r} is negative")
    return number


def _promised(raw: Any, ctx: RowContext, warnings: list[str]) -> datetime | None:
    try:
        reading = parse_timestamp(raw, ctx.mapping.timestamp_format, ctx.mapping.date_order)
    except RowRejected as exc:
        raise RowRejected(f"promised date: {exc}") from None
    if reading is None:
        return None
    value = reading.value
    is_date = reading.date_only or (
        ctx.mapping.promised_is_date and value.tzinfo is None and value.time() == time()
    )
    if is_date:
        return end_of_day(value.date(), ctx.zone)
    instant, warning = to_utc(value, ctx.zone)
    if warning:
        warnings.append(f"promised date {warning}")
    return instant

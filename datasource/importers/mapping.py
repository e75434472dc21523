"""The mapping file: which column of a spreadsheet means what.

A mapping is a TOML file. Top-level keys:

``shape``             ``"events"`` (one row per event) or ``"milestones"`` (one row per order).
``timezone``          IANA zone naive timestamps are read in (``--tz`` overrides it; the
                      pipeline's zone when neither is given).
``promised_is_date``  true: a promised value whose time is exactly 00:00:00 is a date
                      and means the end of that day (a value without a time of day
                      always does).
``encoding``          text encoding of a CSV file (default: found from the bytes: UTF-8
                      with or without BOM, GB18030/GBK, Big5, UTF-16, Windows-1252).
``delimiter``         CSV field separator (default: a tab when the header line has tabs
                      and no commas, as in Excel's "Unicode text"; else ``,``).
``sheet``             XLSX sheet name (default: the first sheet).
``header_row``        line (CSV) or row (XLSX) of the column names, 1-based (default:
                      found: the first row holding the mapped columns; title rows above
                      it are skipped).
``fill_down``         columns whose empty cells take the value above them (a CSV saved
                      from a sheet with merged cells; XLSX merged cells need no entry).
``date_order``        ``"dmy"`` or ``"mdy"``: how year-last dates (03/11/2026) read.
                      Without it a file with such an ambiguous date is refused.
``timestamp_format``  a ``strptime`` format; default: the styles ledgers use (ISO 8601,
                      ``2026/11/3 9:00``, ``2026.11.03``, ``2026年11月3日 下午3:00``,
                      Excel date numbers; see ``timestamps.parse_timestamp``).
``source``            label stored with orders, events and findings (default: file name).

Tables:

``[columns]``      order field = source column. ``order_number`` is required; optional
                   ``customer``, ``channel``, ``production_line``, ``product_line``,
                   ``owner``, ``quantity``, ``amount``, ``priority``, ``promised``,
                   ``status``. The events shape also has ``stage`` and ``timestamp``
                   (required) and ``operator``, ``event_type``, ``note``, ``event_id``.
``[milestones]``   milestones shape only: pipeline stage code = timestamp column.
``[constants]``    order field = value given to every row (``channel = "online"``).
``[stages]``       events shape: source stage value = pipeline stage code. A value that
                   is already a pipeline code needs no entry.
``[event_types]``  events shape: source value = one of enter, complete, exception,
                   resolve, note, cancel, or ``skip``: rows of that value are left out,
                   counted as skipped (neither stored nor rejected), as process-mining
                   logs' ``start`` and ``schedule`` rows often are. Without an
                   ``event_type`` column every row is ``enter``.
``[status]``       ``cancelled = [...]`` status values meaning the order was cancelled;
                   ``completed = [...]`` values claiming the order reached the terminal
                   stage (checked against its timestamp). Compared case-insensitively.

Unknown keys are errors (a typo must not silently drop a column).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datasource.importers.errors import ImportSetupError
from datasource.importers.limits import SOURCE_LIMIT, TEXT_LIMITS
from datasource.importers.timestamps import DATE_ORDERS
from datasource.pipeline import Pipeline
from datasource.schema import EVENT_TYPES

SHAPES = ("events", "milestones")
ORDER_FIELDS = (
    "customer", "channel", "production_line", "product_line", "owner",
    "quantity", "amount", "priority", "promised", "status",
)
EVENT_FIELDS = ("stage", "timestamp", "operator", "event_type", "note", "event_id")
# An [event_types] value that leaves the row out (counted as skipped, not rejected).
SKIP = "skip"
TOP_KEYS = {
    "shape", "timezone", "promised_is_date", "encoding", "delimiter", "sheet",
    "timestamp_format", "source", "columns", "milestones", "constants", "stages",
    "event_types", "status", "header_row", "fill_down", "date_order",
}


@dataclass(frozen=True)
class Mapping:
    """A validated mapping. ``columns`` maps field -> source column (order fields and,
    for events, event fields); ``milestones`` maps stage code -> column in the mapping's
    order (never the pipeline's: it is the source order that milestones tied in time keep)."""

    shape: str
    columns: dict[str, str]
    timezone: str | None = None
    promised_is_date: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    fill_down: tuple[str, ...] = ()
    date_order: str | None = None
    timestamp_format: str | None = None
    source: str | None = None
    milestones: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    event_types: dict[str, str] = field(default_factory=dict)
    cancelled_values: frozenset[str] = frozenset()
    completed_values: frozenset[str] = frozenset()

    @property
    def required_columns(self) -> list[str]:
        """Every source column the mapping names; all must be in the file's header."""
        return list(dict.fromkeys([*self.columns.values(), *self.milestones.values()]))

    @property
    def date_columns(self) -> list[str]:
        """The source columns read as timestamps."""
        names = [self.columns[f] for f in ("promised", "timestamp") if f in self.columns]
        return list(dict.fromkeys([*names, *self.milestones.values()]))


def load_mapping(path: str | Path, pipeline: Pipeline) -> Mapping:
    """Read and validate a mapping file against the pipeline.

    Raises ImportSetupError (one line) when the file is missing, not TOML, or says
    something impossible: an unknown shape or key, a stage code the pipeline lacks, a
    missing required column, an unknown time zone or event type.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ImportSetupError(f"mapping file {path} does not exist") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportSetupError(f"mapping file {path} is not valid TOML: {exc}") from None
    try:
        return parse_mapping(data, pipeline)
    except ImportSetupError as exc:
        raise ImportSetupError(f"mapping file {path}: {exc}") from None


def parse_mapping(data: dict, pipeline: Pipeline) -> Mapping:
    """Validate the parsed TOML of a mapping (see the module docstring)."""
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ImportSetupError(f"unknown key(s) {', '.join(unknown)}")
    shape = data.get("shape")
    if shape not in SHAPES:
        raise ImportSetupError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    allowed = {"order_number", *ORDER_FIELDS} | (set(EVENT_FIELDS) if shape == "events" else set())
    columns = _str_table(data, "columns")
    _only(columns, allowed, "columns")
    if "order_number" not in columns:
        raise ImportSetupError("[columns] needs order_number")
    milestones = _str_table(data, "milestones")
    stages = _str_table(data, "stages")
    event_types = _str_table(data, "event_types")
    if shape == "events":
        for need in ("stage", "timestamp"):
            if need not in columns:
                raise ImportSetupError(f"[columns] needs {need} for shape = \"events\"")
        if milestones:
            raise ImportSetupError("[milestones] is for shape = \"milestones\"")
    else:
        if not milestones:
            raise ImportSetupError("[milestones] must map at least one stage to a column")
        if stages or event_types:
            raise ImportSetupError("[stages] and [event_types] are for shape = \"events\"")
    codes = pipeline.positions
    bad = [c for c in milestones if c not in codes] + [c for c in stages.values() if c not in codes]
    if bad:
        raise ImportSetupError(
            f"stage(s) {', '.join(sorted(set(bad)))} are not in the pipeline ({', '.join(codes)})"
        )
    bad_types = sorted({t for t in event_types.values() if t not in (*EVENT_TYPES, SKIP)})
    if bad_types:
        raise ImportSetupError(f"event type(s) {', '.join(bad_types)} are not one of "
                               f"{', '.join((*EVENT_TYPES, SKIP))}")
    constants = _str_table(data, "constants")
    _only(constants, set(ORDER_FIELDS) - {"promised", "status"}, "constants")
    for name, value in constants.items():
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(value) > limit:
            raise ImportSetupError(f"[constants] {name} is {len(value)} characters long; at "
                                   f"most {limit} fit the store")
    if "source" in data and len(str(data["source"])) > SOURCE_LIMIT:
        raise ImportSetupError(f"source is {len(str(data['source']))} characters long; at most "
                               f"{SOURCE_LIMIT} fit the store")
    both = sorted(set(constants) & set(columns))
    if both:
        raise ImportSetupError(f"{', '.join(both)} given both in [columns] and [constants]")
    status = data.get("status", {})
    if not isinstance(status, dict):
        raise ImportSetupError("[status] must be a table")
    _only(status, {"cancelled", "completed"}, "status")
    if status and "status" not in columns:
        raise ImportSetupError("[status] needs a status column in [columns]")
    tz = data.get("timezone")
    if tz is not None:
        check_timezone(str(tz))
    header_row = data.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or isinstance(header_row, bool)
                                   or header_row < 1):
        raise ImportSetupError(f"header_row must be a row number (1 or more), not {header_row!r}")
    date_order = data.get("date_order")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ImportSetupError(f"date_order must be \"dmy\" or \"mdy\", not {date_order!r}")
    fill_down = data.get("fill_down", [])
    if isinstance(fill_down, str):
        fill_down = [fill_down]
    if not isinstance(fill_down, list) or not all(isinstance(c, str) for c in fill_down):
        raise ImportSetupError("fill_down must be a list of column names")
    mapping = Mapping(
        shape=shape,
        columns=columns,
        timezone=str(tz) if tz is not None else None,
        promised_is_date=bool(data.get("promised_is_date", False)),
        encoding=str(data["encoding"]) if "encoding" in data else None,
        delimiter=str(data["delimiter"]) if "delimiter" in data else None,
        sheet=str(data["sheet"]) if "sheet" in data else None,
        header_row=header_row,
        fill_down=tuple(fill_down),
        date_order=date_order,
        timestamp_format=str(data["timestamp_format"]) if "timestamp_format" in data else None,
        source=str(data["source"]) if "source" in data else None,
        milestones=dict(milestones),  # the mapping's order: milestones tied in time keep it
        constants=constants,
        stages={k.strip().casefold(): v for k, v in stages.items()},
        event_types={k.strip().casefold(): v for k, v in event_types.items()},
        cancelled_values=_values(status, "cancelled"),
        completed_values=_values(status, "completed"),
    )
    if mapping.delimiter is not None and len(mapping.delimiter) != 1:
        raise ImportSetupError(f"delimiter must be one character, not {mapping.delimiter!r}")
    return mapping


def check_timezone(name: str) -> ZoneInfo:
    """The zone of that name, or ImportSetupError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportSetupError(f"unknown time zone {name!r}") from None


def _str_table(data: dict, name: str) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ImportSetupError(f"[{name}] must be a table of strings")
    return dict(table)


def _only(table: dict, allowed: set[str], name: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ImportSetupError(
            f"[{name}] has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _values(status: dict, key: str) -> frozenset[str]:
    values = status.get(key, [])
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ImportSetupError(f"[status] {key} must be a list of strings")
    return frozenset(v.strip().casefold() for v in values)

"""Reading an XES event log (``.xes``, or gzip-compressed ``.xes.gz``) as a table, streamed.

XES is what process-mining tools hand over: ``<log>`` holds ``<trace>`` elements (one
per case) that hold ``<event>`` elements, each with typed attributes
(``<string key="concept:name" value="..."/>``, ``<date key="time:timestamp" .../>``...).
Each event becomes one row whose columns are the event's attribute keys, plus the
trace's attributes prefixed ``case:`` (``case:concept:name`` is the case id), so the
same mapping file works as for a CSV export of the log::

    [columns]
    order_number = "case:concept:name"
    stage = "concept:name"
    timestamp = "time:timestamp"
    operator = "org:resource"
    event_type = "lifecycle:transition"

Values: ``date`` attributes become aware datetimes with the file's own offset (always
honoured); ``int``/``float`` numbers; ``boolean`` True/False; the rest text. Nested
attributes (lists, containers, attributes of attributes) are not columns.

The file is read twice, element by element, never whole: once to check it is
well-formed XES and to learn its columns and size (so a file broken halfway fails
before anything is written, as a CSV does), once to hand out rows. A row's "line" is
the line of its ``<event>`` element in the (uncompressed) XML.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from datasource.importers.errors import ImportSetupError

ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
CASE_PREFIX = "case:"
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_xes(path: Path, head: bytes) -> bool:
    name = path.name.lower()
    return name.endswith(".xes") or name.endswith(".xes.gz") or (
        head.startswith(GZIP_MAGIC) and ".xes" in name)


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as fh:
        compressed = fh.read(2) == GZIP_MAGIC
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes
    return path.open("rb")


def _value(tag: str, raw: str | None) -> Any:
    if raw is None:
        return None
    if tag == "date":
        text = raw.strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text  # the importer rejects the row, naming the value
    if tag == "int":
        try:
            return int(raw)
        except ValueError:
            return raw
    if tag == "float":
        try:
            return float(raw)
        except ValueError:
            return raw
    if tag == "boolean":
        return raw.strip().lower() == "true"
    return raw


class _Reader:
    """One streaming pass: calls ``on_event(line, trace_attrs, event_attrs)`` per event,
    after its trace ends (trace attributes may follow the events in a file)."""

    def __init__(self, path: Path, on_trace) -> None:
        self.path = path
        self.on_trace = on_trace
        self.stack: list[str] = []
        self.trace: dict[str, Any] | None = None
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.event: dict[str, Any] | None = None
        self.event_line = 0
        self.saw_log = False

    def parse(self) -> Iterator[None]:
        """Parse the file a chunk at a time, yielding after each (the callbacks have run
        for everything the chunk completed)."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self.parser = parser
        try:
            with _open(self.path) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    parser.Parse(chunk, not chunk)
                    yield
                    if not chunk:
                        break
        except expat.ExpatError as exc:
            raise ImportSetupError(
                f"{self.path.name}: not well-formed XES (line {exc.lineno}: "
                f"{expat.ErrorString(exc.code)})") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportSetupError(f"{self.path.name}: cannot be read ({exc})") from None
        if not self.saw_log:
            raise ImportSetupError(f"{self.path.name}: not an XES log (no <log> element)")

    @staticmethod
    def _local(name: str) -> str:
        """The element's local name: ``log`` of ``log`` and of a prefixed ``xes:log``."""
        return name.rsplit(":", 1)[-1]

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = self._local(name)
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if tag == "log" and parent is None:
            self.saw_log = True
        elif tag == "trace" and parent == "log":
            self.trace, self.events = {}, []
        elif tag == "event" and parent == "trace":
            self.event, self.event_line = {}, self.parser.CurrentLineNumber
        elif tag in ATTRIBUTE_TAGS and "key" in attrs:
            value = _value(tag, attrs.get("value"))
            if parent == "event" and self.event is not None:
                self.event[attrs["key"]] = value
            elif parent == "trace" and self.trace is not None:
                self.trace[CASE_PREFIX + attrs["key"]] = value

    def _end(self, name: str) -> None:
        tag = self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if tag == "event" and parent == "trace" and self.event is not None:
            self.events.append((self.event_line, self.event))
            self.event = None
        elif tag == "trace" and parent == "log" and self.trace is not None:
            self.on_trace(self.trace, self.events)
            self.trace, self.events = None, []


def scan_xes(path: Path) -> tuple[list[str], int, int]:
    """Check the whole file; returns its columns (trace ones first), events and traces."""
    keys: dict[str, None] = {}
    case_keys: dict[str, None] = {}
    counts = [0, 0]

    def on_trace(trace: dict, events: list) -> None:
        counts[1] += 1
        counts[0] += len(events)
        case_keys.update(dict.fromkeys(trace))
        for _, event in events:
            keys.update(dict.fromkeys(event))

    for _ in _Reader(path, on_trace).parse():
        pass
    if counts[0] == 0:
        raise ImportSetupError(f"{path.name}: the log has no events")
    return [*case_keys, *keys], counts[0], counts[1]


def xes_rows(path: Path, header: list[str]) -> Iterator[tuple[int, list[Any]]]:
    """``(line, values)`` per event, in file order, values aligned with ``header``."""
    index = {k: i for i, k in enumerate(header)}
    width = len(header)
    pending: list[tuple[int, list[Any]]] = []

    def on_trace(trace: dict, events: list) -> None:
        for line, event in events:
            values: list[Any] = [None] * width
            for source in (trace, event):
                for key, value in source.items():
                    i = index.get(key)
                    if i is not None:
                        values[i] = value
            pending.append((line, values))

    for _ in _Reader(path, on_trace).parse():
        yield from pending
        pending.clear()

"""Static exports: charts as PNG/SVG/PDF, tables as XLSX/CSV, as bytes.

Charts go through kaleido 1.x and the system Chromium. Starting a browser costs about
two seconds, so one export browser is kept per process: ``kaleido.start_sync_server`` is
called lazily on the first export (importing this module starts nothing) and stopped at
exit. Exports are serialised by a lock: Dash serves callbacks from several threads and
the sync server handles one figure at a time anyway.

Tables: time zones are dropped before writing (Excel has no tz-aware datetimes) after
converting instants to the store's zone, so a sheet shows local times as on screen. CSV
is UTF-8 with a BOM so Excel opens Chinese text correctly. XLSX cells are real numbers
and real Excel dates that carry their format: datetimes ``DATETIME_FORMAT``, and the
columns a caller names in ``formats`` (rates ``PERCENT_FORMAT``, hours ``HOURS_FORMAT``,
counts ``COUNT_FORMAT``), so a delay rate reads 14.8%, not 0.1481481.
"""

from __future__ import annotations

import atexit
import io
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

log = logging.getLogger(__name__)

ChartFormat = Literal["png", "svg", "pdf"]
TableFormat = Literal["xlsx", "csv"]
CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
TABLE_FORMATS: tuple[str, ...] = ("xlsx", "csv")
MIME = {
    "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf",
    "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# 16:9 slides: 1200 x 675 CSS pixels, PNG at scale 2 is sharp on a projector and on paper.
DEFAULT_WIDTH, DEFAULT_HEIGHT, PNG_SCALE = 1200, 675, 2.0

# Excel number formats of exported cells.
PERCENT_FORMAT = "0.0%"          # a ratio 0.1481 shows as 14.8%
HOURS_FORMAT = "#,##0.0"         # hours with one decimal
COUNT_FORMAT = "#,##0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# column -> one format for the whole column, or one per row (None: leave that cell as is)
ColumnFormats = Mapping[str, "str | Sequence[str | None]"]

_lock = threading.Lock()
_server_started = False


class ExportError(RuntimeError):
    """A chart could not be exported (no Chromium, or the export browser failed)."""


def _ensure_server() -> None:
    """Start this process's export browser once (call with ``_lock`` held)."""
    global _server_started
    if _server_started:
        return
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    _server_started = True
    atexit.register(stop_export_server)


def stop_export_server() -> None:
    """Stop the export browser (at exit; tests may call it)."""
    global _server_started
    with _lock:
        if not _server_started:
            return
        import kaleido

        try:
            kaleido.stop_sync_server(silence_warnings=True)
        except Exception as exc:  # noqa: BLE001 - shutting down: nothing left to do
            log.debug("stopping the export browser: %s", exc)
        _server_started = False


def figure_bytes(fig: go.Figure, fmt: ChartFormat = "png", width: int = DEFAULT_WIDTH,
                 height: int = DEFAULT_HEIGHT, scale: float | None = None) -> bytes:
    """``fig`` rendered as PNG, SVG or PDF bytes (PNG at ``PNG_SCALE`` unless ``scale``)."""
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format must be one of {CHART_FORMATS}, not {fmt!r}")
    import plotly.io as pio

    scale = scale if scale is not None else (PNG_SCALE if fmt == "png" else 1.0)
    with _lock:
        try:
            _ensure_server()
            with warnings.catch_warnings():
                # plotly passes kaleido options that a running server ignores; harmless.
                warnings.filterwarnings("ignore", message="The kopts argument is ignored")
                return pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)
        except Exception as exc:  # noqa: BLE001 - one clear error for every failure
            raise ExportError(f"could not export the chart as {fmt}: {exc}") from exc


def local_naive(frame: pd.DataFrame, tz: str | None) -> pd.DataFrame:
    """A copy of ``frame`` whose tz-aware datetime columns are local times in ``tz``
    without a zone (as Excel wants them)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            series = out[column].dt.tz_convert(tz) if tz else out[column]
            out[column] = series.dt.tz_localize(None)
    return out


def table_bytes(frame: pd.DataFrame, fmt: TableFormat = "xlsx", tz: str | None = None,
                sheet: str = "data", formats: ColumnFormats | None = None) -> bytes:
    """``frame`` as an XLSX workbook of one sheet (number formats: see ``workbook_bytes``),
    or as CSV (UTF-8 with BOM)."""
    if fmt == "csv":
        return local_naive(frame, tz).to_csv(index=False).encode("utf-8-sig")
    if fmt == "xlsx":
        return workbook_bytes({sheet: frame}, tz, {sheet: formats or {}})
    raise ValueError(f"table format must be one of {TABLE_FORMATS}, not {fmt!r}")


def sheet_name(name: str) -> str:
    """A valid Excel sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name).strip() or "sheet"
    return cleaned[:31]


def _apply_formats(worksheet, frame: pd.DataFrame, formats: ColumnFormats) -> None:
    """Set the number format of the data cells of the columns named in ``formats``, and
    of datetime columns (``DATETIME_FORMAT`` unless named)."""
    for idx, column in enumerate(frame.columns, start=1):
        spec = formats.get(column)
        if spec is None and pd.api.types.is_datetime64_any_dtype(frame[column]):
            spec = DATETIME_FORMAT
        if spec is None:
            continue
        per_row = [spec] * len(frame) if isinstance(spec, str) else list(spec)
        if len(per_row) != len(frame):
            raise ValueError(f"{column!r}: {len(per_row)} formats for {len(frame)} rows")
        for row, number_format in enumerate(per_row, start=2):
            if number_format:
                worksheet.cell(row=row, column=idx).number_format = number_format


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], tz: str | None = None,
                   formats: Mapping[str, ColumnFormats] | None = None) -> bytes:
    """One XLSX workbook, one sheet per frame, columns sized to their content. Datetimes
    are Excel dates (local time in ``tz``) shown as ``DATETIME_FORMAT``; ``formats``
    ({sheet: {column: format or a format per row}}) gives numbers their format."""
    buffer = io.BytesIO()
    formats = formats or {}
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            title = sheet_name(name)
            local_naive(frame, tz).to_excel(writer, sheet_name=title, index=False)
            worksheet = writer.sheets[title]
            _apply_formats(worksheet, frame, formats.get(name, {}))
            for idx, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
                letter = worksheet.cell(row=1, column=idx).column_letter
                worksheet.column_dimensions[letter].width = min(60, max(8, longest + 2))
            worksheet.freeze_panes = "A2"
    return buffer.getvalue()

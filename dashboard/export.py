"""Static exports: charts as PNG/SVG/PDF, tables as XLSX/CSV, as bytes.

Charts go through kaleido 1.x and a Chromium of the system (``apt-get install chromium``,
or ``BROWSER_PATH``). Starting a browser costs about two seconds, so one export browser is
kept per process: started lazily on the first export (importing this module starts
nothing) and stopped at exit. Exports are serialised by a lock: Dash serves callbacks from
several threads and one browser tab renders one figure at a time anyway.

Never a hang: the browser is looked for before anything starts (``export_browser``; its
absence is one ``BrowserMissing`` line saying how to install one), and every wait on it
(the lock, the start, each render) has a timeout, and together they stay below a web
worker's 30 s. kaleido's own sync server waits on its queue without a timeout (and forever when
its thread died because there is no browser), so the browser runs on an event loop of
its own here, where each call is a future with a timeout.

Tables: time zones are dropped before writing (Excel has no tz-aware datetimes) after
converting instants to the store's zone, so a sheet shows local times as on screen. CSV
is UTF-8 with a BOM so Excel opens Chinese text correctly. XLSX cells are real numbers
and real Excel dates that carry their format: datetimes ``DATETIME_FORMAT``, and the
columns a caller names in ``formats`` (rates ``PERCENT_FORMAT``, hours ``HOURS_FORMAT``,
counts ``COUNT_FORMAT``), so a delay rate reads 14.8%, not 0.1481481. Text is text: a
cell that a spreadsheet would run as a formula (an imported customer named
``=HYPERLINK(...)``) is defused by ``datasource.formula_guard`` in both formats, and
XLSX text cells are typed as strings.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import pandas as pd
import plotly.graph_objects as go

from datasource.formula_guard import defused_frame, text_columns

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

# Browsers looked for on PATH, in this order, when BROWSER_PATH is not set.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = "install it with `apt-get install chromium` or set BROWSER_PATH to a Chromium or Chrome executable"
# Bounds on each wait, so that one chart download (queue + start + render, 29 s at worst)
# answers within a web worker's timeout (gunicorn's default is 30 s). A warm export takes
# about 0.15 s and a start about 2 s on an idle machine; on a busy one (load 10 on 2 CPUs)
# 1 s and 14 s, hence the room given to the start.
QUEUE_TIMEOUT_S = 3.0
START_TIMEOUT_S = 20.0
RENDER_TIMEOUT_S = 6.0
STOP_TIMEOUT_S = 5.0
CANCEL_GRACE_S = 1.0

_lock = threading.Lock()
_browser: ExportBrowser | None = None
_stop_at_exit = False


class ExportError(RuntimeError):
    """A chart could not be exported (no Chromium, or the export browser failed or hung)."""


class BrowserMissing(ExportError):
    """No browser to export charts with; the message says what is missing and how to get it."""


def export_browser() -> str:
    """The path of the browser charts are exported with: ``BROWSER_PATH`` when set, else
    the first of ``BROWSER_NAMES`` on PATH. Raises ``BrowserMissing`` at once otherwise."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise BrowserMissing(f"chart export needs Chromium, but BROWSER_PATH={configured} is not "
                             f"an executable file: {INSTALL_HINT}")
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(f"chart export needs Chromium, which is not installed (no chromium on PATH): "
                         f"{INSTALL_HINT}")


class ExportBrowser:
    """One kaleido browser (one tab) driven from its own event-loop thread, so that the
    caller waits on futures with timeouts instead of on kaleido's unbounded queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._kaleido: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chart-export", daemon=True)
        self._thread.start()
        try:
            self._kaleido = self._wait(self._create(), START_TIMEOUT_S, "preparing the export browser")
            with packaged_fonts_visible():
                self._wait(self._kaleido.open(), START_TIMEOUT_S, "starting the export browser")
        except BaseException:
            self.close(graceful=False)
            raise

    async def _create(self) -> Any:
        import kaleido
        import plotly.io as pio

        # mathjax=False: the charts have no TeX, and the page then loads nothing from the network.
        return kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_S, path=self.path, mathjax=False,
                               plotlyjs=pio.defaults.plotlyjs, headers=pio.defaults.headers)

    def _wait(self, work: Coroutine, timeout: float, doing: str) -> Any:
        """The result of ``work`` run on the browser's loop, or ``ExportError`` after ``timeout``.

        The loop itself cancels the work at the timeout (so it is cleaned up there); the
        grace period only covers work that ignores its cancellation.
        """
        started = time.monotonic()
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(work, timeout), self._loop)
        try:
            return future.result(timeout + CANCEL_GRACE_S)
        except ExportError:
            raise
        except Exception as exc:
            future.cancel()
            if time.monotonic() - started >= timeout:  # a cancelled start may report itself as a crash
                raise ExportError(f"{doing} took longer than {timeout:g} s ({self.path})") from None
            raise ExportError(f"{doing} failed ({self.path}): {_first_line(exc)}") from exc

    def render(self, fig: dict, opts: dict) -> bytes:
        import plotly.io as pio

        # kaleido's own timeout ends the render in the browser; ours bounds the wait for it.
        work = self._kaleido.calc_fig(fig, opts=opts, topojson=pio.defaults.topojson)
        return self._wait(work, RENDER_TIMEOUT_S, "rendering the chart")

    def close(self, graceful: bool = True) -> None:
        """Stop the browser and its loop. ``graceful=False`` (after a failed or hung start
        or render) kills the browser process instead of asking it to close."""
        browser, self._kaleido = self._kaleido, None
        if browser is not None:
            if graceful:
                try:
                    self._wait(browser.close(), STOP_TIMEOUT_S, "stopping the export browser")
                except ExportError as exc:
                    log.warning("%s", exc)
            process = getattr(browser, "subprocess", None)  # set by choreographer once started
            if process is not None:
                _kill(process)
        try:  # not through _wait, whose own task must not cancel itself
            asyncio.run_coroutine_threadsafe(_cancel_pending(), self._loop).result(STOP_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - shutting down: say so and go on
            log.warning("stopping the export browser's tasks: %s", _first_line(exc))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()


@contextlib.contextmanager
def packaged_fonts_visible() -> Iterator[None]:
    """While the export browser starts, point fontconfig at a configuration that adds the
    package's font (Noto Sans SC, ``dashboard.report.fonts``) to the machine's own fonts:
    the browser inherits it, so the charts' Chinese is drawn on a server with no CJK
    font, not as empty boxes. (Set for the start only; the caller holds ``_lock``.)"""
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    conf = _fontconfig_file(base)
    before = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(conf)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = before


@functools.cache
def _fontconfig_file(base: str) -> Path:
    """A fontconfig file that includes ``base`` and adds the package's font folder, in a
    folder of this process's own (made with mkdtemp: private, unpredictable)."""
    from dashboard.report.fonts import font_file

    folder = Path(tempfile.mkdtemp(prefix="orderboard-fontconfig-"))
    atexit.register(shutil.rmtree, folder, True)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f'  <include ignore_missing="yes">{escape(base)}</include>\n'
        f'  <dir>{escape(str(font_file().parent))}</dir>\n'
        f'  <cachedir>{escape(str(folder / "cache"))}</cachedir>\n</fontconfig>\n', "utf-8")
    return conf


def _kill(process: subprocess.Popen) -> None:
    """Kill a browser process and its children (choreographer starts it in a session of its own)."""
    if process.poll() is not None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(STOP_TIMEOUT_S)
    except (ProcessLookupError, subprocess.TimeoutExpired) as exc:
        log.warning("could not kill the export browser (pid %s): %s", process.pid, exc)


async def _cancel_pending() -> None:
    """Cancel what is left on the export loop (a start or render that timed out)."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message (choreographer puts several lines in its args)."""
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def _running_browser(path: str) -> ExportBrowser:
    """This process's export browser for ``path``, started if needed (``_lock`` held)."""
    global _browser, _stop_at_exit
    if _browser is not None and _browser.path != path:
        _discard_browser()
    if _browser is None:
        _browser = ExportBrowser(path)
        if not _stop_at_exit:
            atexit.register(stop_export_server)
            _stop_at_exit = True
    return _browser


def _discard_browser(graceful: bool = True) -> None:
    global _browser
    if _browser is not None:
        browser, _browser = _browser, None
        browser.close(graceful)


def stop_export_server() -> None:
    """Stop the export browser (at exit; tests may call it)."""
    if _lock.acquire(timeout=QUEUE_TIMEOUT_S + START_TIMEOUT_S + RENDER_TIMEOUT_S):
        try:
            _discard_browser()
        finally:
            _lock.release()


def figure_bytes(fig: go.Figure, fmt: ChartFormat = "png", width: int = DEFAULT_WIDTH,
                 height: int = DEFAULT_HEIGHT, scale: float | None = None) -> bytes:
    """``fig`` rendered as PNG, SVG or PDF bytes (PNG at ``PNG_SCALE`` unless ``scale``).

    Raises ``BrowserMissing`` at once when there is no browser, ``ExportError`` when the
    export fails or a wait times out (the browser is then restarted on the next export).
    """
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format must be one of {CHART_FORMATS}, not {fmt!r}")
    path = export_browser()
    scale = scale if scale is not None else (PNG_SCALE if fmt == "png" else 1.0)
    opts = {"format": fmt, "width": width, "height": height, "scale": scale}
    if not _lock.acquire(timeout=QUEUE_TIMEOUT_S):
        raise ExportError(f"the export browser is busy with other exports (waited {QUEUE_TIMEOUT_S:g} s); "
                          "try again")
    try:
        browser = _running_browser(path)
        try:
            return browser.render(fig.to_dict(), opts)
        except ExportError:
            _discard_browser(graceful=False)  # a failed or hung tab: the next export starts afresh
            raise
    except ExportError as exc:
        raise ExportError(f"could not export the chart as {fmt}: {exc}") from exc
    finally:
        _lock.release()


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
                sheet: str = "data", formats: ColumnFormats | None = None,
                date_format: str | None = None) -> bytes:
    """``frame`` as an XLSX workbook of one sheet (number formats: see ``workbook_bytes``),
    or as CSV (UTF-8 with BOM; datetimes as ``date_format`` when given). Text that could
    start a formula is defused (``datasource.formula_guard``) in both."""
    if fmt == "csv":
        text = defused_frame(local_naive(frame, tz)).to_csv(index=False, date_format=date_format)
        return text.encode("utf-8-sig")
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


def _text_as_text(worksheet, frame: pd.DataFrame) -> None:
    """Type every text cell (headers and text columns) as a string: openpyxl would make
    text that begins with "=" a formula and "#N/A" an error value."""
    for cell in worksheet[1]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    for position in text_columns(frame):
        for (cell,) in worksheet.iter_rows(min_row=2, min_col=position + 1, max_col=position + 1):
            if isinstance(cell.value, str) and cell.data_type != "s":
                cell.data_type = "s"


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
            safe = defused_frame(local_naive(frame, tz))
            safe.to_excel(writer, sheet_name=title, index=False)
            worksheet = writer.sheets[title]
            _text_as_text(worksheet, safe)
            _apply_formats(worksheet, frame, formats.get(name, {}))
            for idx, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
                letter = worksheet.cell(row=1, column=idx).column_letter
                worksheet.column_dimensions[letter].width = min(60, max(8, longest + 2))
            worksheet.freeze_panes = "A2"
    return buffer.getvalue()

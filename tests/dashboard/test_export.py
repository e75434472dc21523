"""Chart and table exports: real pixels, the three chart formats, one warm export browser,
and tables that Excel opens (local times without a zone, UTF-8 with BOM)."""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone

import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from dashboard import export
from dashboard.figures.review import stage_time_figure, week_trend_figure


def trend() -> pd.DataFrame:
    return pd.DataFrame({
        "period": [f"2026-W{w}" for w in range(40, 48)],
        "completed": [220, 241, 242, 248, 211, 226, 221, 225],
        "delay_rate": [0.12, 0.13, None, 0.15, 0.12, 0.13, 0.15, 0.14],
        "median_h": [140.0, 138.0, None, 141.0, 139.0, 139.5, 140.7, 139.5],
    })


@pytest.mark.usefixtures("export_browser_present")
def test_png_has_real_content():
    png = export.figure_bytes(week_trend_figure(trend(), "en", "light"), "png", 800, 450)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1600, 900)  # scale 2 for projectors and paper
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "anti-aliased bars, lines and text"
    white = max(n for n, c in colours if c == (255, 255, 255))
    assert white < 0.9 * image.size[0] * image.size[1], "mostly blank"
    # The bar of the week under review is drawn in the theme's primary blue (#0969da).
    assert any(abs(r - 9) < 8 and abs(g - 105) < 8 and abs(b - 218) < 8 for _, (r, g, b) in colours)


@pytest.mark.usefixtures("export_browser_present")
def test_svg_and_pdf_and_the_export_browser_is_kept_running():
    fig = stage_time_figure(pd.DataFrame({
        "label_zh": ["备货", "生产"], "label_en": ["Prepared", "Produced"], "sla_hours": [48.0, 72.0],
        "median_h": [15.9, 43.1], "median_h_prev": [15.8, None]}), "zh", "light")
    svg = export.figure_bytes(fig, "svg")
    assert svg.lstrip().startswith(b"<svg") and "备货".encode() in svg
    assert export.figure_bytes(fig, "pdf").startswith(b"%PDF")
    browser = export._browser
    assert browser is not None
    export.figure_bytes(fig, "png")
    assert export._browser is browser  # one browser per process, not one per chart


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        export.figure_bytes(go.Figure(), "gif")
    with pytest.raises(ValueError):
        export.table_bytes(pd.DataFrame(), "ods")


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "order": ["SO1", "SO2"], "customer": ["杭州恒远机电", "acme"],
        "completed": pd.to_datetime([datetime(2026, 11, 16, 5, 10, tzinfo=timezone.utc), pd.NaT], utc=True),
        "late_by_h": [133.25, None],
    })


def test_xlsx_holds_local_times_without_zone():
    original = frame()
    book = openpyxl.load_workbook(io.BytesIO(export.table_bytes(original, "xlsx", "Asia/Shanghai", "late")))
    rows = list(book["late"].iter_rows(values_only=True))
    assert rows[0] == ("order", "customer", "completed", "late_by_h")
    assert rows[1] == ("SO1", "杭州恒远机电", datetime(2026, 11, 16, 13, 10), 133.25)
    assert rows[2][2:] == (None, None)
    assert str(original["completed"].dtype) == "datetime64[us, UTC]", "input not changed"


def test_csv_is_utf8_with_bom_and_local_times():
    text = export.table_bytes(frame(), "csv", "Asia/Shanghai")
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[1] == "SO1,杭州恒远机电,2026-11-16 13:10:00,133.25"


def test_sheet_names_are_valid():
    assert export.sheet_name("a/b: [c]?" + "x" * 40) == ("a_b_ _c__" + "x" * 40)[:31]


def test_xlsx_cells_carry_number_and_date_formats():
    data = frame().assign(delay_rate=[0.14814814814, 0.5], kpi=[0.25, 139.46])
    formats = {"late_by_h": export.HOURS_FORMAT, "delay_rate": export.PERCENT_FORMAT,
               "kpi": [export.PERCENT_FORMAT, export.HOURS_FORMAT]}   # one format per row
    book = openpyxl.load_workbook(io.BytesIO(export.table_bytes(data, "xlsx", "Asia/Shanghai", "late",
                                                                formats=formats)))
    sheet = book["late"]
    header = [c.value for c in sheet[1]]
    cell = {name: sheet.cell(row=2, column=header.index(name) + 1) for name in header}
    assert cell["delay_rate"].value == pytest.approx(0.14814814814)   # still the number
    assert cell["delay_rate"].number_format == "0.0%"
    assert cell["late_by_h"].number_format == "#,##0.0"
    assert cell["kpi"].number_format == "0.0%"
    assert sheet.cell(row=3, column=header.index("kpi") + 1).number_format == "#,##0.0"
    assert cell["completed"].is_date and cell["completed"].number_format == "yyyy-mm-dd hh:mm"
    assert cell["completed"].value == datetime(2026, 11, 16, 13, 10)   # local, Asia/Shanghai
    with pytest.raises(ValueError):
        export.table_bytes(data, "xlsx", formats={"kpi": ["0.0%"]})   # one format for two rows

# -- without a browser, or with one that fails: an answer at once, never a hang ----------


@pytest.fixture
def no_browser(tmp_path, monkeypatch):
    """A PATH with no browser on it and no BROWSER_PATH."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    export.stop_export_server()
    yield
    export.stop_export_server()


def test_no_browser_on_path_is_one_line_saying_how_to_install_one(no_browser):
    with pytest.raises(export.BrowserMissing) as missing:
        export.figure_bytes(week_trend_figure(trend(), "en", "light"), "png")
    message = str(missing.value)
    assert "\n" not in message
    assert "Chromium" in message and "apt-get install chromium" in message and "BROWSER_PATH" in message
    assert export._browser is None, "nothing was started"


def test_browser_path_that_is_not_a_browser_is_named(no_browser, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "chrome-that-is-not-there"))
    with pytest.raises(export.BrowserMissing, match=r"BROWSER_PATH=.*chrome-that-is-not-there"):
        export.figure_bytes(go.Figure(), "svg")


def fake_browser(tmp_path, body: str) -> str:
    script = tmp_path / "fake-chromium"
    script.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_a_browser_that_dies_at_start_is_an_export_error(no_browser, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", fake_browser(tmp_path, "exit 1"))
    with pytest.raises(export.ExportError, match="starting the export browser failed"):
        export.figure_bytes(go.Figure(), "png")
    assert export._browser is None


def test_a_browser_that_hangs_is_given_up_and_killed(no_browser, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", fake_browser(tmp_path, "exec /bin/sleep 600"))
    monkeypatch.setattr(export, "START_TIMEOUT_S", 2.0)
    with pytest.raises(export.ExportError, match="starting the export browser took longer than 2 s"):
        export.figure_bytes(go.Figure(), "png")
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left behind
    assert export._browser is None


def test_waiting_behind_another_export_is_bounded(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/bin/true")  # found, never started: the wait is first
    monkeypatch.setattr(export, "QUEUE_TIMEOUT_S", 0.2)
    with export._lock, pytest.raises(export.ExportError, match="busy"):  # another export holds the browser
        export.figure_bytes(go.Figure(), "png")


@pytest.mark.usefixtures("export_browser_present")
def test_charts_draw_chinese_on_a_machine_without_a_cjk_font(tmp_path, monkeypatch):
    """The export browser sees the package's font even where fontconfig knows only a
    Latin font: two different characters come out as two different pictures (missing
    glyphs would both be the same empty box)."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "DejaVuSans.ttf").symlink_to("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    conf = tmp_path / "latin.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir>'
                    f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    export.stop_export_server()  # a browser started with the machine's fonts must not be reused
    try:
        pictures = [
            export.figure_bytes(go.Figure(layout={"title": {"text": ch, "font": {"size": 120}}}),
                                "png", width=300, height=200, scale=1)
            for ch in ("订", "单")
        ]
    finally:
        export.stop_export_server()
    assert pictures[0].startswith(b"\x89PNG") and pictures[0] != pictures[1]
    assert os.environ["FONTCONFIG_FILE"] == str(conf)  # the process's own setting is left as it was

"""The weekly PDF report needs nothing from the machine: its text (Chinese, Latin letters,
digits) is drawn in the font the package brings, embedded, so page 1 renders the same with
the system's fonts out of reach (no CJK font at all, or only a CJK font without Latin
glyphs as Droid Sans Fallback is); and without a browser the report is still written,
with its tables and a note where each chart would be, by a command that says why."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from stores import demo_sqlite_url

from dashboard.report import fonts, pdf
from datasource.pipeline import default_pipeline
from datasource.store import make_engine
from metrics.review import build_weekly_report
from metrics.window import Window

END = datetime(2026, 11, 25, tzinfo=timezone.utc)
NOW = "2026-11-25T08:00:00+08:00"
WEEK = "2026-W47"
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    return demo_sqlite_url(tmp_path_factory.mktemp("report-pdf"), 400, END)


@pytest.fixture(scope="module")
def report(store_url):
    engine = make_engine(store_url)
    pipeline = default_pipeline()
    try:
        return build_weekly_report(engine, pipeline, Window.iso_week(WEEK, pipeline.timezone),
                                   datetime.fromisoformat(NOW))
    finally:
        engine.dispose()


def without_browser(monkeypatch, tmp_path) -> None:
    (tmp_path / "bin").mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("BROWSER_PATH", raising=False)


@pytest.fixture(scope="module")
def pdfs(report, tmp_path_factory) -> dict[str, bytes]:
    """The report in both languages, charts left out (no browser): the text is the subject."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        without_browser(monkeypatch, tmp_path_factory.mktemp("nobrowser"))
        return {lang: pdf.report_pdf(report, lang) for lang in ("zh", "en")}


def page_text(data: bytes, page: int = 0) -> str:
    return PdfReader(io.BytesIO(data)).pages[page].extract_text()


# -- the text ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang, title, label", [("zh", "每周履约复盘", "延误率"),
                                                ("en", "Weekly fulfilment review", "Delay rate")])
def test_text_has_chinese_latin_and_digits(pdfs, report, lang, title, label):
    text = page_text(pdfs[lang])
    assert title in text and label in text
    assert f"{WEEK} · " in text  # Latin and digits in the same line as in the zh report
    assert f"{report.summary.delay.completed}" in text
    assert any("\u4e00" <= c <= "\u9fff" for c in text) == (lang == "zh")
    assert any(c.isdigit() for c in text) and any(c.isascii() and c.isalpha() for c in text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_font_is_embedded_and_is_the_packaged_one(pdfs, lang):
    reader = PdfReader(io.BytesIO(pdfs[lang]))
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            assert fonts.FONT_PREFIX in font["/BaseFont"], font["/BaseFont"]
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_font_has_a_glyph_for_every_character_drawn(report, lang):
    story = pdf._story(report, lang, pdf.PROVISIONAL_FONT, pdf.chart_images(report, lang))
    drawn = fonts.drawn_characters(fonts.flowable_texts(story))
    assert drawn - fonts.font_characters() == set()
    assert {"0", "9", "%", "·", "–", "—"} <= fonts.font_characters()


def test_the_font_is_regular_weight_and_each_character_set_gets_its_own():
    from fontTools.ttLib import TTFont

    first = fonts.register_document_font(["周报 Orders 1"])
    second = fonts.register_document_font(["延误 Late 2"])
    assert first != second and fonts.register_document_font(["周报 Orders 1"]) == first
    static = TTFont(io.BytesIO(fonts.static_font(fonts.drawn_characters(["周"]), "Probe")))
    assert "fvar" not in static and static["OS/2"].usWeightClass == 400
    assert static["name"].getDebugName(6) == "Probe"
    assert {ord("周"), ord("A"), ord("7")} <= set(static.getBestCmap())


# -- rendered with the system's fonts out of reach -----------------------------------------


def pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if not found:
        message = "pdftoppm (poppler-utils) is not installed"
        if UNDER_CI:
            pytest.fail(message + "; CI must run the PDF rendering tests")
        pytest.skip(message)
    return found


def fontconfig(folder: Path, font_files: dict[str, bytes]) -> dict[str, str]:
    """Environment for a renderer that sees only ``font_files`` (no system font at all)."""
    fonts_dir = folder / "fonts"
    fonts_dir.mkdir(parents=True)
    for name, data in font_files.items():
        (fonts_dir / name).write_bytes(data)
    config = folder / "fonts.conf"
    config.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{fonts_dir}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>
""")
    return {**os.environ, "FONTCONFIG_FILE": str(config), "HOME": str(folder)}


@pytest.fixture(scope="module")
def droid_like_font(report) -> bytes:
    """A stand-in for Droid Sans Fallback: the Chinese the report draws, no Latin letters
    or digits."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    story = pdf._story(report, "zh", pdf.PROVISIONAL_FONT, {c.id: "图表" for c in pdf.CHARTS})
    chinese = frozenset(c for c in fonts.drawn_characters(fonts.flowable_texts(story)) if c >= "\u2e80")
    font = TTFont(io.BytesIO(fonts.static_font(chinese, "DroidSansFallback")))
    font["name"].setName("Droid Sans Fallback", 1, 3, 1, 0x409)
    font["glyf"][".notdef"] = Glyph()  # as in Droid: a character it lacks draws as nothing
    assert len(chinese) > 100 and not any(chr(c).isascii() and chr(c).isalnum() for c in font.getBestCmap())
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def render_page_1(data: bytes, folder: Path, env: dict[str, str]) -> tuple[Image.Image, str]:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "report.pdf"
    source.write_bytes(data)
    done = subprocess.run([pdftoppm(), "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile",
                           str(source), str(folder / "page")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return Image.open(folder / "page.png").convert("L"), done.stderr


def ink(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Dark pixels (text, not the table's pale fills) in ``box`` = (left, top, right, bottom)
    as fractions of the page."""
    w, h = image.size
    left, top, right, bottom = box
    area = image.crop((int(left * w), int(top * h), int(right * w), int(bottom * h)))
    return sum(n for level, n in enumerate(area.histogram()) if level < 200)


TITLE = (0.05, 0.05, 0.6, 0.09)
KPI_LABELS = (0.05, 0.22, 0.4, 0.43)  # Chinese in zh, Latin in en
KPI_NUMBERS = (0.45, 0.22, 0.75, 0.43)  # digits only: this period and the previous one
BLANK = (0.0, 0.6, 1.0, 0.9)  # nothing on page 1 there without charts


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("machine", ["no CJK font", "only Droid Sans Fallback"])
def test_page_1_renders_the_same_with_the_system_fonts_out_of_reach(pdfs, droid_like_font, lang, machine,
                                                                   tmp_path):
    system, _ = render_page_1(pdfs[lang], tmp_path / "system", dict(os.environ))
    hidden_fonts = {} if machine == "no CJK font" else {"DroidSansFallbackFull.ttf": droid_like_font}
    page, warnings = render_page_1(pdfs[lang], tmp_path / "hidden", fontconfig(tmp_path / "fc", hidden_fonts))
    assert "font" not in warnings.lower(), warnings
    assert ImageChops.difference(page, system).getbbox() is None, "the machine's fonts changed the page"
    # Drawn text (a line of 9.5 pt text leaves some 300 dark pixels at 60 dpi), against
    # a part of the page that is blank.
    assert ink(page, BLANK) == 0
    assert ink(page, TITLE) > 300, "no title"
    assert ink(page, KPI_LABELS) > 500, "no KPI names"
    assert ink(page, KPI_NUMBERS) > 300, "no digits"


# -- without a browser ---------------------------------------------------------------------


def test_report_without_a_browser_has_its_tables_and_a_note_for_each_chart(pdfs):
    reader = PdfReader(io.BytesIO(pdfs["en"]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.count("Charts could not be rendered: chart export needs Chromium") == len(pdf.CHARTS)
    for heading in ("KPIs against the previous period", "Per-stage changes", "Worst late orders",
                    "Exceptions by kind", "Metric definitions"):
        assert heading in text
    assert all("/XObject" not in page["/Resources"] for page in reader.pages), "no chart images"


def test_report_command_without_a_browser_exits_and_says_why(store_url, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "BROWSER_PATH"} | {"PATH": str(empty)}
    out = tmp_path / "report.pdf"
    command = [sys.executable, "-c", "from orderboard.cli import app; app()", "report", "--db", store_url,
               "--week", WEEK, "--format", "pdf", "--out", str(out), "--now", NOW, "--lang", "en"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)  # never a hang
    assert done.returncode == 0, done.stderr
    assert f"wrote the pdf report of {WEEK}" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "chart export needs Chromium" in lines[0], done.stderr
    assert "apt-get install chromium" in lines[0] and "BROWSER_PATH" in lines[0]
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Orders completed" in text and "Charts could not be rendered" in text

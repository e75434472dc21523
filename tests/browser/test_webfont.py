"""Screens draw Chinese with the font the app serves, in a browser whose machine has no
CJK font at all (fontconfig limited to a Latin-only folder): no empty boxes on a TV."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CHROMIUM, LAUNCH_ARGS

from dashboard.app import create_app
from dashboard.webfont import FONT_URL
from datasource.settings import Settings

LATIN_ONLY = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture
def latin_only_browser(browser, tmp_path):
    """A Chromium that sees DejaVu only (no CJK font), whatever the machine has (started by
    the session's Playwright, which one process can only run once)."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):  # some Latin font to fall back on
        if (LATIN_ONLY / name).exists():
            (fonts / name).symlink_to(LATIN_ONLY / name)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<dir>{fonts}</dir><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "FONTCONFIG_PATH": str(tmp_path)}
    latin = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS,
                                        env=env)
    yield latin
    latin.close()


def test_chinese_is_drawn_with_the_served_font(latin_only_browser, sqlite_store, tmp_path, live_server):
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    page = latin_only_browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(url + "/wall?kiosk=1")
    page.wait_for_selector(".ob-wall")
    page.evaluate("document.fonts.ready")
    page.wait_for_function("""() => [...document.fonts].some(
        f => f.family.replace(/"/g, '') === 'OrderBoard Sans' && f.status === 'loaded')""",
                           timeout=30_000)
    # Without the served font this machine has no glyph for 订单: the check is false.
    assert page.evaluate("document.fonts.check('48px \"OrderBoard Sans\"', '订单在制')")
    # The glyphs really differ from the missing-glyph box: two different characters are
    # drawn with different ink in a canvas.
    inks = page.evaluate("""() => ['订', '单'].map(ch => {
        const c = document.createElement('canvas'); c.width = c.height = 64;
        const g = c.getContext('2d'); g.font = '48px "OrderBoard Sans"'; g.fillText(ch, 4, 52);
        return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
    })""")
    assert inks[0] != inks[1]
    if os.environ.get("ORDERBOARD_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["ORDERBOARD_SCREENSHOTS"]) / "wall-latin-only-machine.png"))
    assert errors == []


def test_the_font_is_served_once_and_cached(sqlite_store, tmp_path):
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    client = create_app(settings, engine=sqlite_store.engine).server.test_client()
    first = client.get(FONT_URL)
    assert first.status_code == 200 and first.mimetype == "font/ttf"
    assert first.data[:4] == b"\x00\x01\x00\x00"  # TrueType
    assert "immutable" in first.headers["Cache-Control"]
    again = client.get(FONT_URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304

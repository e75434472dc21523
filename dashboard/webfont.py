"""The screens' font, served by the app itself: Noto Sans SC, the font the package brings
for the PDF report (``dashboard.report.fonts``). A wall TV's kiosk browser or a laptop
may have no CJK font at all (a fresh Linux has none; Droid Sans Fallback has no Latin
letters or digits), and Chinese would then show as empty boxes. With this face first in
every font stack (``assets/base.css``, ``dashboard.figures.theme``), every screen draws
Chinese, Latin and digits from one font whatever is installed.

The file is the packaged variable font (weights 100-900, 17.7 MB), sent once per browser
with a year-long cache lifetime (its URL names the font's version); ``font-display: swap``
shows the text in a local font until it has arrived.
"""

from __future__ import annotations

from flask import Flask, send_file

from dashboard.report.fonts import font_file

FONT_URL = "/_orderboard/fonts/noto-sans-sc-v1.ttf"
FONT_FAMILY = "OrderBoard Sans"
ONE_YEAR_S = 365 * 24 * 3600


def register_font_route(server: Flask) -> None:
    """Serve the font at ``FONT_URL`` (cached by browsers, conditional requests answered)."""

    def font():
        response = send_file(font_file(), mimetype="font/ttf", max_age=ONE_YEAR_S,
                             conditional=True)
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR_S}, immutable"
        return response

    server.add_url_rule(FONT_URL, "orderboard_font", font)

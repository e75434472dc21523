"""The banner says, in plain words, that data is not fresh: first line of the error only."""

from __future__ import annotations

from dashboard.components.banner import banner, stale_text, unreachable, unreachable_text


def test_a_page_starts_with_a_hidden_banner():
    assert banner("ov-banner").hidden and banner("ov-banner").className == "ob-banner"
    assert banner("wall-banner", "ob-wall-banner").className == "ob-wall-banner"


def test_unreachable_shows_the_first_line_only_and_bounded():
    error = OSError("connection refused\nhost=10.0.0.5 port=5432 password=secret")
    text = unreachable_text(error, "en")
    assert "connection refused" in text and "10.0.0.5" not in text and "secret" not in text
    assert "x" * 121 not in unreachable_text(OSError("x" * 500), "en", chars=120)
    assert unreachable(error, "en").children == text and unreachable(error, "en").className == "ob-banner"


def test_stale_text_names_the_error_in_each_language():
    assert stale_text("timeout", "en") != stale_text("timeout", "zh")

"""The banner: hidden until a page fills it, or shown in place of content that could not be read."""

from __future__ import annotations

from dashboard.components.banner import banner, shown_banner


def test_a_page_starts_with_a_hidden_banner():
    assert banner("ov-banner").hidden and banner("ov-banner").className == "ob-banner"
    assert banner("wall-banner", "ob-wall-banner").className == "ob-wall-banner"


def test_a_shown_banner_carries_its_words():
    shown = shown_banner("Order store unreachable since 14:03")
    assert shown.children == "Order store unreachable since 14:03" and shown.className == "ob-banner"
    assert "hidden" not in shown.to_plotly_json()["props"]

"""The one rule for choosing a label's language: screens default to Chinese, ``en`` picks
English. Word tables stay beside the modules that use them as (zh, en) pairs."""

from __future__ import annotations


def pick(pair: tuple[str, str], lang: str) -> str:
    """The English half of a (zh, en) pair for ``lang == "en"``, otherwise the Chinese."""
    zh, en = pair
    return en if lang == "en" else zh

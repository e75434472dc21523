"""The word tables (``dashboard.words``) and the ``lang`` setting."""

from __future__ import annotations

import re
import string

import pytest

from dashboard import words
from dashboard.url_state import ViewState, href, parse, to_search, with_lang
from datasource.settings import SettingError, load_settings


def test_word_picks_the_language_and_fills_the_fields():
    assert words.word("stage", "total", "zh", n="1,234") == "共 1,234 单"
    assert words.word("stage", "total", "en", n="1,234") == "1,234 rows"
    assert words.word("common", "back_home", "en") == "Back to the overview"


def test_an_unknown_word_or_language_is_an_error_naming_it():
    with pytest.raises(KeyError, match=r"'nope'.*'overview'"):
        words.word("overview", "nope", "zh")
    with pytest.raises(ValueError, match="'fr'"):
        words.word("overview", "title", "fr")
    assert words.word("kinds", "odd_kind", "en", default=("odd", "Odd")) == "Odd"


def test_exception_kinds_known_and_unknown():
    assert words.kind_label("shortage", "zh") == "缺料"
    assert words.kind_label("shortage", "en") == "Shortage"
    assert words.kind_label("late_truck", "en") == "Late truck"


def test_resolve_lang_takes_a_known_language_else_the_default():
    assert words.resolve_lang("en", "zh") == "en"
    assert words.resolve_lang(" EN ", "zh") == "en"
    assert words.resolve_lang("fr", "en") == "en"
    assert words.resolve_lang(None, "en") == "en"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("domain", sorted(words.TABLES))
def test_every_word_has_both_languages_with_the_same_fields(domain):
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key, (zh, en) in words.TABLES[domain].items():
        assert zh and en, (domain, key)
        assert _fields(zh) == _fields(en), (domain, key)
        assert not cjk.search(en), (domain, key, en)


def test_the_pages_keep_no_word_tables_of_their_own():
    """Tables of (zh, en) pairs live in dashboard/words only."""
    from pathlib import Path

    root = Path(words.__file__).resolve().parent.parent
    pair = re.compile(r'\(\s*"[^"]*[\u4e00-\u9fff][^"]*",\s*"[A-Za-z][^"]*"\s*\)')
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "words" not in p.parts and pair.search(p.read_text("utf-8"))]
    assert offenders == []


# -- the lang setting --------------------------------------------------------------------

def test_lang_defaults_to_zh_and_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    monkeypatch.delenv("ORDERBOARD_LANG", raising=False)
    assert load_settings().lang == "zh"
    monkeypatch.setenv("ORDERBOARD_LANG", "en")
    assert load_settings().lang == "en"


def test_lang_comes_from_the_config_file_and_the_environment_wins(monkeypatch, tmp_path):
    monkeypatch.delenv("ORDERBOARD_LANG", raising=False)
    config = tmp_path / "orderboard.toml"
    config.write_text('[orderboard]\nlang = "en"\n', "utf-8")
    assert load_settings(config_file=str(config)).lang == "en"
    monkeypatch.setenv("ORDERBOARD_LANG", "zh")
    assert load_settings(config_file=str(config)).lang == "zh"


@pytest.mark.parametrize("value", ["fr", "english", "zh-CN"])
def test_an_unknown_lang_is_a_clear_error(monkeypatch, value):
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    monkeypatch.setenv("ORDERBOARD_LANG", value)
    with pytest.raises(SettingError, match=f"lang = '{value}'.*zh or en.*ORDERBOARD_LANG"):
        load_settings()


def test_the_cli_says_a_bad_lang_in_one_line(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from orderboard.cli import app

    monkeypatch.setenv("ORDERBOARD_LANG", "fr")
    result = CliRunner().invoke(app, ["metrics", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "lang = 'fr' is not a language of OrderBoard" in result.output
    assert "Traceback" not in result.output


# -- ?lang= in the URL state and the switch ----------------------------------------------

def test_the_url_keeps_lang_and_links_carry_it():
    state = parse("?days=30&line=Line+A&lang=en")
    assert state.lang == "en"
    assert parse(to_search(state)) == state
    link = href("/stages/all", state.scope().with_(metric="wip"))
    assert link == "/stages/all?days=30&line=Line+A&metric=wip&lang=en"
    assert parse("?lang=fr").lang is None and to_search(ViewState()) == ""


def test_the_switch_keeps_every_other_parameter():
    assert with_lang("/", "?days=30&line=Line+A&lang=zh", "en") == "/?days=30&line=Line+A&lang=en"
    assert with_lang("/review", "?week=2026-W46", "zh") == "/review?week=2026-W46&lang=zh"
    assert with_lang("/stages/produced", "", "en") == "/stages/produced?lang=en"

"""The README is the product's front door: its commands, settings and CLI table stay true."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from datasource.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```(?:sh|bash)\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_exactly_two_setup_commands():
    before_first_section = README.split("\n## ", 1)[0]
    blocks = code_blocks(before_first_section)
    assert len(blocks) == 2
    demo, tests = blocks
    assert "\n" not in demo and "\n" not in tests, "each is one command line"
    assert demo.startswith("python3 -m venv .venv && ") and demo.endswith("orderboard demo")
    assert "http://127.0.0.1:8050" in before_first_section
    assert tests.startswith("python3 -m venv .venv && ") and '".[test]"' in tests
    assert tests.endswith("-m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    tests_command = code_blocks(README.split("\n## ", 1)[0])[1]
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert tests_command in commands
    # after the tests, only the lint and type gate
    assert commands[commands.index(tests_command) + 1:] == [
        'log "ruff"', ".venv/bin/ruff check .", 'log "mypy"', ".venv/bin/mypy"]
    assert "export CI=true" in commands
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    row = next((line for line in README.splitlines()
                if line.startswith("|") and f"`{setting.env}`" in line), None)
    assert row is not None, f"{setting.env} is missing from the README"
    assert f"`{setting.name}`" in row
    if setting.default:
        assert f"`{setting.default}`" in row


def test_every_command_is_in_the_cli_table():
    from orderboard.cli import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}  # orderboard mapping ..., alerts ...
    documented = set(re.findall(r"^\| `orderboard (\w+)", README, flags=re.M))
    assert names == documented


def test_production_section_names_the_wsgi_entry_point_and_the_worker():
    assert "gunicorn -w 4" in README and "'dashboard.wsgi:server'" in README
    assert "orderboard worker" in README
    import dashboard.wsgi

    assert callable(dashboard.wsgi.server)


def test_every_mapping_key_is_documented():
    from datasource.importers.mapping import TOP_KEYS

    section = README.split("## Importing ledgers", 1)[1].split("\n## ", 1)[0]
    keys = set(re.findall(r"^\| `\[?(\w+)\]?` \|", section, flags=re.M))
    assert keys == TOP_KEYS

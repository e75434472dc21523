"""Fault drills against the whole system: real gunicorn, PostgreSQL, Redis and Chromium.

Each drill starts its own system (``system.System``: a PostgreSQL schema, a redis-server
on a free port, gunicorn on another) and three wall screens, breaks one thing and asserts
what the screens and the server's logs show. Without PostgreSQL, redis-server or Chromium
the drills skip with the reason, except under CI, where they fail.

The figures each drill measured are printed at the end of the run (and, when
``ORDERBOARD_DRILL_FIGURES`` names a file, written there as a Markdown table):
docs/reliability.md keeps those of a run, with the command.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from drills.system import System

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FIGURES: list[tuple[str, str, str]] = []  # (drill, figure, value)


def _missing(message: str) -> None:
    if UNDER_CI:
        pytest.fail(message + "; CI must run the fault drills")
    pytest.skip(message)


@pytest.fixture
def figure():
    """``figure(drill, name, value)`` records a measured figure for the run's summary."""
    return lambda drill, name, value: FIGURES.append((drill, name, str(value)))


@pytest.fixture(params=["postgresql"])
def system(request, tmp_path) -> Iterator[System]:
    """A running system over a PostgreSQL schema; a drill parametrised with
    ``@pytest.mark.parametrize("system", ["sqlite"], indirect=True)`` gets a SQLite file."""
    if shutil.which("redis-server") is None:
        _missing("redis-server not found (apt-get install redis-server)")
    sqlite = request.param == "sqlite"
    pg_url = "" if sqlite else request.getfixturevalue("pg_url")
    running = System(pg_url, tmp_path, sqlite=sqlite)
    try:
        yield running.start()
    finally:
        running.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    rows = ["| drill | figure | value |", "|---|---|---|"]
    rows += [f"| {d} | {n} | {v} |" for d, n, v in FIGURES]
    terminalreporter.write_sep("-", "fault drill figures")
    terminalreporter.write_line("\n".join(rows))
    target = os.environ.get("ORDERBOARD_DRILL_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write("\n".join(rows) + "\n")

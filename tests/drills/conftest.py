"""Fault drills against the whole system: real gunicorn, PostgreSQL, Redis and Chromium.

Each drill starts its own system (``system.System``: a PostgreSQL schema, a redis-server
on a free port, gunicorn on another) and three wall screens, breaks one thing and asserts
what the screens and the server's logs show. Without PostgreSQL, redis-server or Chromium
the drills skip with the reason, except under CI, where they fail.

The figures each drill measured are printed at the end of the run (and, when
``ORDERBOARD_DRILL_FIGURES`` names a file, written there as a Markdown table):
docs/reliability.md keeps those of a run, with the command. The ``figure`` fixture that
records them, and the summary, are in tests/conftest.py: a figure travels with its test's
report, so that the summary has it when the tests run in worker processes (pytest-xdist).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from drills.system import System

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(message: str) -> None:
    if UNDER_CI:
        pytest.fail(message + "; CI must run the fault drills")
    pytest.skip(message)


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


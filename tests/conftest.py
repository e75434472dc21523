"""Shared fixtures: a fresh store per test on SQLite and on PostgreSQL.

PostgreSQL tests use the server on 127.0.0.1 (ORDERBOARD_TEST_PG_URL overrides it); each
test gets its own schema and drops only that schema. Without a server they skip with the
reason, except under CI (CI=true) where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text

from datasource import accounts
from datasource.pipeline import Pipeline, default_pipeline
from datasource.store import open_store

PG_URL = os.environ.get("ORDERBOARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(url: str) -> str | None:
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


_pg_problem: list[str | None] = []


def require_postgres() -> None:
    if not _pg_problem:
        _pg_problem.append(_reachable(PG_URL))
    problem = _pg_problem[0]
    if problem:
        message = f"PostgreSQL at {PG_URL} is not reachable ({problem})"
        if UNDER_CI:
            pytest.fail(message + "; CI must run the PostgreSQL tests")
        pytest.skip(message)


def require_data_file(path, what: str, variable: str):
    """``path`` of a file from ../shared/data; skips when it is missing, with where to set
    it (``variable``), except under CI, where the test fails: CI must run it."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        message = f"{what} is not at {path} (set {variable})"
        if UNDER_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def export_browser_present() -> str:
    """The browser chart export uses (Chromium on PATH or BROWSER_PATH). Without one a
    chart-export test skips with the reason, like the browser tests, except under CI,
    where it fails: CI must run it. (What users see without one is tested on its own.)"""
    from dashboard.export import BrowserMissing, export_browser

    try:
        return export_browser()
    except BrowserMissing as exc:
        if UNDER_CI:
            pytest.fail(f"{exc}; CI must run the chart-export tests")
        pytest.skip(str(exc))


@dataclass
class StoreHandle:
    """An initialised, empty store: engine, its URL (with schema for PostgreSQL) and pipeline."""

    engine: Engine
    url: str
    pipeline: Pipeline
    backend: str


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> str:
    """The server's URL, for a test that makes (and drops) a schema of its own."""
    require_postgres()
    return PG_URL


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; yields its URL."""
    require_postgres()
    schema = f"ob_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _make_store(backend: str, tmp_path, request) -> StoreHandle:
    pipeline = default_pipeline()
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_schema")
    engine = open_store(url, pipeline)
    return StoreHandle(engine, url, pipeline, backend)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path) -> Iterator[StoreHandle]:
    """An empty store, once on SQLite and once on PostgreSQL."""
    handle = _make_store(request.param, tmp_path, request)
    yield handle
    handle.engine.dispose()


@pytest.fixture
def sqlite_store(request, tmp_path) -> Iterator[StoreHandle]:
    handle = _make_store("sqlite", tmp_path, request)
    yield handle
    handle.engine.dispose()


@pytest.fixture
def pipeline() -> Pipeline:
    return default_pipeline()


# Argon2id at its cheapest (one pass over 8 KiB): the same algorithm and code paths as the
# product's parameters (datasource.accounts.HASHER), without their 0.15 s per hash and per
# check. Hundreds of logins and new users across the suite cost about a minute otherwise.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[PasswordHasher]:
    """Passwords hashed with ``QUICK_HASHER`` in this process; yields the product's hasher,
    which ``product_password_hasher`` puts back for a test about its parameters. (Servers
    the tests start as processes of their own, gunicorn in the drills, hash with the
    product's.)"""
    product = accounts.HASHER
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "HASHER", QUICK_HASHER)
        patch.setattr(accounts, "_DUMMY", [])
        yield product


@pytest.fixture
def product_password_hasher(quick_password_hashes, monkeypatch) -> PasswordHasher:
    """The product's password hasher, in place for this test."""
    monkeypatch.setattr(accounts, "HASHER", quick_password_hashes)
    monkeypatch.setattr(accounts, "_DUMMY", [])
    return quick_password_hashes


class BrokenCache:
    """A cache whose every call fails with ``error`` (a cache must never be a point of failure)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, key):
        raise self.error

    def set(self, key, value, timeout=None):
        raise self.error

    def delete(self, key):
        raise self.error


CHROMIUM = os.environ.get("ORDERBOARD_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-extensions",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per session (Playwright, system browser), for the browser tests
    and the fault drills: a second sync Playwright in one process is refused. Missing
    Chromium skips with the reason, except under CI, where it fails."""
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if UNDER_CI:
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


# Figures the fault drills measure (tests/drills/), recorded in their tests' reports and
# gathered from those: here, because only this conftest is loaded in every process, the
# one that prints the summary included when pytest-xdist runs the tests in workers.
DRILL_FIGURE = "drill figure"
_drill_figures: list[tuple[str, str, str]] = []  # (drill, figure, value)


@pytest.fixture
def figure(request):
    """``figure(drill, name, value)`` records a measured figure for the run's summary."""
    return lambda drill, name, value: request.node.user_properties.append(
        (DRILL_FIGURE, (drill, name, str(value))))


def pytest_runtest_logreport(report) -> None:
    if report.when == "call":
        _drill_figures.extend(tuple(value) for key, value in report.user_properties if key == DRILL_FIGURE)


def pytest_terminal_summary(terminalreporter, config) -> None:
    if not _drill_figures or hasattr(config, "workerinput"):
        return
    rows = ["| drill | figure | value |", "|---|---|---|"]
    rows += [f"| {d} | {n} | {v} |" for d, n, v in _drill_figures]
    terminalreporter.write_sep("-", "fault drill figures")
    terminalreporter.write_line("\n".join(rows))
    target = os.environ.get("ORDERBOARD_DRILL_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write("\n".join(rows) + "\n")


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        from tests.parallel import OneWorkerEach

        config.pluginmanager.register(OneWorkerEach(), "orderboard-one-worker-each")

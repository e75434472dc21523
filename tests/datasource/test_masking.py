"""Secrets are never printed or logged: every URL the product shows has its password masked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from datasource.masking import masked_url
from orderboard import serving
from orderboard.cli import app

SECRET = "s3cret-pw"
runner = CliRunner()


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:5432/test?options=-csearch_path%3Dx",
     "postgresql+psycopg://postgres:***@127.0.0.1:5432/test?options=-csearch_path%3Dx"),
    ("redis://:s3cret-pw@cache:6379/0", "redis://:***@cache:6379/0"),
    ("rediss://user:s3cret%40pw@cache/1", "rediss://user:***@cache/1"),
    ("smtp://mailer:s3cret-pw@mail:587?from=ob@example.com", "smtp://mailer:***@mail:587?from=ob@example.com"),
    ("postgresql://db.example/orders?password=s3cret-pw&sslmode=require",
     "postgresql://db.example/orders?password=***&sslmode=require"),
    ("postgresql://u:s3cret-pw@[::1:5432/db", "postgresql://u:***@[::1:5432/db"),  # unparsable
    ("postgresql+psycopg://postgres@127.0.0.1/test", "postgresql+psycopg://postgres@127.0.0.1/test"),
    ("sqlite:////var/lib/orderboard/store.db", "sqlite:////var/lib/orderboard/store.db"),
    ("sqlite:///orderboard.db", "sqlite:///orderboard.db"),
    (None, ""),
])
def test_masked_url(url, shown):
    assert masked_url(url) == shown


def with_password(url: str) -> str:
    """The test server's URL with a password in it (the server trusts local connections,
    so any password lets the command in, and it must then never show it)."""
    assert "postgres@" in url
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


@pytest.mark.postgres
def test_init_and_errors_mask_the_password(pg_schema):
    url = with_password(pg_schema)
    result = runner.invoke(app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert "initialised postgresql+psycopg://postgres:***@127.0.0.1" in result.output
    assert SECRET not in result.output
    bad = runner.invoke(app, ["init", "--db", f"mysql://root:{SECRET}@db/orders"])
    assert bad.exit_code == 2 and "mysql://root:***@db/orders is not a store URL" in bad.output
    assert SECRET not in bad.output


@pytest.mark.postgres
def test_worker_and_demo_refusals_mask_the_password(pg_schema, monkeypatch):
    url = with_password(pg_schema)
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    # The worker's start line: the real command up to the point where it would block.
    seen = {}
    monkeypatch.setattr(serving, "run_worker",
                        lambda settings, demo, seed, on_start: seen.update(ids=on_start(["weekly-report"])))
    started = runner.invoke(app, ["worker", "--db", url])
    assert started.exit_code == 0 and "for postgresql+psycopg://postgres:***@" in started.output
    monkeypatch.undo()
    refused = runner.invoke(app, ["worker", "--db", url, "--demo"])
    assert refused.exit_code == 1 and "postgres:***@" in refused.output
    for result in (started, refused):
        assert SECRET not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_until(args: list[str], ready: str, env: dict, url_to_get: str | None = None,
               wait_s: float = 120) -> str:
    """Run ``orderboard ARGS`` until a line containing ``ready`` is printed (and, when
    given, ``url_to_get`` answers), then stop it with SIGTERM; all it printed (stdout
    and stderr, logs included)."""
    proc = subprocess.Popen([sys.executable, "-m", "orderboard.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if ready in line:
                break
        assert any(ready in line for line in lines), "".join(lines)
        if url_to_get:
            for _ in range(100):
                try:
                    urllib.request.urlopen(url_to_get, timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    return "".join(lines) + (rest or "")


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["serve", "worker", "demo"])
def test_running_commands_never_print_or_log_the_password(pg_schema, command):
    """The real processes (the server answering a page, the worker running its jobs):
    nothing they print or log holds the store's or the cache's password."""
    url = with_password(pg_schema)
    env = {**os.environ, "ORDERBOARD_CACHE_URL": f"redis://:{SECRET}@127.0.0.1:1/0",
           "ORDERBOARD_DATABASE_URL": url}
    port = _free_port()
    if command == "serve":
        assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
        out = _run_until(["serve", "--port", str(port), "--no-jobs"], "dashboard:", env,
                         f"http://127.0.0.1:{port}/")
        assert "store: postgresql+psycopg://postgres:***@" in out and "cache: redis://:***@" in out
    elif command == "worker":
        assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
        out = _run_until(["worker"], "worker: running", env)
        assert "for postgresql+psycopg://postgres:***@" in out
    else:
        out = _run_until(["demo", "--db", url, "--orders", "40", "--port", str(port)], "dashboard:", env,
                         f"http://127.0.0.1:{port}/")
        assert "demo store: postgresql+psycopg://postgres:***@" in out
    assert SECRET not in out

"""A server other computers reach needs logins: `serve` and `demo` refuse a non-loopback
host without the secret key, in one line, before touching any store."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from datasource.settings import Settings
from orderboard.cli import app
from orderboard.serving import NoLoginBeyondThisComputer, check_exposure


@pytest.mark.parametrize("command", [["serve"], ["demo", "--no-feed"]])
def test_a_public_host_without_logins_is_refused_in_one_line(command, tmp_path, monkeypatch):
    monkeypatch.delenv("ORDERBOARD_SECRET_KEY", raising=False)
    db = tmp_path / "never.db"
    result = CliRunner().invoke(app, [*command, "--host", "0.0.0.0", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --host 0.0.0.0")
    assert "ORDERBOARD_SECRET_KEY" in lines[0]
    assert not db.exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_this_computer_needs_no_login(host):
    check_exposure(Settings(), host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "board.example.com"])
def test_other_hosts_need_the_secret_key(host):
    with pytest.raises(NoLoginBeyondThisComputer):
        check_exposure(Settings(), host)
    check_exposure(Settings(secret_key="x" * 40), host)

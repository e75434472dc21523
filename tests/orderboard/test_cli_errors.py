"""What a person sees when the command line refuses: one line on stderr, in the terms
they typed, the documented exit status, no traceback and nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text
from typer.main import get_command
from typer.testing import CliRunner

from datasource.settings import load_settings
from datasource.store import make_engine, open_store
from orderboard.cli import EXIT_STATUS, app

runner = CliRunner()
NOW = "2026-11-21T08:00:00+08:00"
# Every command that only reads the store.
READ_ONLY = [
    ["metrics"],
    ["metrics", "--json", "--from", "2026-11-02", "--to", "2026-11-08"],
    ["report", "--out", "r.pdf"],
    ["report", "--out", "r.xlsx", "--week", "2026-W45"],
    ["quality"],
    ["serve", "--port", "8097"],
]


def invoke(*args: str):
    return runner.invoke(app, list(args), prog_name="orderboard")


def one_error_line(result, code: int) -> str:
    """The single ``error: ...`` line of a refused command (its text without the prefix)."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """An empty working directory and no store configured: the default orderboard.db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERBOARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_missing_store_is_one_line_and_no_empty_file_is_left(here, args):
    message = one_error_line(invoke(*args), 1)
    assert message == ("no order store at orderboard.db; create it with 'orderboard init' "
                       "(then 'orderboard import FILE'), or run 'orderboard demo' and pass "
                       "--db sqlite:///orderboard-demo.db")
    assert list(here.iterdir()) == []


def test_the_installed_command_leaves_no_empty_store_either(here):
    """As a person runs it: the console script, in a directory without a store."""
    script = Path(sys.executable).with_name("orderboard")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(here)}
    for args in (["metrics"], ["report", "--out", "week.xlsx"]):
        done = subprocess.run([str(script), *args], cwd=here, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert done.stderr.splitlines() == [
            "error: no order store at orderboard.db; create it with 'orderboard init' (then "
            "'orderboard import FILE'), or run 'orderboard demo' and pass --db sqlite:///orderboard-demo.db"]
    assert list(here.iterdir()) == []


@pytest.mark.postgres
def test_a_postgresql_database_without_the_schema_is_the_same_line(pg_schema):
    message = one_error_line(invoke("metrics", "--db", pg_schema), 1)
    assert message.startswith(f"no order store at {pg_schema} (it has none of OrderBoard's tables); "
                              "create it with 'orderboard init'")
    engine = make_engine(pg_schema)
    with engine.connect() as conn:  # and nothing was created there
        assert conn.execute(text("select count(*) from information_schema.tables "
                                 "where table_schema = current_schema()")).scalar_one() == 0
    engine.dispose()


def test_an_unreachable_server_is_one_line_without_the_create_hint(here):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1
    message = one_error_line(invoke("metrics", "--db", url), 1)
    assert message.startswith(f"cannot use the order store {url}: ")
    assert "orderboard init" not in message
    assert one_error_line(invoke("init", "--db", url), 1).startswith(f"cannot use the order store {url}: ")
    example = Path(__file__).resolve().parents[2] / "examples" / "eventlog"
    message = one_error_line(invoke("import", str(example / "events.csv"), "--mapping",
                                    str(example / "mapping.toml"), "--db", url), 1)
    assert message.startswith(f"cannot use the order store {url}: ")
    assert message.endswith("(run the same import again when it is back: rows already stored change nothing)")


def test_a_store_made_before_a_table_existed_says_how_to_bring_it_up_to_date(here):
    url = f"sqlite:///{here / 'old.db'}"
    engine = open_store(url, load_settings().pipeline)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_log"))
    engine.dispose()
    message = one_error_line(invoke("quality", "--db", url), 1)
    assert message == (f"the order store {here / 'old.db'} lacks the tables audit_log (made by an "
                       "older OrderBoard); bring it up to date with 'orderboard init' (with the same --db)")
    assert invoke("init", "--db", url).exit_code == 0
    assert invoke("quality", "--db", url).stdout == "no data-quality findings\n"


BAD_VALUES = [
    (["metrics", "--from", "2026-13-01"], "--from 2026-13-01 is not a date (YYYY-MM-DD)"),
    (["metrics", "--to", "2026-02-30"], "--to 2026-02-30 is not a date (YYYY-MM-DD)"),
    (["metrics", "--from", "yesterday"], "--from yesterday is not a date (YYYY-MM-DD)"),
    (["metrics", "--from", "2026-W45-1"], "--from 2026-W45-1 is not a date (YYYY-MM-DD)"),
    (["metrics", "--from", "2026-11-10", "--to", "2026-11-03"], "--from 2026-11-10 is after --to 2026-11-03"),
    (["metrics", "--from", "2026-11-22", "--now", NOW],
     "--from 2026-11-22 is after --to 2026-11-21 (the day of --now)"),
    (["metrics", "--now", "2026-11-21 08:00"], "--now 2026-11-21 08:00 has no time zone (e.g. 2026-11-21T08:00:00+08:00)"),
    (["metrics", "--now", "soon"], "--now soon is not an ISO instant (e.g. 2026-11-21T08:00:00+08:00)"),
    (["metrics", "--lang", "fr"], "--lang fr is not a language of OrderBoard: choose zh or en"),
    (["report", "--out", "r.pdf", "--lang", "fr"], "--lang fr is not a language of OrderBoard: choose zh or en"),
    (["report", "--out", "r.pdf", "--week", "2026-W60"], "--week 2026-W60 is not an ISO week (YYYY-Www, e.g. 2026-W47)"),
    (["report", "--out", "r.pdf", "--week", "last"], "--week last is not an ISO week (YYYY-Www, e.g. 2026-W47)"),
    (["report", "--out", "r.pdf", "--from", "2026-11-10", "--to", "2026-11-03"],
     "--from 2026-11-10 is after --to 2026-11-03"),
    (["report", "--out", "r.pdf", "--from", "2026-11-31", "--to", "2026-12-03"],
     "--from 2026-11-31 is not a date (YYYY-MM-DD)"),
    (["report", "--out", "r.pdf", "--from", "2026-11-03"], "give both --from and --to (or --week)"),
    (["report", "--out", "r.pdf", "--week", "2026-W45", "--from", "2026-11-03", "--to", "2026-11-09"],
     "give --week or --from/--to, not both"),
    (["report", "--out", "x.xlsx", "--format", "pdf"],
     "--format pdf does not match --out x.xlsx; drop --format or change the suffix"),
    (["report", "--out", "x.txt"], "--out x.txt: the file name must end in .pdf or .xlsx"),
    (["report", "--out", "report"], "--out report: the file name must end in .pdf or .xlsx"),
    (["report", "--out", "x.pdf", "--format", "docx"], "--format docx is not a report format: choose pdf or xlsx"),
    (["metrics", "--db", "orders.db"],
     "orders.db is not a store URL: OrderBoard stores are SQLite or PostgreSQL "
     "(e.g. sqlite:///orderboard.db or postgresql+psycopg://user@host/db)"),
]


@pytest.mark.parametrize("args, message", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_a_bad_value_is_one_line_in_the_terms_typed(here, args, message):
    assert one_error_line(invoke(*args), 2) == message
    assert list(here.iterdir()) == []  # checked before any store or file is opened


def test_a_configuration_that_cannot_be_read_is_one_line(here, monkeypatch):
    (here / "broken.toml").write_text("[pipeline\n", encoding="utf-8")
    assert one_error_line(invoke("metrics", "--config", "broken.toml"), 1).startswith(
        "configuration file broken.toml: ")
    monkeypatch.setenv("ORDERBOARD_CONFIG", str(here / "gone.toml"))
    assert one_error_line(invoke("init"), 1) == (
        f"configuration file {here / 'gone.toml'}: No such file or directory")
    assert sorted(p.name for p in here.iterdir()) == ["broken.toml"]


def test_a_usage_error_is_one_line_that_points_at_the_help(here):
    assert one_error_line(invoke("metrics", "--jsn"), 2).startswith(
        "No such option: --jsn")
    assert one_error_line(invoke("metrics", "--jsn"), 2).endswith("(see: orderboard metrics --help)")
    assert one_error_line(invoke("report"), 2) == "Missing option '--out'. (see: orderboard report --help)"
    assert one_error_line(invoke("nonsense"), 2) == "No such command 'nonsense'. (see: orderboard --help)"


def test_ctrl_c_exits_130_without_a_traceback(sqlite_store, monkeypatch):
    from datasource.importers import quality

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(quality, "render_quality", interrupted)
    result = invoke("quality", "--db", sqlite_store.url)
    assert (result.exit_code, result.stdout) == (130, "")
    assert "Traceback" not in result.stderr


def commands():
    return get_command(app).commands  # name -> click command


def flags(command) -> list[str]:
    return [opt for p in command.params if getattr(p, "is_flag", False) for opt in p.opts]


def test_boolean_options_are_shown_and_taken_as_flags(here):
    seen = []
    for name, command in commands().items():
        help_text = invoke(name, "--help").stdout
        assert "<bool>" not in help_text, name
        for flag in flags(command):
            line = next(t for t in help_text.splitlines() if t.strip().startswith(flag))
            assert line.strip().split()[0] == flag and "<" not in line.split(flag, 1)[1][:3], line
            seen.append(f"{name} {flag}")
    assert {"quality --json", "metrics --json", "demo --no-feed", "serve --no-jobs", "worker --demo"} <= set(seen)
    # A flag takes no value: "--json true" is a usage error, not an option value.
    assert one_error_line(invoke("metrics", "--json", "true"), 2) == (
        "Got unexpected extra argument(s) (true) (see: orderboard metrics --help)")


def test_every_help_documents_the_exit_statuses(here):
    def flat(s: str) -> str:
        return " ".join(s.split())

    assert flat(EXIT_STATUS).startswith("Exit status: 0 done; 1 refused")
    assert flat(EXIT_STATUS) in flat(invoke("--help").stdout)
    for name in commands():
        assert flat(EXIT_STATUS) in flat(invoke(name, "--help").stdout), name


@pytest.fixture
def week_store(sqlite_store):
    from metrics_fixture import load

    load(sqlite_store.engine)
    return sqlite_store


@pytest.mark.parametrize("out_name, fmt", [("week.xlsx", None), ("WEEK.XLSX", None), ("week.xlsx", "XLSX")])
def test_the_suffix_of_out_decides_the_report_format(week_store, tmp_path, out_name, fmt):
    out = tmp_path / out_name
    args = ["report", "--db", week_store.url, "--out", str(out), "--from", "2026-11-02", "--to",
            "2026-11-08", "--now", NOW]
    result = invoke(*args, *(["--format", fmt] if fmt else []))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote the xlsx report of 2026-W45 to {out}\n"
    assert out.read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook, not PDF bytes
    assert "Report" in openpyxl.load_workbook(out).sheetnames


def test_a_report_that_cannot_be_written_is_one_line(week_store, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "week.xlsx"
    message = one_error_line(invoke("report", "--db", week_store.url, "--out", str(out), "--now", NOW), 1)
    assert message.startswith(f"cannot write {out}: ")

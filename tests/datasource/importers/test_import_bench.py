"""The import benchmark still runs (tiny size; no timing asserted)."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import bench_import
import pytest
from sqlalchemy import create_engine, text


def test_benchmark_imports_every_generated_row(capsys):
    assert bench_import.main(["--rows", "300", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rows: 300 (seed 3, ")
    assert lines[1] == "imported 300, updated 0, unchanged 0, rejected 0, warnings 0"


@pytest.mark.postgres
def test_benchmark_runs_on_postgresql_and_drops_its_schema(capsys, pg_url):
    assert bench_import.main(["--rows", "200", "--seed", "3", "--postgres", pg_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "imported 200, updated 0, unchanged 0, rejected 0, warnings 0" and lines[-1] == "store: postgresql"
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        left = conn.execute(text("select count(*) from information_schema.schemata "
                                 "where schema_name like 'ob_bench_import_%'")).scalar_one()
    engine.dispose()
    assert left == 0


def test_event_log_benchmark_stores_every_event_and_reports_wall_and_cpu(capsys):
    import bench_import_eventlog

    assert bench_import_eventlog.main(["--events", "400", "--seed", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("events: 400 (") and "imported 400, updated 0, unchanged 0, rejected 0" in lines[0]
    assert re.fullmatch(r"pandas read_csv \+ to_datetime\(utc=True\): [\d.]+ s wall, [\d.]+ s CPU",
                        lines[1])
    assert re.fullmatch(r"import into SQLite: [\d.]+ s wall, [\d.]+ s CPU \([\d,]+ events/s\)",
                        lines[2])
    assert re.fullmatch(r"ratio import / pandas: [\d.]+ wall, [\d.]+ CPU", lines[3])


def test_event_log_benchmark_tells_where_the_time_goes_part_by_part():
    # in a process of its own: the timers stay in place for the rest of the process
    import subprocess

    bench = Path(__file__).resolve().parents[3] / "bench" / "bench_import_eventlog.py"
    done = subprocess.run([sys.executable, str(bench), "--events", "400", "--seed", "5", "--parts"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    parts = {line[:52].strip(): line[52:].split() for line in done.stdout.splitlines()[6:-1]}
    assert {"SQLite: insert into order_events", "SQLite: insert into stage_visits",
            "SQLite: build the indexes", "SQLite: commit", "read rows as columns (event_columns)",
            "derive visits, states, findings (derive)"} <= set(parts)
    assert all(re.fullmatch(r"-?[\d.]+ -?[\d.]+ -?\d+%", " ".join(v)) for v in parts.values())
    assert re.fullmatch(r"SQLite [\d.]+ s CPU \(\d+%\), Python [\d.]+ s \(\d+%\)", done.stdout.splitlines()[-1])

"""The import benchmark still runs (tiny size; no timing asserted)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_import  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402


def test_benchmark_imports_every_generated_row(capsys):
    assert bench_import.main(["--rows", "300", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rows: 300 (seed 3, ")
    assert lines[1] == "imported 300, rejected 0, warnings 0"


@pytest.mark.postgres
def test_benchmark_runs_on_postgresql_and_drops_its_schema(capsys, pg_url):
    assert bench_import.main(["--rows", "200", "--seed", "3", "--postgres", pg_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "imported 200, rejected 0, warnings 0" and lines[-1] == "store: postgresql"
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        left = conn.execute(text("select count(*) from information_schema.schemata "
                                 "where schema_name like 'ob_bench_import_%'")).scalar_one()
    engine.dispose()
    assert left == 0

"""The import benchmark still runs (tiny size; no timing asserted)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_import  # noqa: E402


def test_benchmark_imports_every_generated_row(capsys):
    assert bench_import.main(["--rows", "300", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rows: 300 (seed 3, ")
    assert lines[1] == "imported 300, rejected 0, warnings 0"

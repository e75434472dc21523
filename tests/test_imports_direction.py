"""Imports flow one way: datasource <- metrics <- dashboard (checked on the source text)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "metrics": {"dash", "plotly", "flask", "flask_caching", "dashboard"},
    "datasource": {"metrics", "dashboard", "dash", "plotly", "flask"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_upwards(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources in {package}"
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert bad == []


def test_the_checker_sees_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("import plotly.express as px\nfrom dashboard.x import y\ndef f():\n    import flask\n")
    assert imported_modules(sample) == {"plotly.express", "dashboard.x", "flask"}

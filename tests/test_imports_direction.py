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


# -- inside dashboard/: pages on top of shared pieces, one module each per page -------------

# (package, packages it must not import): shared pieces never import a page, a layout never
# imports its callbacks (callbacks import their layout's component ids).
DASHBOARD_FORBIDDEN = {
    "dashboard/components": ("dashboard.layouts", "dashboard.callbacks", "dashboard.wall_frame"),
    "dashboard/layouts": ("dashboard.callbacks",),
    "dashboard/figures": ("dashboard.layouts", "dashboard.callbacks", "dashboard.components"),
}


@pytest.mark.parametrize("folder", sorted(DASHBOARD_FORBIDDEN))
def test_dashboard_pieces_import_downwards(folder):
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in sorted(imported_modules(path))
        if name.startswith(DASHBOARD_FORBIDDEN[folder])
    ]
    assert bad == []


def test_only_url_state_reads_a_query_string():
    """Every page's URL is read by ``dashboard.url_state`` (one model, one set of readers)."""
    readers = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "urllib.parse":
                names = {alias.name for alias in node.names} & {"parse_qs", "parse_qsl"}
                if names and path != ROOT / "dashboard" / "url_state.py":
                    readers.append(f"{path.relative_to(ROOT)}: {', '.join(sorted(names))}")
    assert readers == []


def test_every_page_is_one_layout_module_and_one_callback_module():
    from dashboard.pages import default_pages

    pages = {}
    for page in default_pages():
        name = page.layout.__module__.removeprefix("dashboard.layouts.")
        assert page.layout.__module__ == f"dashboard.layouts.{name}", page.pattern
        assert page.register is not None and page.register.__module__ == f"dashboard.callbacks.{name}", page.pattern
        pages[name] = page.pattern
    modules = {folder: {p.stem for p in (ROOT / "dashboard" / folder).glob("*.py") if p.stem != "__init__"}
               for folder in ("layouts", "callbacks")}
    assert modules["layouts"] == modules["callbacks"] == set(pages)


def test_tests_mirror_the_source_tree():
    """A test folder under tests/dashboard, tests/metrics or tests/datasource is a source folder."""
    for package in ("dashboard", "metrics", "datasource"):
        for folder in sorted(p for p in (ROOT / "tests" / package).rglob("*") if p.is_dir() and p.name != "__pycache__"):
            source = ROOT / package / folder.relative_to(ROOT / "tests" / package)
            assert source.is_dir(), f"{folder.relative_to(ROOT)} mirrors no source folder"

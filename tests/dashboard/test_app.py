"""The app factory, the page registry and routing, without a browser."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from dash import html
from screens import texts as _texts

from dashboard.app import create_app, render_page
from dashboard.pages import Page, default_pages, resolve
from datasource.settings import Settings

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)




def test_importing_the_dashboard_touches_no_database(tmp_path):
    db = tmp_path / "never.db"
    code = ("import dashboard, dashboard.app, dashboard.wsgi, dashboard.pages, "
            "dashboard.callbacks.wall, orderboard.cli, orderboard.jobs, datasource.demo")
    env = {"ORDERBOARD_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert not db.exists()


def test_building_the_app_touches_no_database(tmp_path):
    db = tmp_path / "lazy.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", cache_dir=str(tmp_path / "cache")))
    assert app.config.suppress_callback_exceptions
    assert not db.exists()
    outputs = " ".join(app.callback_map)
    assert "page.children" in outputs


def _app_over(store, tmp_path):
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    app = create_app(settings, engine=store.engine)
    return app, app.server.config["ORDERBOARD_CONTEXT"]


def test_pages_match_paths_and_queries():
    page = Page("/stages/<code>", lambda ctx, **p: html.Div())
    assert page.match("/stages/produced") == {"code": "produced"}
    assert page.match("/stages/produced/") == {"code": "produced"}
    assert page.match("/stages") is None and page.match("/stages/a/b") is None
    pages = [page, *default_pages()]
    found = resolve(pages, "/stages/paid", "?line=A&code=x")
    assert found is not None and found[1] == {"line": "A", "code": "paid"}
    assert resolve(pages, "/review", "?week=2026-W47")[1] == {"week": "2026-W47"}
    assert resolve(pages, "/live") is None  # retired: the server redirects it to /
    assert resolve(pages, "/nowhere") is None


def test_root_is_served():
    assert resolve(default_pages(), "/") is not None


@pytest.mark.parametrize("path", ["/live", "/live/", "/live?refresh=10"])
def test_the_retired_live_page_redirects_to_the_overview(path, sqlite_store, tmp_path):
    app, _ = _app_over(sqlite_store, tmp_path)
    response = app.server.test_client().get(path)
    assert response.status_code == 308 and response.headers["Location"] == "/"


def test_unknown_path_gets_a_not_found_page(sqlite_store, tmp_path):
    _, ctx = _app_over(sqlite_store, tmp_path)
    assert "404" in _texts(render_page(ctx, default_pages(), "/nope", ""))

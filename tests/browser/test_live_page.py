"""The live overview in a real browser: the counts render and the console stays clean."""

from __future__ import annotations

from datetime import datetime, timezone

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.settings import Settings
from datasource.snapshot import stage_counts


def test_live_overview_renders_the_stage_counts(sqlite_store, tmp_path, live_server, open_page):
    end = datetime.now(timezone.utc).replace(microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=2, n_orders=300, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"))
    url = live_server(create_app(settings, engine=sqlite_store.engine))
    page = open_page(url + "/live", wait_for="#stage-produced .ob-stage-count")
    counts = stage_counts(sqlite_store.engine)
    shown = page.inner_text("#stage-produced .ob-stage-count").replace(",", "")
    assert int(shown) == counts.get("produced", 0)
    assert "data as of" in page.inner_text("#live-as-of")
    assert page.is_hidden("#live-banner")

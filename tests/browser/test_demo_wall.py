"""The demo's wall after 72 hours of live feed looks like the wall the demo began with.

A 3,000-order history (the demo's default) ends 72 hours ago; the wall is shown as of
that moment, then the feed is fast-forwarded to now and the wall is shown again, at
1920x1080 in kiosk mode. ``ORDERBOARD_SCREENSHOTS=docs/screenshots pytest
tests/browser/test_demo_wall.py`` also writes wall-after-72h.png there.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.demo.feed import DemoFeed
from datasource.settings import Settings

SHOTS = os.environ.get("ORDERBOARD_SCREENSHOTS")
TILE = ".ob-view--active [data-metric={name}] .ob-kpi-value"


def _wall(app, live_server, open_page, shot: Path) -> dict[str, int]:
    page = open_page(f"{live_server(app)}/wall?views=main&kiosk=1", 1920, 1080,
                     wait_for=".ob-view--active .ob-kpi")
    page.wait_for_function("() => !document.querySelector('.ob-view--active .ob-waiting')")
    page.screenshot(path=str(shot))
    return {name: int(page.inner_text(TILE.format(name=name)).replace(",", ""))
            for name in ("wip", "orders_placed_today", "open_exceptions")}


def test_the_wall_after_72_hours_of_feed_looks_like_its_start(sqlite_store, tmp_path, live_server,
                                                              open_page):
    engine, pipeline = sqlite_store.engine, sqlite_store.pipeline
    start = (datetime.now(timezone.utc) - timedelta(hours=72)).replace(second=0, microsecond=0)
    history = generate(seed=7, n_orders=3000, end=start, pipeline=pipeline)
    seed_store(engine, pipeline, history)

    def app(cache: str):
        return create_app(Settings(database_url=sqlite_store.url, pipeline=pipeline,
                                   cache_dir=str(tmp_path / cache)), engine=engine)

    first = app("cache-start")
    first.server.config["ORDERBOARD_CONTEXT"].service.clock = lambda: start  # as the demo began
    before = _wall(first, live_server, open_page, tmp_path / "wall-start.png")

    feed = DemoFeed.open(engine, pipeline)
    moment = start
    while moment < start + timedelta(hours=72):
        moment += timedelta(minutes=20)
        feed.step(moment)
    feed.step(datetime.now(timezone.utc))
    after = _wall(app("cache-after"), live_server, open_page, tmp_path / "wall-after-72h.png")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "wall-after-72h.png", Path(SHOTS) / "wall-after-72h.png")

    # The same factory three days on: WIP within a quarter of where it began, no day
    # busier than the history's busiest (order numbers carry their day), exceptions open.
    busiest_day = max(Counter(o.order_number[:8] for o in history.orders).values())
    assert 0.75 * before["wip"] <= after["wip"] <= 1.25 * before["wip"], (before, after)
    assert after["orders_placed_today"] <= busiest_day, (after, busiest_day)
    assert after["open_exceptions"] > 0 and before["open_exceptions"] > 0

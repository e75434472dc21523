"""A completed demo order's page in a real browser: no stage is drawn as running (the
terminal stage is the order's end point), the status says completed, the console is
clean."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.schema import Order, StageVisit
from datasource.settings import Settings


@pytest.fixture
def demo(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=5, n_orders=300, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    return sqlite_store, live_server(create_app(settings, engine=sqlite_store.engine))


def completed_orders(engine, limit: int = 3) -> list[str]:
    """Completed demo orders without an after-sales case (whose own visits may run)."""
    with engine.connect() as conn:
        after_sales = select(StageVisit.order_id).where(StageVisit.stage_code == "after_sales")
        return list(conn.execute(
            select(Order.order_number).where(Order.status == "completed", Order.id.not_in(after_sales))
            .order_by(Order.completed_at.desc()).limit(limit)).scalars())


def test_completed_demo_orders_show_no_running_stage(demo, open_page):
    store, url = demo
    numbers = completed_orders(store.engine)
    assert len(numbers) == 3
    with store.engine.connect() as conn:
        open_visits = conn.execute(
            select(StageVisit.id).join(Order, Order.id == StageVisit.order_id)
            .where(Order.status == "completed", StageVisit.left_at.is_(None),
                   StageVisit.stage_code != "after_sales")).all()
    assert open_visits == []
    for number in numbers:
        page = open_page(f"{url}/orders/{number}", width=1400, height=900,
                         wait_for="#order-timeline .main-svg")
        assert "已完成" in page.inner_text("#order-status")
        traces = page.evaluate("""() => document.querySelector('#order-timeline .js-plotly-plot').data
            .map(t => ({name: t.name, text: t.text || []}))""")
        texts = [t for trace in traces for t in (trace["text"] if isinstance(trace["text"], list) else [])]
        assert not any("进行中" in t for t in texts), texts
        assert "完成" in [t["name"] for t in traces]  # the received end point, as a marker
        assert "现在" not in page.inner_text("#order-timeline")

"""A failing store on the manager pages: plain words and the time the failures began, in the
page's language; the driver's message (hosts, ports, SQL) only in the log; never an HTTP 500.

The store here is a PostgreSQL URL on a port nobody listens on, so every query fails with the
driver's real message ("connection to server at "127.0.0.1", port 9 failed ...").
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

import pytest
from dash import no_update
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from web_client import browser_client, grid_body

from dashboard.app import create_app
from dashboard.callbacks import order as order_cb
from dashboard.callbacks import overview as overview_cb
from dashboard.callbacks import review as review_cb
from dashboard.callbacks import stage as stage_cb
from datasource.demo import generate, seed_store
from datasource.pipeline import default_pipeline
from datasource.settings import Settings
from datasource.store import make_engine

NOW = datetime(2026, 11, 20, 6, 3, tzinfo=timezone.utc)  # 14:03 in Shanghai
REFUSING = "postgresql+psycopg://ob:secret@127.0.0.1:9/orders"
DETAILS = ("127.0.0.1", "port", "OperationalError", "psycopg", "secret", "SELECT", "sqlalche.me")
SINCE = {"zh": "订单库无法访问（自 14:03 起）", "en": "Order store unreachable since 14:03"}


def plain(shown: str) -> bool:
    return not any(detail in shown for detail in DETAILS)


@pytest.fixture
def down(tmp_path):
    """The context of an app whose store refuses every connection."""
    pipeline = default_pipeline()
    settings = Settings(database_url=REFUSING, cache_dir=str(tmp_path / "cache"), pipeline=pipeline)
    ctx = create_app(settings, engine=make_engine(REFUSING, wait_s=2)).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: NOW
    ctx.service.store_faults.wall_clock = lambda: NOW  # when the failures began
    return ctx


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_says_the_store_is_unreachable_in_plain_words(down, lang, caplog):
    with caplog.at_level(logging.WARNING):
        out = overview_cb.overview_view(down, f"?days=7&lang={lang}")
    banner, hidden = out[-3], out[-2]
    assert (banner, hidden) == (SINCE[lang], False)
    assert 'port 9 failed' in caplog.text  # the operator's log has the driver's words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_stage_list_count_line_says_so_and_asks_the_store_once(down, lang, monkeypatch):
    def stats_asked(*_a, **_k):
        raise AssertionError("the header's statistics were asked of a store that just failed")

    monkeypatch.setattr(stage_cb, "stage_row", stats_asked)
    body = stage_cb.render_body(down, "/stages/produced", f"?days=7&lang={lang}", None)
    assert body[4] == SINCE[lang]


def test_a_grid_block_of_a_failing_store_stays_unanswered(down):
    """An empty block would read as "no orders": the block is left loading, the count line
    above the grid says why."""
    assert stage_cb.get_rows(down, "/stages/produced", "?days=7", {"startRow": 0, "endRow": 100}) is no_update


def test_exporting_a_list_of_a_failing_store_gives_no_file_and_plain_words(down):
    download, note = stage_cb.export_with_note(down, "/stages/produced", "?days=7&lang=en", "csv")
    assert download is None and note == SINCE["en"]


def test_review_says_the_store_is_unreachable_in_plain_words(down):
    body, _line, error, hidden = review_cb.render(down, {"lang": "en", "week": "2026-W46"})
    assert body == [] and hidden is False
    assert error == SINCE["en"]


def test_a_stale_banner_names_the_outage_and_the_data_time(down):
    """The last good numbers under a banner that says since when and from when, in words."""
    since = datetime(2026, 11, 20, 6, 1, tzinfo=timezone.utc)
    computed = datetime(2026, 11, 20, 5, 58, tzinfo=timezone.utc)
    assert down.stale_note(since, computed, "en") == "Order store unreachable since 14:01 · showing data from 13:58"
    assert down.stale_note(since, computed, "zh") == "订单库无法访问（自 14:01 起）· 显示 13:58 的数据"


# -- over HTTP, as the browser asks: the store fails after the page has loaded --------------

@pytest.fixture
def client_and_failure(sqlite_store, tmp_path, monkeypatch):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=200, end=NOW))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    app = create_app(settings, engine=sqlite_store.engine)
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: NOW
    client = browser_client(app.server)
    refusing = make_engine(REFUSING, wait_s=2)
    try:
        with refusing.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        failure = exc  # the driver's real error, hosts and ports included
    finally:
        refusing.dispose()
    return client, failure


def test_the_grid_callback_answers_without_a_500_when_the_store_fails(client_and_failure, monkeypatch):
    client, failure = client_and_failure

    def fails(*_a, **_k):
        raise failure

    monkeypatch.setattr(stage_cb, "fetch", fails)
    answer = client.post("/_dash-update-component", json=grid_body(search="?days=7&lang=en"))
    assert answer.status_code in (200, 204), answer.text[:300]
    assert plain(answer.get_data(as_text=True))


def test_the_order_page_says_so_over_http(client_and_failure, monkeypatch):
    client, failure = client_and_failure

    def fails(*_a, **_k):
        raise failure

    monkeypatch.setattr(order_cb, "order_content", fails)
    body = {
        "output": "order-content.children",
        "outputs": {"id": "order-content", "property": "children"},
        "inputs": [{"id": "order-number", "property": "data", "value": "SO-1"}],
        "state": [{"id": "order-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["order-number.data"],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.text[:300]
    shown = json.dumps(answer.get_json(), ensure_ascii=False)
    assert re.search(r"Order store unreachable since \d\d:\d\d", shown), shown[:300]
    assert plain(shown)

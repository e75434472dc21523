"""The /alerts page and the signed acknowledge link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.app import create_app, render_page
from dashboard.callbacks.alerts import acknowledge_selected, alerts_content
from dashboard.pages import default_pages
from datasource import alert_store
from datasource.alert_links import ack_path
from datasource.schema import OrderException
from datasource.settings import Settings
from orderboard.alerts.config import alert_config
from orderboard.alerts.runner import AlertRunner
from tests.alert_fixture import NOW, seed_breaching, seed_small
from tests.alert_receiver import start_receiver


@pytest.fixture
def alerting(sqlite_store, tmp_path):
    receiver = start_receiver()
    tables = {"alert_channels": [{"name": "ops", "kind": "webhook", "url": f"{receiver.base}/hook"}],
              "alert_rules": [{"name": "sla", "kind": "stage_sla", "channels": ["ops"], "to": ["order_owner"]},
                              {"name": "exc", "kind": "exception_open", "channels": ["ops"], "after": 30}]}
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"), alert_tables=tables,
                        alert_secret="link-key")
    seed_small(sqlite_store.engine, sqlite_store.pipeline)
    seed_breaching(sqlite_store.engine, sqlite_store.pipeline, 3)
    AlertRunner(sqlite_store.engine, settings, alert_config(settings)).run(now=NOW)
    app = create_app(settings, engine=sqlite_store.engine)
    yield app, settings, sqlite_store
    receiver.server.shutdown()


def test_the_page_lists_firing_alerts_with_who_was_told(alerting):
    app, _settings, _store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    rows, counts = alerts_content(ctx, ["firing", "acknowledged", "resolved"], now=NOW)
    assert sorted(r["what"] for r in rows if r["rule"] == "sla") == [
        "A · placed", "PO-00000 · prepared", "PO-00001 · prepared", "PO-00002 · prepared"]
    a = next(r for r in rows if r["what"] == "A · placed")
    assert (a["status"], a["severity"], a["whose"], a["told"]) == ("firing", "critical", "张三, op-a, Sales", "ops (张三)")
    assert a["fired_at"] == "2026-11-20 12:00"  # NOW in Asia/Shanghai
    assert [c.children for c in counts] == ["触发 firing: 5", "已确认 acknowledged: 0", "已恢复 resolved: 0"]
    assert render_page(ctx, default_pages(), "/alerts", "") is not None


def test_the_button_acknowledges_the_selected_alerts(alerting):
    app, _settings, _store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    rows, _ = alerts_content(ctx, ["firing"], now=NOW)
    picked = [r for r in rows if r["what"].startswith("PO-0000")][:2]
    assert acknowledge_selected(ctx, picked, "李四", now=NOW + timedelta(minutes=30)) == "已确认 acknowledged 2"
    rows, _ = alerts_content(ctx, ["acknowledged"], now=NOW)
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in picked)
    assert {r["ack_after"] for r in rows} == {"30 min"} and rows[0]["acknowledged"].startswith("李四 ")


def test_the_signed_link_asks_then_acknowledges_and_sets_the_exception(alerting):
    app, settings, store = alerting
    client = app.server.test_client()
    exception_alert = next(r for r in alert_store.alert_list(store.engine).itertuples() if r.rule == "exc")
    path = ack_path(settings.alert_secret, exception_alert.id)
    assert client.get(path.replace("sig=", "sig=0")).status_code == 403
    assert client.get(ack_path(settings.alert_secret, exception_alert.id + 1000)).status_code == 404
    page = client.get(path)
    assert page.status_code == 200 and "<form" in page.text
    assert alert_store.instance(store.engine, exception_alert.id)["acknowledged_at"] is None, "GET changes nothing"
    assert client.post(path, data={"by": "王五"}).status_code == 400, "no CSRF token: refused"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(path, data={"by": "王五", "csrf_token": token})
    assert done.status_code == 200 and "王五" in done.text
    row = alert_store.instance(store.engine, exception_alert.id)
    assert row["acknowledged_by"] == "王五"
    with store.engine.connect() as conn:
        acked = conn.execute(select(OrderException.acknowledged_at).where(OrderException.exception_uid == "X1")).scalar_one()
    assert acked == row["acknowledged_at"]


def test_the_dash_page_is_served(alerting):
    app, _settings, _store = alerting
    assert app.server.test_client().get("/alerts").status_code == 200


def test_the_counts_agree_with_plain_sql(alerting):
    """The page's firing count and the open-alerts count, against a plain SQL count."""
    from sqlalchemy import text

    app, _settings, store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    rows, _ = alerts_content(ctx, ["firing"], now=NOW)
    acknowledge_selected(ctx, rows[:1], "李四", now=NOW + timedelta(minutes=5))
    with store.engine.connect() as conn:
        firing = conn.execute(text("SELECT count(*) FROM alert_instances "
                                   "WHERE state = 'firing' AND acknowledged_at IS NULL")).scalar_one()
    assert firing == len(rows) - 1 == alert_store.open_alert_count(store.engine)
    assert len(alerts_content(ctx, ["firing"], now=NOW)[0]) == firing

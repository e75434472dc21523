"""The /alerts page and the signed acknowledge link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.app import create_app, render_page
from dashboard.callbacks.alerts import acknowledge_selected, alerts_content
from dashboard.pages import default_pages
from datasource import alert_firing, alert_silences, alert_store
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
    rows, counts, _silences = alerts_content(ctx, ["firing", "acknowledged", "resolved"], now=NOW, lang="en")
    assert sorted(r["what"] for r in rows if r["rule"] == "sla") == [
        "A · Placed", "PO-00000 · Prepared", "PO-00001 · Prepared", "PO-00002 · Prepared"]
    a = next(r for r in rows if r["what"] == "A · Placed")
    assert (a["status"], a["severity"], a["whose"], a["told"]) == ("Firing", "Critical", "张三, op-a, Sales", "ops (张三)")
    assert a["summary"] == "Placed for 10 h (SLA 4.0 h)"  # entered NOW - 10 h
    assert a["fired_at"] == "2026-11-20 12:00"  # NOW in Asia/Shanghai
    assert (a["acknowledged"], a["ack_after"]) == ("—", "—")
    assert [c.children for c in counts] == ["Firing: 5", "Acknowledged: 0", "Resolved: 0"]
    x = next(r for r in rows if r["rule"] == "exc")
    assert (x["what"], x["summary"], x["whose"]) == ("A · Shortage exception #1", "open for 2.0 h, not acknowledged",
                                                     "王五, 张三, op-a, Sales")
    rows, counts, _silences = alerts_content(ctx, ["firing"], now=NOW, lang="zh")
    a = next(r for r in rows if r["what"] == "A · 下单")
    assert (a["status"], a["severity"], a["summary"]) == ("触发中", "严重", "在下单已 10小时（SLA 4.0小时）")
    assert [c.children for c in counts] == ["触发中：5", "已确认：0", "已恢复：0"]
    assert render_page(ctx, default_pages(), "/alerts", "") is not None


def test_the_button_acknowledges_the_selected_alerts(alerting):
    app, _settings, _store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    rows, _, _ = alerts_content(ctx, ["firing"], now=NOW)
    picked = [r for r in rows if r["what"].startswith("PO-0000")][:2]
    assert acknowledge_selected(ctx, picked, "李四", now=NOW + timedelta(minutes=30)) == "已确认 2 条"
    assert acknowledge_selected(ctx, [], "李四", now=NOW, lang="en") == "Nothing selected"
    rows, _, _ = alerts_content(ctx, ["acknowledged"], now=NOW, lang="en")
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in picked)
    assert {r["ack_after"] for r in rows} == {"30 min"} and rows[0]["acknowledged"].startswith("李四 ")
    both, _, _ = alerts_content(ctx, ["firing", "acknowledged"], now=NOW, lang="en")
    assert sorted(r["acknowledged"][:2] for r in both) == sorted(["李四", "李四"] + ["—"] * (len(both) - 2))


def test_the_signed_link_asks_then_acknowledges_and_sets_the_exception(alerting):
    app, settings, store = alerting
    client = app.server.test_client()
    exception_alert = next(r for r in alert_store.alert_list(store.engine).itertuples() if r.rule == "exc")
    path = ack_path(settings.alert_secret, exception_alert.id)
    assert client.get(path.replace("sig=", "sig=0")).status_code == 403
    assert client.get(ack_path(settings.alert_secret, exception_alert.id + 1000)).status_code == 404
    page = client.get(path)
    assert page.status_code == 200 and "<form" in page.text and "确认这条预警？" in page.text
    english = client.get(path + "&lang=en").text
    assert "Acknowledge this alert?" in english and "A · Shortage exception #1" in english
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
    rows, _, _ = alerts_content(ctx, ["firing"], now=NOW)
    acknowledge_selected(ctx, rows[:1], "李四", now=NOW + timedelta(minutes=5))
    with store.engine.connect() as conn:
        firing = conn.execute(text("SELECT count(*) FROM alert_instances "
                                   "WHERE state = 'firing' AND acknowledged_at IS NULL")).scalar_one()
    assert firing == len(rows) - 1 == alert_firing.open_alert_count(store.engine)
    assert len(alerts_content(ctx, ["firing"], now=NOW)[0]) == firing


def test_the_page_speaks_one_language(alerting):
    """``?lang=en`` shows no Chinese but the data's and the configuration's own words,
    the default (zh) no English words but those; the silences table included."""
    from sqlalchemy import text

    from tests.dashboard.test_page_language import check_chinese, check_english, texts_of

    app, _settings, store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    alert_silences.add_silence(store.engine, {"owner": "李四"}, NOW + timedelta(hours=2), "王经理", "休假",
                               NOW - timedelta(minutes=5))
    values = {"sla", "exc", "ops", "休假", "王经理", "owner=李四"} | {s.department for s in store.pipeline.stages}
    with store.engine.connect() as conn:
        for q in ("SELECT order_number, owner, production_line FROM orders", "SELECT operator FROM order_events",
                  "SELECT owner, severity FROM exceptions"):
            values |= {str(v) for row in conn.execute(text(q)) for v in row if v}
    data = sorted(values, key=len, reverse=True)

    def page_texts(lang: str | None) -> list[str]:
        layout = render_page(ctx, default_pages(), "/alerts", f"?lang={lang}" if lang else "")
        rows, counts, silences = alerts_content(ctx, ["firing", "acknowledged", "resolved"], now=NOW, lang=lang)
        cells = [v for r in rows for k, v in r.items() if k != "id"]
        return texts_of(layout) + texts_of(counts) + texts_of(silences) + cells

    english = page_texts("en")
    assert "Alerts" in english and "Silences in force" in english and "Acknowledge selected" in english
    check_english(english, data)
    chinese = page_texts(None)
    assert "预警" in chinese and "生效中的静默" in chinese
    check_chinese(chinese, data)


def test_the_page_lists_the_silences_in_force(alerting):
    app, _settings, store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    over = alert_silences.add_silence(store.engine, {"rule": "sla"}, NOW - timedelta(minutes=1), "张三", "",
                                      NOW - timedelta(hours=1))
    kept = alert_silences.add_silence(store.engine, {"stage": "prepared", "rule": "sla"}, NOW + timedelta(hours=2),
                                      "王经理", "line stopped", NOW - timedelta(minutes=5))
    ended = alert_silences.add_silence(store.engine, {"owner": "李四"}, NOW + timedelta(hours=2), "王经理", "",
                                       NOW - timedelta(minutes=5))
    assert alert_silences.end_silence(store.engine, ended, "李四", NOW - timedelta(minutes=1)).ended
    _rows, _counts, silences = alerts_content(ctx, ["firing"], now=NOW, lang="en")
    table = silences.to_plotly_json()["props"]["children"]
    body = table[1].to_plotly_json()["props"]["children"]
    cells = [[td.children for td in tr.children] for tr in body]
    assert cells == [[str(kept), "rule=sla stage=prepared", "2026-11-20 14:00", "王经理", "line stopped"]]
    assert over not in {int(c[0]) for c in cells}
    _rows, _counts, none = alerts_content(ctx, ["firing"], now=NOW + timedelta(hours=3), lang="en")
    assert none.children == "No silences in force"


def test_the_page_follows_the_viewers_scope_and_role(alerting):
    """A viewer of line L1 sees the alerts about L1's orders (order A: its SLA alert and its
    exception's) and may not acknowledge; a manager of L1 acknowledges those, and nothing
    outside L1 even when the browser sends its id."""
    from dashboard import access
    from datasource.scope import Scope

    app, _settings, store = alerting
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    everything, _, _ = alerts_content(ctx, ["firing"], now=NOW, lang="en")
    assert len(everything) == 5
    line_l1 = Scope.of([("production_line", "L1")])
    token = access.set_current(access.Principal("viewer-l1", "viewer", line_l1, "user", user_id=7))
    try:
        rows, counts, _ = alerts_content(ctx, ["firing"], now=NOW, lang="en")
        assert sorted(r["what"] for r in rows) == ["A · Placed", "A · Shortage exception #1"]
        assert counts[0].children == "Firing: 2"
        assert acknowledge_selected(ctx, rows, "viewer", now=NOW, lang="en") == "Only managers and admins acknowledge alerts"
    finally:
        access.reset(token)
    token = access.set_current(access.Principal("manager-l1", "manager", line_l1, "user", user_id=8))
    try:
        outside = [r for r in everything if r["what"].startswith("PO-")]
        assert acknowledge_selected(ctx, outside, "manager", now=NOW, lang="en") == "Nothing selected"
        assert acknowledge_selected(ctx, rows, "manager", now=NOW, lang="en") == "Acknowledged 2"
    finally:
        access.reset(token)
    assert alert_firing.open_alert_count(store.engine) == 3

"""Alert evaluation end to end against a local receiver: told once, nothing new on a
second run or after a restart, one grouped resolved notice, an unreadable store is one
"data unavailable" notice and no churn, 5,000 alerts at once within every channel's
limit with nothing lost, silences, escalation, retries, repeat, pending ``for``, and
acknowledgement of an exception's alert."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datasource import alert_silences, alert_store
from datasource.schema import AlertDelivery, AlertInstance, AlertNotice, OrderException
from datasource.settings import Settings
from orderboard.alerts.config import alert_config
from orderboard.alerts.runner import AlertRunner
from tests.alert_fixture import NOW, move_on, seed_breaching, seed_small
from tests.alert_receiver import start_receiver


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    r.server.shutdown()


def _runner(store, receiver, rules: list[dict], channels: list[dict] | None = None, **alerts) -> AlertRunner:
    channels = channels or [{"name": "ops", "kind": "webhook", "url": f"{receiver.base}/hook", "secret": "s3cret"}]
    tables = {"alert_channels": channels, "alert_rules": rules}
    if alerts:
        tables["alerts"] = alerts
    settings = Settings(database_url=store.url, alert_tables=tables, public_url="http://board.example")
    return AlertRunner(store.engine, settings, alert_config(settings))


def _alerts(received) -> list[str]:
    return [a["labels"].get("order", a["labels"].get("metric")) for r in received for a in r.json()["alerts"]]


SLA = {"name": "sla", "kind": "stage_sla", "channels": ["ops"]}


def test_told_once_nothing_new_again_or_after_restart_and_one_grouped_resolved_notice(store, receiver):
    seed_breaching(store.engine, store.pipeline, 3)
    first = _runner(store, receiver, [SLA])
    first.run(now=NOW)
    (message,) = receiver.of("hook")
    body = message.json()
    assert body["kind"] == "firing" and sorted(_alerts([message])) == ["PO-00000", "PO-00001", "PO-00002"]
    assert all(a["ack_url"].startswith("http://board.example/alerts/") for a in body["alerts"])
    first.run(now=NOW + timedelta(minutes=1))
    assert len(receiver.of("hook")) == 1, "a second run sends nothing new"
    restarted = _runner(store, receiver, [SLA])
    restarted.run(now=NOW + timedelta(minutes=2))
    assert len(receiver.of("hook")) == 1, "a restart sends nothing new"
    # Two orders leave their stage: their instances resolve, told in one grouped notice
    # when the group may send again (group_interval, 5 minutes).
    move_on(store.engine, store.pipeline, "PO-00001", "produced", NOW + timedelta(minutes=2))
    move_on(store.engine, store.pipeline, "PO-00002", "produced", NOW + timedelta(minutes=2))
    restarted.run(now=NOW + timedelta(minutes=3))
    assert len(receiver.of("hook")) == 1
    restarted.run(now=NOW + timedelta(minutes=6))
    resolved = receiver.of("hook")[1].json()
    assert resolved["kind"] == "resolved"
    assert sorted(a["labels"]["order"] for a in resolved["alerts"]) == ["PO-00001", "PO-00002"]
    assert {a["status"] for a in resolved["alerts"]} == {"resolved"}
    restarted.run(now=NOW + timedelta(minutes=20))
    assert len(receiver.of("hook")) == 2, "resolved once"
    with store.engine.connect() as conn:
        states = dict(conn.execute(select(AlertInstance.state, func.count()).group_by(AlertInstance.state)).all())
    assert states == {"firing": 1, "resolved": 2}


def test_an_unreadable_store_is_one_notice_and_no_churn(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 2)
    runner = _runner(store, receiver, [SLA])
    runner.run(now=NOW)
    assert len(receiver.of("hook")) == 1
    path = Path(store.url.removeprefix("sqlite:///"))
    store.engine.dispose()
    shutil.move(path, path.with_suffix(".away"))
    os.mkdir(path)  # what was the store is now a folder: every read fails
    try:
        for minute in (1, 2, 3):
            report = runner.run(now=NOW + timedelta(minutes=minute))
            assert report.unavailable
    finally:
        os.rmdir(path)
        shutil.move(path.with_suffix(".away"), path)
    notices = receiver.of("hook")[1:]
    assert len(notices) == 1 and notices[0].json()["kind"] == "data_unavailable"
    # Store back: evaluation resumes, nothing fired or resolved in between; the channel
    # hears that the data is available again.
    report = runner.run(now=NOW + timedelta(minutes=4))
    assert report.unavailable is None and report.rules[0].resolved == 0 and report.rules[0].new_firing == 0
    assert [r.json()["kind"] for r in receiver.of("hook")] == ["firing", "data_unavailable", "data_available"]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(AlertInstance.state == "firing")).scalar() == 2


def test_5000_alerts_at_once_stay_within_every_limit_and_nothing_is_lost(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 5000)
    kinds = ("wecom", "dingtalk", "feishu", "slack", "webhook")
    channels = [{"name": k, "kind": k, "url": f"{receiver.base}/{'hook' if k == 'webhook' else k}"}
                for k in kinds]
    rule = {**SLA, "channels": list(kinds), "group_by": ["order"]}
    runner = _runner(store, receiver, [rule], channels)
    report = runner.run(now=NOW)
    limits = {"wecom": 20, "dingtalk": 20, "feishu": 5, "slack": 1, "hook": 60}
    for kind, limit in limits.items():
        assert 1 <= len(receiver.of(kind)) <= limit, kind
    assert not report.outcome.failed and not report.outcome.deferred
    with store.engine.connect() as conn:
        told = dict(conn.execute(select(AlertNotice.channel, func.count(func.distinct(AlertNotice.instance_id)))
                                 .group_by(AlertNotice.channel)).all())
    assert told == dict.fromkeys(kinds, 5000)
    assert len(set(_alerts(receiver.of("hook")))) == 5000  # the webhook lists every alert
    listed = alert_store.alert_list(store.engine)
    assert len(listed) == 5000 and set(listed["status"]) == {"firing"}
    before = len(receiver.received)
    runner.run(now=NOW + timedelta(minutes=1))
    assert len(receiver.received) == before, "nothing new"


def test_a_channel_at_its_limit_waits_and_loses_nothing(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 30)
    channels = [{"name": "wecom", "kind": "wecom", "url": f"{receiver.base}/wecom"}]
    runner = _runner(store, receiver, [{**SLA, "channels": ["wecom"], "group_by": ["order"]}], channels)
    runner.run(now=NOW)
    assert len(receiver.of("wecom")) == 20  # 30 groups merged into 20 digests
    seed_breaching(store.engine, store.pipeline, 5, prefix="NEW")
    report = runner.run(now=NOW + timedelta(seconds=30))
    assert len(receiver.of("wecom")) == 20 and len(report.outcome.deferred) == 5
    runner.run(now=NOW + timedelta(seconds=61))  # room again: the 5 waiting groups go
    later = [r.json()["markdown"]["content"] for r in receiver.of("wecom")[20:]]
    assert len(later) == 5 and all(any(f"NEW-{i:05d}" in c for c in later) for i in range(5))


def test_silences_hold_back_matching_alerts_until_they_end(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 2)
    alert_silences.add_silence(store.engine, {"rule": "sla", "order": "PO-00001"}, NOW + timedelta(hours=1),
                            "王经理", "supplier already called", NOW - timedelta(minutes=1))
    runner = _runner(store, receiver, [SLA])
    runner.run(now=NOW)
    assert _alerts(receiver.of("hook")) == ["PO-00000"]
    runner.run(now=NOW + timedelta(hours=1, minutes=1))
    assert _alerts(receiver.of("hook")[1:]) == ["PO-00001"]


def test_escalation_after_n_minutes_unacknowledged(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 2)
    channels = [{"name": "ops", "kind": "webhook", "url": f"{receiver.base}/hook"},
                {"name": "boss", "kind": "webhook", "url": f"{receiver.base}/hook/boss"}]
    rule = {**SLA, "escalate": [{"after": "30m", "channels": ["boss"], "mention": ["王经理"]}]}
    runner = _runner(store, receiver, [rule], channels)
    runner.run(now=NOW)
    first = alert_store.alert_list(store.engine)
    acked = int(first.loc[first["key"] == "order:PO-00000@prepared", "id"].iloc[0])
    alert_store.acknowledge(store.engine, acked, "张三", NOW + timedelta(minutes=5))
    runner.run(now=NOW + timedelta(minutes=20))
    assert [r.path for r in receiver.received] == ["/hook"]
    runner.run(now=NOW + timedelta(minutes=31))
    boss = [r for r in receiver.received if r.path == "/hook/boss"]
    assert len(boss) == 1 and boss[0].json()["kind"] == "escalation"
    assert _alerts(boss) == ["PO-00001"] and boss[0].json()["alerts"][0]["responsible"] == ["王经理"]
    runner.run(now=NOW + timedelta(minutes=40))
    assert len([r for r in receiver.received if r.path == "/hook/boss"]) == 1, "each step once"


def test_a_failed_delivery_is_logged_and_retried_with_backoff(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 1)
    runner = _runner(store, receiver, [SLA])
    receiver.fail_next += [(503, {}), (503, {})]
    report = runner.run(now=NOW)
    assert len(report.outcome.failed) == 1 and len(receiver.of("hook")) == 2  # two tries now
    runner.run(now=NOW + timedelta(seconds=30))
    assert len(receiver.of("hook")) == 2, "waits for its backoff (60 s)"
    runner.run(now=NOW + timedelta(seconds=61))
    assert len(receiver.of("hook")) == 3
    with store.engine.connect() as conn:
        log = conn.execute(select(AlertDelivery.status, AlertDelivery.attempts, AlertDelivery.http_status,
                                  AlertDelivery.error_code).order_by(AlertDelivery.id)).all()
    assert [tuple(r) for r in log] == [("failed", 2, 503, "503"), ("sent", 1, 200, None)]


def test_still_firing_is_repeated_after_the_repeat_interval(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 1)
    runner = _runner(store, receiver, [{**SLA, "repeat_interval": "1h"}])
    runner.run(now=NOW)
    runner.run(now=NOW + timedelta(minutes=59))
    assert len(receiver.of("hook")) == 1
    runner.run(now=NOW + timedelta(minutes=61))
    assert [a["status"] for a in receiver.of("hook")[1].json()["alerts"]] == ["repeat"]


def test_a_metric_rule_is_pending_for_its_for_period(store, receiver):
    seed_small(store.engine, store.pipeline)
    runner = _runner(store, receiver, [{"name": "wip", "kind": "metric", "metric": "wip", "above": 3,
                                        "for": "5m", "channels": ["ops"]}])
    report = runner.run(now=NOW)
    assert report.rules[0].new_pending == 1 and not receiver.of("hook")
    runner.run(now=NOW + timedelta(minutes=4))
    assert not receiver.of("hook")
    runner.run(now=NOW + timedelta(minutes=5))
    (message,) = receiver.of("hook")
    assert message.json()["alerts"][0]["labels"] == {"metric": "wip", "scope": "all"}


def test_acknowledging_an_exceptions_alert_sets_its_acknowledged_at(store, receiver):
    seed_small(store.engine, store.pipeline)
    runner = _runner(store, receiver, [{"name": "exc", "kind": "exception_open", "after": 30,
                                        "to": ["exception_owner"], "channels": ["ops"]}])
    runner.run(now=NOW)
    (alert,) = receiver.of("hook")[0].json()["alerts"]
    assert alert["responsible"] == ["王五"]
    at = NOW + timedelta(minutes=12)
    alert_store.acknowledge(store.engine, alert["id"], "王五", at)
    with store.engine.connect() as conn:
        acked = conn.execute(select(OrderException.acknowledged_at).where(
            OrderException.exception_uid == "X1")).scalar_one()
    assert acked == at
    report = runner.run(now=NOW + timedelta(minutes=13))
    assert report.rules[0].resolved == 1  # acknowledged: the condition no longer holds
    row = alert_store.instance(store.engine, alert["id"])
    assert (row["state"], row["acknowledged_by"]) == ("resolved", "王五")


def test_dry_run_changes_and_sends_nothing(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 2)
    runner = _runner(store, receiver, [SLA])
    report = runner.run(now=NOW, dry_run=True)
    assert [m.title for m in report.due] == ["OrderBoard 预警 sla: 2 firing"]
    assert not receiver.received
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AlertInstance)).scalar() == 0

"""``orderboard alerts`` on the demo store with the issue's minimal configuration: one
digest of the orders over their stage's SLA (the same orders plain SQL finds at the
instant of the run), nothing new on a second run; ``alerts test``; ``alerts silence``,
``alerts silences`` and ``alerts unsilence``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from datasource.demo import generate, seed_store
from datasource.schema import AlertInstance, AlertSilence, AuditEntry
from orderboard.cli import app
from tests.alert_receiver import start_receiver


@pytest.fixture
def demo(sqlite_store, tmp_path):
    receiver = start_receiver()
    # The history ends three days ago and nothing happened since: the orders still open
    # have sat in their stages for longer than most SLAs, whatever the hour the test runs
    # at (a history ending now has no order over its SLA at some hours).
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(days=3)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=7, n_orders=600, end=end))
    config = tmp_path / "ob.toml"
    config.write_text(f'''
[[alert_channels]]
name = "ops"
kind = "webhook"
url = "{receiver.base}/hook"
secret = "s3cret"

[[alert_rules]]
name = "sla"
kind = "stage_sla"
channels = ["ops"]
''', "utf-8")
    yield sqlite_store, receiver, ["--db", sqlite_store.url, "--config", str(config)]
    receiver.server.shutdown()


def _breaching_at(engine, pipeline, now) -> set[str]:
    """Open orders in a flow stage longer than its SLA at ``now``, in plain SQL."""
    found: set[str] = set()
    with engine.connect() as conn:
        for stage in pipeline.flow_stages:
            cutoff = (now - timedelta(hours=stage.sla_hours)).replace(tzinfo=None)
            found |= set(conn.execute(text(
                "SELECT order_number FROM orders WHERE status = 'open' AND current_stage = :s "
                "AND placed_at <= :now AND current_since < :cutoff"),
                {"s": stage.code, "now": now.replace(tzinfo=None), "cutoff": cutoff}).scalars())
    return found


def test_check_once_tells_the_breaching_orders_once(demo):
    store, receiver, options = demo
    dry = CliRunner().invoke(app, ["alerts", "check", "--once", "--dry-run", *options])
    assert dry.exit_code == 0, dry.output
    assert "would send to ops: OrderBoard 预警 sla:" in dry.output and not receiver.received
    first = CliRunner().invoke(app, ["alerts", "check", "--once", *options])
    assert first.exit_code == 0, first.output
    (message,) = receiver.of("hook")
    told = {a["labels"]["order"] for a in message.json()["alerts"]}
    with store.engine.connect() as conn:
        fired_at = conn.execute(select(AlertInstance.fired_at).limit(1)).scalar_one()
    assert told and told == _breaching_at(store.engine, store.pipeline, fired_at)
    again = CliRunner().invoke(app, ["alerts", "check", "--once", *options])
    assert again.exit_code == 0 and "nothing to send" in again.output
    assert len(receiver.of("hook")) == 1


def test_alerts_test_sends_a_test_message(demo):
    _store, receiver, options = demo
    result = CliRunner().invoke(app, ["alerts", "test", "ops", *options])
    assert result.exit_code == 0, result.output
    assert receiver.of("hook")[0].json()["kind"] == "test"
    unknown = CliRunner().invoke(app, ["alerts", "test", "pager", *options])
    assert unknown.exit_code == 2 and "no [[alert_channels]] named 'pager' (one of ops)" in unknown.output


def test_alerts_silence_is_stored_with_who_and_why(demo):
    store, _receiver, options = demo
    result = CliRunner().invoke(app, ["alerts", "silence", "--match", "stage=produced", "--match", "rule=sla",
                                      "--for", "2h", "--by", "王经理", "--why", "line stopped", *options])
    assert result.exit_code == 0, result.output
    with store.engine.connect() as conn:
        row = conn.execute(select(AlertSilence.__table__)).one()
    assert (row.created_by, row.comment) == ("王经理", "line stopped")
    assert row.ends_at - row.starts_at == timedelta(hours=2)


def test_silences_are_listed_and_ended_with_who_and_when(demo):
    store, _receiver, options = demo
    runner = CliRunner()
    assert runner.invoke(app, ["alerts", "silences", *options]).output == "no active silences\n"
    for match, by, why in ((["stage=produced", "rule=sla"], "王经理", "line stopped"), (["owner=李*"], "张三", "")):
        result = runner.invoke(app, ["alerts", "silence", *[f"--match={m}" for m in match], "--for", "2h",
                                     "--by", by, "--why", why, *options])
        assert result.exit_code == 0, result.output
    with store.engine.connect() as conn:
        first, second = conn.execute(select(AlertSilence.id, AlertSilence.ends_at).order_by(AlertSilence.id)).all()
    until = first.ends_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    listed = runner.invoke(app, ["alerts", "silences", *options])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0] == (
        f"silence {first.id}: rule=sla stage=produced until {until} (Asia/Shanghai), by 王经理: line stopped")
    assert listed.output.splitlines()[1].startswith(f"silence {second.id}: owner=李* until ")
    as_json = json.loads(runner.invoke(app, ["alerts", "silences", "--json", *options]).output)
    assert [(s["id"], s["matchers"], s["created_by"]) for s in as_json] == [
        (first.id, {"rule": "sla", "stage": "produced"}, "王经理"), (second.id, {"owner": "李*"}, "张三")]

    ended = runner.invoke(app, ["alerts", "unsilence", str(first.id), "--by", "李四", *options])
    assert ended.exit_code == 0, ended.output
    assert ended.output.startswith(f"silence {first.id} (rule=sla stage=produced) ended ") and "by 李四" in ended.output
    with store.engine.connect() as conn:
        ends_at = conn.execute(select(AlertSilence.ends_at).where(AlertSilence.id == first.id)).scalar_one()
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.at, AuditEntry.detail)
                             .where(AuditEntry.target == f"silence:{first.id}").order_by(AuditEntry.id)).all()
    assert ends_at < first.ends_at
    assert [(a.actor, a.action) for a in audit] == [("王经理", "alert_silence"), ("李四", "alert_unsilence")]
    assert audit[1].at == ends_at and json.loads(audit[1].detail)["was_until"] == first.ends_at.isoformat()
    remaining = runner.invoke(app, ["alerts", "silences", *options]).output.splitlines()
    assert len(remaining) == 1 and remaining[0].startswith(f"silence {second.id}: ")

    again = runner.invoke(app, ["alerts", "unsilence", str(first.id), "--by", "李四", *options])
    assert again.exit_code == 1 and f"error: silence {first.id} is not in force: it ended " in again.output
    missing = runner.invoke(app, ["alerts", "unsilence", "999", "--by", "李四", *options])
    assert missing.exit_code == 1 and "error: no silence 999" in missing.output


def test_an_ended_silence_no_longer_holds_alerts_back(demo):
    store, receiver, options = demo
    runner = CliRunner()
    runner.invoke(app, ["alerts", "silence", "--match", "rule=sla", "--for", "1d", "--by", "王经理",
                        "--why", "audit", *options])
    held = runner.invoke(app, ["alerts", "check", "--once", *options])
    assert held.exit_code == 0 and "nothing to send" in held.output and not receiver.of("hook")
    with store.engine.connect() as conn:
        silence_id = conn.execute(select(AlertSilence.id)).scalar_one()
    assert runner.invoke(app, ["alerts", "unsilence", str(silence_id), "--by", "王经理", *options]).exit_code == 0
    told = runner.invoke(app, ["alerts", "check", "--once", *options])
    assert told.exit_code == 0 and "sent to ops: OrderBoard 预警 sla:" in told.output
    assert len(receiver.of("hook")) == 1

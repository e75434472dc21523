"""An unusable store is one "data unavailable" notice per channel and, when it answers
again, one "data available again", however many evaluators run and whether they restart
in between: the record of who was told lives with the store (``orderboard.alerts.outage``),
on SQLite beside the database file and on PostgreSQL in the store.

The outages: on SQLite the database file is replaced by a folder (nothing can be read);
on PostgreSQL a migration holds the orders table and every read of it times out (the
evaluators' engines wait one second, as the web app's do).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from datasource.schema import AlertDelivery
from datasource.settings import Settings
from datasource.store import make_engine
from orderboard.alerts.config import alert_config
from orderboard.alerts.outage import FileLedger, ledger_for
from orderboard.alerts.runner import AlertRunner
from tests.alert_fixture import NOW, seed_breaching
from tests.alert_receiver import start_receiver

ROOT = Path(__file__).resolve().parents[2]
RULE = {"name": "sla", "kind": "stage_sla", "channels": ["ops", "boss"]}


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    r.server.shutdown()


def tables(receiver) -> dict:
    return {"alert_channels": [{"name": "ops", "kind": "webhook", "url": f"{receiver.base}/hook/ops"},
                               {"name": "boss", "kind": "webhook", "url": f"{receiver.base}/hook/boss"}],
            "alert_rules": [RULE]}


class Evaluators:
    """Alert runners on one store, each with its own engine, as separate processes have."""

    def __init__(self, store, receiver) -> None:
        self.store = store
        self.settings = Settings(database_url=store.url, alert_tables=tables(receiver))
        self.engines: list = []

    def new(self) -> AlertRunner:
        wait = 1.0 if self.store.backend == "postgres" else None
        engine = make_engine(self.store.url, wait_s=wait)
        self.engines.append(engine)
        return AlertRunner(engine, self.settings, alert_config(self.settings))

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def evaluators(store, receiver) -> Iterator[Evaluators]:
    made = Evaluators(store, receiver)
    yield made
    made.close()


@contextmanager
def outage(store, evaluators: Evaluators) -> Iterator[None]:
    if store.backend == "sqlite":
        path = Path(store.url.removeprefix("sqlite:///"))
        store.engine.dispose()
        evaluators.close()
        shutil.move(path, path.with_suffix(".away"))
        os.mkdir(path)  # what was the store is now a folder: every read fails
        try:
            yield
        finally:
            os.rmdir(path)
            shutil.move(path.with_suffix(".away"), path)
        return
    with store.engine.connect() as conn:
        held = conn.begin()
        conn.execute(text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            held.rollback()


def kinds(receiver, channel: str) -> list[str]:
    return [r.json()["kind"] for r in receiver.of("hook") if r.path.endswith(f"/{channel}")]


def test_each_channel_hears_of_an_outage_once_and_of_the_recovery_once(store, receiver, evaluators):
    seed_breaching(store.engine, store.pipeline, 2)
    first = evaluators.new()
    first.run(now=NOW)
    assert kinds(receiver, "ops") == kinds(receiver, "boss") == ["firing"]
    with outage(store, evaluators):
        assert first.run(now=NOW + timedelta(minutes=1)).unavailable
        assert kinds(receiver, "ops") == kinds(receiver, "boss") == ["firing", "data_unavailable"]
        # A second evaluator (or the first, restarted) during the same outage tells nobody.
        second = evaluators.new()
        assert second.run(now=NOW + timedelta(minutes=2)).unavailable
        assert first.run(now=NOW + timedelta(minutes=3)).unavailable
        assert kinds(receiver, "ops") == kinds(receiver, "boss") == ["firing", "data_unavailable"]
    # Back: a worker started after the outage tells of the recovery, once.
    restarted = evaluators.new()
    assert restarted.run(now=NOW + timedelta(minutes=4)).unavailable is None
    for runner, minute in ((first, 5), (second, 6), (restarted, 7)):
        assert runner.run(now=NOW + timedelta(minutes=minute)).unavailable is None
    assert kinds(receiver, "ops") == kinds(receiver, "boss") == ["firing", "data_unavailable", "data_available"]
    # Both notices are in the delivery log, the first at the time it was sent.
    with store.engine.connect() as conn:
        log = conn.execute(select(AlertDelivery.channel, AlertDelivery.kind, AlertDelivery.at)
                           .where(AlertDelivery.kind.like("data_%")).order_by(AlertDelivery.at,
                                                                             AlertDelivery.channel)).all()
    assert [tuple(r) for r in log] == [
        ("boss", "data_unavailable", NOW + timedelta(minutes=1)), ("ops", "data_unavailable", NOW + timedelta(minutes=1)),
        ("boss", "data_available", NOW + timedelta(minutes=4)), ("ops", "data_available", NOW + timedelta(minutes=4))]
    # A second outage is told again.
    with outage(store, evaluators):
        evaluators.new().run(now=NOW + timedelta(minutes=8))
    assert kinds(receiver, "ops")[-1] == "data_unavailable"


def test_a_notice_that_could_not_be_sent_is_sent_on_a_later_run(sqlite_store, receiver):
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 1)
    made = Evaluators(store, receiver)
    try:
        made.new().run(now=NOW)
        with outage(store, made):
            receiver.fail_next += [(503, {})]  # the first notice (to ops) is refused
            made.new().run(now=NOW + timedelta(minutes=1))
            assert (kinds(receiver, "ops")[1:], kinds(receiver, "boss")[1:]) == (["data_unavailable"],) * 2
            for minute in (2, 3):
                made.new().run(now=NOW + timedelta(minutes=minute))
            # ops is told on the next run, once; boss, told the first time, not again
            assert kinds(receiver, "ops")[1:] == ["data_unavailable", "data_unavailable"]
            assert kinds(receiver, "boss")[1:] == ["data_unavailable"]
    finally:
        made.close()


EVALUATE_ONCE = """
import sys
from datetime import datetime
from datasource.settings import Settings
from datasource.store import make_engine
from orderboard.alerts.config import alert_config
from orderboard.alerts.runner import AlertRunner
url, base, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
tables = {"alert_channels": [{"name": "ops", "kind": "webhook", "url": base + "/hook/ops"},
                             {"name": "boss", "kind": "webhook", "url": base + "/hook/boss"}],
          "alert_rules": [{"name": "sla", "kind": "stage_sla", "channels": ["ops", "boss"]}]}
settings = Settings(database_url=url, alert_tables=tables)
report = AlertRunner(make_engine(url), settings, alert_config(settings)).run(now=now)
print("unavailable" if report.unavailable else "ok")
"""


def evaluate_in_a_process(store, receiver, now: datetime) -> str:
    done = subprocess.run([sys.executable, "-c", EVALUATE_ONCE, store.url, receiver.base, now.isoformat()],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_separate_processes_share_the_record(sqlite_store, receiver):
    """Worker processes started one after the other (a restart): the one started during
    the outage tells nobody again, the one started after it tells of the recovery."""
    store = sqlite_store
    seed_breaching(store.engine, store.pipeline, 1)
    assert evaluate_in_a_process(store, receiver, NOW) == "ok"
    made = Evaluators(store, receiver)
    with outage(store, made):
        assert evaluate_in_a_process(store, receiver, NOW + timedelta(minutes=1)) == "unavailable"
        assert evaluate_in_a_process(store, receiver, NOW + timedelta(minutes=2)) == "unavailable"
    assert kinds(receiver, "ops") == ["firing", "data_unavailable"]
    assert evaluate_in_a_process(store, receiver, NOW + timedelta(minutes=3)) == "ok"
    assert evaluate_in_a_process(store, receiver, NOW + timedelta(minutes=4)) == "ok"
    assert kinds(receiver, "ops") == kinds(receiver, "boss") == ["firing", "data_unavailable", "data_available"]


def test_the_record_of_a_sqlite_store_lies_beside_its_file(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / '..' / 'store.db'}")
    try:
        ledger = ledger_for(engine)
        assert isinstance(ledger, FileLedger) and ledger.path == tmp_path / "store.db.alerts-outage.json"
    finally:
        engine.dispose()


def test_one_claim_per_channel_among_racing_evaluators(tmp_path):
    ledger = FileLedger(tmp_path / "store.db.alerts-outage.json")
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(FileLedger(ledger.path).claim("ops", now)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    ledger.release("ops")
    assert ledger.claim("ops", now) is True and ledger.claim("boss", now) is True
    assert ledger.take_all() == {"ops": now, "boss": now}
    assert ledger.take_all() == {} and not ledger.path.exists()

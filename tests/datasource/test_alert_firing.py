"""Firing alerts as screens count and list them (``datasource.alert_firing``), on the
hand-made store of tests/alert_fixture.py, worked out by hand, on SQLite and PostgreSQL.

At NOW the rules below fire for: sla A (critical, over its SLA since NOW-6 h), sla B
(warning, past half its SLA since NOW-1 h), overdue A (critical, since its promise
NOW-1 h), exception X1 on A (critical, unacknowledged since NOW-1.5 h), WIP of line L1
above 1 (warning, scope production_line=L1) and WIP of everything above 1 (warning,
scope all). A and B are orders of line L1; C and D, of L2, have no alert.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from datasource import alert_store
from datasource.alert_firing import firing_alerts, open_alert_count, scope_text
from metrics.alert_rules import Condition, evaluate_at
from metrics.catalog import CATALOG
from orderboard.alerts.states import plan
from tests.alert_fixture import NOW, h, seed_small

CONDITIONS = {
    "sla": Condition("stage_sla", warning_share=0.5),
    "overdue": Condition("overdue"),
    "exc": Condition("exception_open", after_s=1800),
    "wip_l1": Condition("metric", metric="wip", above=1, scope={"production_line": "L1"}),
    "wip_all": Condition("metric", metric="wip", above=1),
}


@pytest.fixture
def firing(store):
    seed_small(store.engine, store.pipeline)
    found = evaluate_at(store.engine, store.pipeline, CATALOG, CONDITIONS, NOW)
    plans = [plan(name, c.kind, {}, found[name], 0.0, NOW) for name, c in CONDITIONS.items()]
    alert_store.apply_plans(store.engine, plans, NOW)
    return store


def _id(store, key: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT id FROM alert_instances WHERE key = :k"), {"k": key}).scalar_one()


def _sql_open(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM alert_instances "
                                 "WHERE state = 'firing' AND acknowledged_at IS NULL")).scalar_one()


def test_counts_under_filters(firing):
    engine = firing.engine
    assert open_alert_count(engine) == _sql_open(firing) == 6
    assert open_alert_count(engine, {"production_line": "L1"}) == 5  # A's and B's, and L1's WIP
    assert open_alert_count(engine, {"production_line": "L2"}) == 0
    assert open_alert_count(engine, {"production_line": ("L1", "L2")}) == 4  # no rule has that scope
    alert_store.acknowledge(engine, _id(firing, "order:B@placed"), "李四", NOW)
    assert open_alert_count(engine) == _sql_open(firing) == 5
    assert open_alert_count(engine, {"production_line": "L1"}) == 4


def test_the_list_puts_open_then_critical_then_the_oldest_first(firing):
    engine = firing.engine
    alert_store.acknowledge(engine, _id(firing, "order:A@placed"), "李四", NOW)
    listed = firing_alerts(engine, None, limit=10)
    assert (listed.firing, listed.open) == (6, 5)
    assert list(listed.rows["key"]) == [
        "exception:1", "order:A",  # open and critical: since NOW-1.5 h, then NOW-1 h
        "order:B@placed", "scope:production_line=L1", "scope:all",  # open warnings: NOW-1 h, then NOW (by id)
        "order:A@placed",  # acknowledged, last
    ]
    assert list(listed.rows["started_at"])[:3] == [h(-1.5), h(-1), h(-1)]
    assert listed.evaluated_at == NOW
    l1 = firing_alerts(engine, {"production_line": "L1"}, limit=2)
    assert (l1.firing, l1.open) == (5, 4) and list(l1.rows["key"]) == ["exception:1", "order:A"]
    assert l1.rows.loc[0, "labels"]["order"] == "A"


def test_nothing_firing(store):
    listed = firing_alerts(store.engine, {"production_line": "L1"})
    assert (listed.firing, listed.open, listed.evaluated_at, len(listed.rows)) == (0, 0, None, 0)
    assert open_alert_count(store.engine) == 0


def test_scope_text_names_a_rules_scope_as_its_alerts_do():
    assert scope_text(None) == "all"
    assert scope_text({"production_line": "L1", "channel": "online"}) == "channel=online,production_line=L1"
    assert Condition("metric", scope={"production_line": "L1"}).scope_text == "production_line=L1"


def test_the_summary_reads_the_open_alerts_under_its_filters(firing):
    from metrics.summary import compute_summary
    from metrics.window import Filters, Window

    window = Window.last_days(7, NOW, firing.pipeline.timezone)
    for filters, expected in ((None, 6), (Filters(production_line="L1"), 5), (Filters(customer="nobody"), 0)):
        summary = compute_summary(firing.engine, firing.pipeline, window, filters, NOW)
        assert CATALOG["open_alerts"].read(summary) == summary.to_dict()["open_alerts"] == expected

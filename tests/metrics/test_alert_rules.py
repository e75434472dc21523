"""Every alert condition kind on the hand-made store (tests/alert_fixture.py), on SQLite
and PostgreSQL; at-risk and overdue also against the catalog's own drill-downs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from metrics.alert_rules import Condition, Evaluation, evaluate
from metrics.catalog import CATALOG
from metrics.drilldown import orders_behind
from metrics.window import Filters, Window
from tests.alert_fixture import NOW, seed_small


@pytest.fixture
def ev(store):
    seed_small(store.engine, store.pipeline)
    return Evaluation(store.engine, store.pipeline, CATALOG, NOW)


def _keys(findings) -> dict[str, str]:
    return {f.key: f.severity for f in findings}


def test_stage_sla_critical_over_sla_and_warning_past_the_share(ev):
    assert _keys(evaluate(ev, Condition("stage_sla"))) == {"order:A@placed": "critical"}
    found = evaluate(ev, Condition("stage_sla", warning_share=0.5))
    assert _keys(found) == {"order:A@placed": "critical", "order:B@placed": "warning"}
    a = next(f for f in found if f.key == "order:A@placed")
    assert a.labels == {"order": "A", "owner": "张三", "stage": "placed", "department": "Sales",
                        "operator": "op-a", "customer": "", "line": "L1"}
    assert a.value == pytest.approx(10.0)
    assert a.since == NOW - timedelta(hours=6)  # entered + SLA 4 h


def test_stage_sla_restricted_to_stages_and_scope(ev):
    assert evaluate(ev, Condition("stage_sla", stages=("paid",))) == []
    assert evaluate(ev, Condition("stage_sla", warning_share=0.5, scope={"owner": "李四"}))[0].key == "order:B@placed"


def test_overdue_is_the_catalog_population(ev):
    found = evaluate(ev, Condition("overdue"))
    assert _keys(found) == {"order:A": "critical"}
    window = Window.last_days(7, NOW, "Asia/Shanghai")
    expected = orders_behind(ev.engine, ev.pipeline, "overdue_now", window, Filters(), NOW)
    assert {f.labels["order"] for f in found} == set(expected["order_number"])


def test_due_soon_leaves_out_orders_near_the_end(ev):
    assert _keys(evaluate(ev, Condition("due_soon", within_s=12 * 3600))) == {"order:B": "warning"}
    assert _keys(evaluate(ev, Condition("due_soon", within_s=12 * 3600, near_end=()))) == {
        "order:B": "warning", "order:D": "warning"}
    assert evaluate(ev, Condition("due_soon", within_s=3600)) == []


def test_at_risk_is_the_catalog_drilldown(ev):
    found = evaluate(ev, Condition("at_risk"))
    window = Window.last_days(7, NOW, "Asia/Shanghai")
    expected = orders_behind(ev.engine, ev.pipeline, "at_risk", window, Filters(), NOW)
    assert {f.labels["order"] for f in found} == set(expected["order_number"])
    assert "order:B" in _keys(found)  # 5 h left, the remaining stages' SLAs are days


def test_exception_open_unacknowledged_longer_than_after(ev):
    found = evaluate(ev, Condition("exception_open", after_s=30 * 60))
    assert len(found) == 1
    (x,) = found
    assert x.severity == "critical" and x.key.startswith("exception:")
    assert x.labels["exception_owner"] == "王五" and x.labels["order"] == "A" and x.labels["kind"] == "shortage"
    assert len(evaluate(ev, Condition("exception_open", after_s=5 * 60))) == 2


def test_metric_over_a_threshold_by_catalog_name(ev):
    (wip,) = evaluate(ev, Condition("metric", metric="wip", above=3))
    assert (wip.key, wip.value) == ("scope:all", 4.0)
    assert evaluate(ev, Condition("metric", metric="wip", above=4)) == []
    assert evaluate(ev, Condition("metric", metric="wip", below=5))[0].value == 4.0
    (line,) = evaluate(ev, Condition("metric", metric="wip", above=1, scope={"production_line": "L1"}))
    assert (line.key, line.value) == ("scope:production_line=L1", 2.0)


def test_metric_per_stage_at_the_catalog_level(ev):
    # Share over SLA now: placed holds A (over), B and C: 1/3, past the critical 0.25.
    found = evaluate(ev, Condition("metric", metric="stage_over_sla_now", level="critical", per_stage=True))
    assert _keys(found) == {"stage:placed|all": "critical"}
    assert found[0].value == pytest.approx(1 / 3)
    assert found[0].labels["department"] == "Sales"

"""The wall's alerts view without a browser, on the hand-made store of
tests/alert_fixture.py: the open-alerts tile (its number, level and link), the list
(what, rule, whose, for how long, acknowledged), "n more", one language per screen, and
the plain message without alert rules.

Firing at NOW: sla A (critical, over its SLA for 6 h), sla B (warning, past half its SLA
for 1 h), overdue A (critical, for 1 h), exception X1 on A (critical, unacknowledged for
1.5 h); A and B are orders of line L1.
"""

from __future__ import annotations

import pytest
from dash import html
from screens import texts
from sqlalchemy import text

from dashboard.layouts.wall import alerts_table, open_alerts_tile
from dashboard.url_state import parse_wall_settings
from dashboard.wall_frame import compute_wall
from datasource import alert_store
from metrics.alert_rules import Condition, evaluate_at
from metrics.catalog import CATALOG
from orderboard.alerts.states import plan
from tests.alert_fixture import NOW, seed_small

CONDITIONS = {"sla": Condition("stage_sla", warning_share=0.5), "overdue": Condition("overdue"),
              "exc": Condition("exception_open", after_s=1800)}




def rows_of(table: html.Div) -> list[list[str]]:
    body = table.children[0].children[1].children
    return [[texts(td)[0] for td in tr.children] for tr in body]


@pytest.fixture
def firing(sqlite_store):
    store = sqlite_store
    seed_small(store.engine, store.pipeline)
    found = evaluate_at(store.engine, store.pipeline, CATALOG, CONDITIONS, NOW)
    plans = [plan(name, c.kind, {}, found[name], 0.0, NOW) for name, c in CONDITIONS.items()]
    alert_store.apply_plans(store.engine, plans, NOW)
    return store


def screen(store, rules: int = 3, **query: str):
    config = parse_wall_settings(query)
    return compute_wall(store.engine, store.pipeline, config.filters, NOW, alert_rules=rules), config


def test_the_tile_counts_the_open_alerts_and_leads_to_the_alerts_page(firing):
    with firing.engine.connect() as conn:
        b = conn.execute(text("SELECT id FROM alert_instances WHERE key = 'order:B@placed'")).scalar_one()
    alert_store.acknowledge(firing.engine, b, "李四", NOW)
    data, config = screen(firing, lang="en", line="L1")
    tile, facts = open_alerts_tile(data, config)
    assert tile.href == "/alerts?line=L1&lang=en" and tile.className == "ob-kpi ob-level-warning"
    assert texts(tile)[:2] == ["Open alerts", "3"]
    assert texts(facts) == ["4 firing", "1 acknowledged", "checked at 12:00"]  # NOW in Asia/Shanghai


def test_the_list_in_one_language_with_how_many_more(firing):
    data, config = screen(firing, lang="en")
    assert rows_of(alerts_table(data, config, 3)) == [
        ["A · Placed", "sla", "张三", "6.0 h", "no"],
        ["A · Shortage", "exc", "王五", "1.5 h", "no"],
        ["A · Placed", "overdue", "张三", "1.0 h", "no"]]
    assert texts(alerts_table(data, config, 3))[-1] == "1 more"
    data, config = screen(firing, lang="zh")
    assert rows_of(alerts_table(data, config, 1)) == [["A · 下单", "sla", "张三", "6.0小时", "未确认"]]
    assert texts(alerts_table(data, config, 1))[-1] == "另有 3 条"
    other_line, config = screen(firing, lang="en", line="L2")
    assert texts(alerts_table(other_line, config, 8)) == ["No firing alerts"]


def test_without_alert_rules_the_view_says_so(firing):
    data, config = screen(firing, rules=0, lang="en")
    assert texts(alerts_table(data, config, 8))[0] == "No alert rules are set up"

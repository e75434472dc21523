"""The metric catalog: every metric once, its value and its population agree, and no
other module keeps its own copy of a label or a threshold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from metrics_fixture import NOW, PIPELINE, WINDOW, load

from metrics.catalog import CATALOG, STAGE_COLOUR
from metrics.drilldown import orders_behind_page
from metrics.summary import compute_summary

ROOT = Path(__file__).resolve().parents[2]
# Where numbers are named for people (datasource reads source vocabulary: a ledger's
# "下单" column header is the source's word, not the metric's label).
SOURCE_PACKAGES = ("dashboard", "metrics", "orderboard")
REQUIRED = (
    "orders_placed_today", "wip", "completed", "late", "delay_rate", "cycle_time_median",
    "cycle_time_mean", "cycle_time_p90", "overdue_now", "at_risk", "placed", "open_exceptions",
    "exceptions_opened", "exception_ack_median", "exception_resolve_median", "time_in_stage",
    "throughput", "sla_breach_rate", "stage_over_sla_now", "delay_contribution",
)


def test_every_metric_is_defined_completely():
    assert set(REQUIRED) <= set(CATALOG)
    for name, m in CATALOG.items():
        assert m.name == name
        assert m.label_zh and m.label_en and m.unit and len(m.description) > 40, name
        assert m.good_direction in ("up", "down", None)
        assert (m.value is None) != (m.stage_value is None) or name == "wip", name
        if m.warning is not None and m.critical is not None:
            assert (m.warning <= m.critical) == (m.good_direction == "down"), name


def test_levels_follow_the_thresholds():
    assert CATALOG.level("delay_rate", None) == "none"
    assert CATALOG.level("delay_rate", float("nan")) == "none"
    assert CATALOG.level("delay_rate", 0.02) == "good"
    assert CATALOG.level("delay_rate", 0.05) == "warning"  # the threshold itself counts
    assert CATALOG.level("delay_rate", 0.12) == "critical"
    assert CATALOG.level("orders_placed_today", 12) == "none"  # not graded


def test_descriptions_keep_the_contract_wording():
    assert "no value" in CATALOG["delay_rate"].description
    assert "never 0 % or 100 %" in CATALOG["delay_rate"].description
    assert "median time in stage" in CATALOG["at_risk"].description
    assert "max(0, time in stage - stage SLA)" in CATALOG["delay_contribution"].description


def test_a_deployment_changes_thresholds_and_bad_tables_are_refused():
    custom = CATALOG.with_thresholds({"delay_rate": {"warning": 0.2, "critical": 0.3}})
    assert custom.level("delay_rate", 0.12) == "good"
    assert CATALOG.level("delay_rate", 0.12) == "critical"  # the default catalog is unchanged
    with pytest.raises(ValueError, match=r"\[metrics.delay_rat\]: unknown metric"):
        CATALOG.with_thresholds({"delay_rat": {"warning": 0.2}})
    with pytest.raises(ValueError, match="unknown key"):
        CATALOG.with_thresholds({"delay_rate": {"warn": 0.2}})
    with pytest.raises(ValueError, match="must be a number"):
        CATALOG.with_thresholds({"delay_rate": {"warning": "high"}})
    with pytest.raises(ValueError, match="must come before"):
        CATALOG.with_thresholds({"delay_rate": {"warning": 0.3, "critical": 0.2}})
    with pytest.raises(ValueError, match="not graded"):
        CATALOG.with_thresholds({"placed": {"warning": 3}})


def test_thresholds_come_from_the_config_file(tmp_path, monkeypatch):
    from dashboard.context import AppContext
    from datasource.settings import load_settings

    config = tmp_path / "board.toml"
    config.write_text("[metrics.overdue_now]\nwarning = 3\ncritical = 9\n", "utf-8")
    monkeypatch.delenv("ORDERBOARD_CONFIG", raising=False)
    settings = load_settings(config_file=str(config))
    ctx = AppContext(settings, None, None)  # type: ignore[arg-type]
    assert (ctx.catalog["overdue_now"].warning, ctx.catalog["overdue_now"].critical) == (3, 9)
    assert ctx.catalog.level("overdue_now", 2) == "good"


@pytest.fixture
def summary(store):
    load(store.engine)
    return store, compute_summary(store.engine, PIPELINE, WINDOW, None, NOW)


def test_each_metric_counts_the_rows_of_its_population(summary):
    store, s = summary
    checked = 0
    for name, metric in CATALOG.items():
        if metric.population is None:
            continue
        if metric.value is not None:
            _, total = orders_behind_page(store.engine, PIPELINE, metric.population, WINDOW, None, NOW, limit=1)
            assert total == metric.rows(s), name
            checked += 1
        for row in s.stages.itertuples():
            if metric.stage_value is None or metric.population.startswith("stage_") is False:
                continue
            _, total = orders_behind_page(store.engine, PIPELINE, metric.population, WINDOW, None, NOW,
                                          stage=row.code, limit=1)
            column = {"stage_visits": "visits", "stage_breaches": "breaches",
                      "stage_open_breaches": "open_breaches_now", "stage_delayed": "delayed_orders"}
            assert total == getattr(row, column[metric.population]), (name, row.code)
    assert checked >= 12


def test_stage_colour_follows_the_share_over_sla_now(summary):
    _, s = summary
    colour = CATALOG[STAGE_COLOUR]
    for row in s.stages.itertuples():
        share = colour.read_stage(row)
        if row.wip:
            assert share == pytest.approx(row.open_breaches_now / row.wip)
        else:
            assert share is None and colour.level(share) == "none"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_labels_live_only_in_the_catalog():
    """A metric's label appears as a string in no module but the catalog: screens read it."""
    labels = {}
    for m in CATALOG.values():
        labels[m.label_zh] = m.name
        labels[m.label_en] = m.name
    offenders = []
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "metrics" / "catalog.py":
                continue
            for text in _string_constants(path) & labels.keys():
                offenders.append(f"{path.relative_to(ROOT)}: {text!r} ({labels[text]})")
    assert offenders == []


def test_thresholds_are_set_only_in_the_catalog():
    """No module but the catalog builds a metric or passes warning/critical values."""
    offenders = []
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "metrics" / "catalog.py":
                continue
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    limits = [k for k in node.keywords if k.arg in ("warning", "critical")
                              and isinstance(k.value, ast.Constant) and isinstance(k.value.value, int | float)]
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    if name == "Metric" or limits:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []

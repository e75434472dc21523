"""KPI tiles: the wall's, the overview's and the review's read one metric the same way."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dashboard.components.kpi import manager_tile, thresholds, value_parts, value_text, wall_tile
from dashboard.layouts.overview import TILES
from dashboard.layouts.wall import KPI_TILES
from datasource.demo import generate, seed_store
from metrics.catalog import CATALOG
from metrics.summary import compute_summary
from metrics.window import Filters, Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    from datasource.pipeline import default_pipeline
    from datasource.store import open_store

    pipeline = default_pipeline()
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('kpi') / 'store.db'}", pipeline)
    seed_store(engine, pipeline, generate(seed=3, n_orders=300, end=END))
    return compute_summary(engine, pipeline, Window.last_days(7, END, "Asia/Shanghai"), Filters(), END)


@pytest.mark.parametrize("unit_metric, value, parts, text", [
    ("delay_rate", 0.0525, ("5.2", "%"), "5.2%"),
    ("delay_rate", None, ("—", ""), "—"),
    ("wip", 1204, ("1,204", ""), "1,204"),
])
def test_value_parts_and_text(unit_metric, value, parts, text):
    assert value_parts(CATALOG[unit_metric], value, "en") == parts
    assert value_text(CATALOG[unit_metric], value, "en") == text


def test_thresholds_read_the_catalog():
    metric = CATALOG["delay_rate"]
    assert thresholds(metric, "en") == [("warning", f"≥{metric.warning * 100:g}%"),
                                        ("critical", f"≥{metric.critical * 100:g}%")]


@pytest.mark.parametrize("name", sorted(set(KPI_TILES) | set(TILES)))
def test_wall_and_overview_tiles_show_one_value_and_level(summary, name):
    metric = CATALOG[name]
    value = metric.read(summary)
    wall = wall_tile(metric, value, "en", "/stages/all?metric=" + name).to_plotly_json()["props"]
    desk = manager_tile(metric, value, 3, "note", "en", "/stages/all").to_plotly_json()["props"]
    level = f"ob-level-{metric.level(value)}"
    assert level in wall["className"].split() and level in desk["className"].split()
    shown, unit = value_parts(metric, value, "en")
    number = wall["children"][1].children
    assert (number[0].children, number[1].children) == (shown, unit)
    assert desk["children"].children[1].children == value_text(metric, value, "en")
    assert wall["data-metric"] == name and desk["data-count"] == "3"

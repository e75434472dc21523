"""Acceptance on the real Olist sample imported with examples/olist/mapping.toml."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from conftest import require_data_file

from datasource.importers.run import import_file, prepare_import
from metrics.drilldown import orders_behind
from metrics.summary import compute_summary
from metrics.window import Window

ROOT = Path(__file__).resolve().parents[2]
OLIST = Path(os.environ.get("ORDERBOARD_OLIST_DIR", ROOT.parent / "shared" / "data" / "olist")) / "olist_orders_dataset.csv"
OLIST_MAPPING = ROOT / "examples" / "olist" / "mapping.toml"


def olist_or_skip() -> Path:
    return require_data_file(OLIST, "the Olist sample", "ORDERBOARD_OLIST_DIR")

WHOLE_RANGE = Window(datetime(2016, 1, 1, tzinfo=timezone.utc), datetime(2019, 1, 1, tzinfo=timezone.utc))
NOW = WHOLE_RANGE.end


def test_olist_whole_range(store, tmp_path: Path):
    path = olist_or_skip()
    import_file(store.engine, prepare_import(path, OLIST_MAPPING, store.pipeline), tmp_path / "rejects.csv")
    s = compute_summary(store.engine, store.pipeline, WHOLE_RANGE, None, NOW)
    # Timestamps read in America/Sao_Paulo; promised date = end of that local day.
    assert (s.delay.completed, s.delay.late) == (5164, 342)
    assert round(s.delay.rate * 100, 2) == 6.62
    assert round(s.cycle_time.median_d, 2) == 10.34
    assert round(s.cycle_time.mean_d, 2) == 12.52
    assert round(s.cycle_time.p90_d, 2) == 22.76
    assert s.delay.without_promise == 0
    # Carrier dates before approval (77 orders) and deliveries before the carrier date are
    # out-of-pipeline-order findings; the visits follow the clock, so no stage statistic
    # holds a negative duration.
    assert s.anomalies == {}
    assert all(s.stages[c].min() >= 0 for c in ("mean_h", "median_h", "p90_h") if s.stages[c].notna().any())
    for what, expected in (("completed", 5164), ("late", 342), ("anomalies", 0)):
        assert len(orders_behind(store.engine, store.pipeline, what, WHOLE_RANGE, None, NOW)) == expected

"""``orderboard quality``: stored findings by kind, one kind in full, JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from datasource.importers.run import import_file, prepare_import
from orderboard.cli import app

MAPPING = """
shape = "milestones"
source = "ledger"
[columns]
order_number = "order"
status = "status"
[milestones]
placed = "placed"
reviewed = "reviewed"
shipped = "shipped"
[status]
cancelled = ["void"]
"""
LEDGER = """order,status,placed,reviewed,shipped
Q1,open,2026-11-02 10:00,2026-11-02 09:00,2026-11-03 10:00
Q2,void,2026-11-02 10:00,2026-11-02 11:00,2026-11-01 10:00
Q3,open,2026-11-02 10:00,,2026-11-01 10:00
Q4,open,2026-11-04 10:00,2026-11-04 12:00,2026-11-04 11:00
"""


def quality(store, *args: str):
    result = CliRunner().invoke(app, ["quality", "--db", store.url, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def load(store, tmp_path) -> None:
    (tmp_path / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    plan = prepare_import(tmp_path / "ledger.csv", tmp_path / "m.toml", store.pipeline, tz="UTC")
    import_file(store.engine, plan, tmp_path / "r.csv")


def test_quality_on_an_empty_store(store):
    assert quality(store) == "no data-quality findings\n"
    assert json.loads(quality(store, "--json")) == []


def test_quality_counts_and_lists(store, tmp_path):
    # Visits follow the clock; a stage entered after one that follows it in the pipeline is
    # a finding. Q1: placed after reviewed. Q2 (cancelled): shipped first, then placed and
    # reviewed after it (two). Q3: placed after shipped. Q4: reviewed after shipped.
    load(store, tmp_path)
    assert quality(store).splitlines() == [
        "5  out_of_pipeline_order",
        "1  cancelled_but_shipped",
        "6 findings of 2 kinds",
    ]
    # read in UTC, shown in the pipeline's zone (Asia/Shanghai, +8)
    assert quality(store, "--kind", "out_of_pipeline_order").splitlines() == [
        "Q1  line 2 of ledger: placed entered 2026-11-02 18:00:00 after reviewed 2026-11-02 17:00:00, "
        "which follows it in the pipeline (Asia/Shanghai)",
        "Q2  line 3 of ledger: placed entered 2026-11-02 18:00:00 after shipped 2026-11-01 18:00:00, "
        "which follows it in the pipeline (Asia/Shanghai)",
        "Q2  line 3 of ledger: reviewed entered 2026-11-02 19:00:00 after shipped 2026-11-01 18:00:00, "
        "which follows it in the pipeline (Asia/Shanghai)",
        "Q3  line 4 of ledger: placed entered 2026-11-02 18:00:00 after shipped 2026-11-01 18:00:00, "
        "which follows it in the pipeline (Asia/Shanghai)",
        "Q4  line 5 of ledger: reviewed entered 2026-11-04 20:00:00 after shipped 2026-11-04 19:00:00, "
        "which follows it in the pipeline (Asia/Shanghai)",
        "5 findings of kind out_of_pipeline_order",
    ]
    found = json.loads(quality(store, "--kind", "cancelled_but_shipped", "--json"))
    assert [(f["order_number"], f["kind"], f["line"], f["source"], f["detail"]) for f in found] == [
        ("Q2", "cancelled_but_shipped", 3, "ledger",
         "status 'void' says cancelled but it has shipped 2026-11-01 10:00:00"),
    ]
    assert json.loads(quality(store, "--json")) == [
        {"kind": "out_of_pipeline_order", "count": 5}, {"kind": "cancelled_but_shipped", "count": 1},
    ]
    assert quality(store, "--kind", "nothing_like_this") == "no findings of kind 'nothing_like_this'\n"


def test_quality_without_a_store_says_so_and_creates_nothing(tmp_path):
    missing = tmp_path / "nothing.db"
    result = CliRunner().invoke(app, ["quality", "--db", f"sqlite:///{missing}"])
    assert (result.exit_code, result.stderr) == (
        1, f"error: no order store at {missing}; create it with 'orderboard init' (then 'orderboard "
           "import FILE'), or run 'orderboard demo' and pass --db sqlite:///orderboard-demo.db\n")
    assert not missing.exists()

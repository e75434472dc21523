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
    # Q1: reviewed before placed. Q2: cancelled, shipped before reviewed. Q3: not reviewed,
    # so its shipment is compared with the placement. Q4: shipped before reviewed.
    load(store, tmp_path)
    assert quality(store).splitlines() == [
        "2  shipped_before_reviewed",
        "1  cancelled_but_shipped",
        "1  reviewed_before_placed",
        "1  shipped_before_placed",
        "5 findings of 4 kinds",
    ]
    assert quality(store, "--kind", "shipped_before_reviewed").splitlines() == [
        "Q2  line 3 of ledger: shipped 2026-11-01 10:00:00 is earlier than reviewed 2026-11-02 11:00:00 (UTC)",
        "Q4  line 5 of ledger: shipped 2026-11-04 11:00:00 is earlier than reviewed 2026-11-04 12:00:00 (UTC)",
        "2 findings of kind shipped_before_reviewed",
    ]
    found = json.loads(quality(store, "--kind", "cancelled_but_shipped", "--json"))
    assert [(f["order_number"], f["kind"], f["line"], f["source"], f["detail"]) for f in found] == [
        ("Q2", "cancelled_but_shipped", 3, "ledger",
         "status 'void' says cancelled but it has shipped 2026-11-01 10:00:00"),
    ]
    assert json.loads(quality(store, "--json")) == [
        {"kind": "shipped_before_reviewed", "count": 2}, {"kind": "cancelled_but_shipped", "count": 1},
        {"kind": "reviewed_before_placed", "count": 1}, {"kind": "shipped_before_placed", "count": 1},
    ]
    assert quality(store, "--kind", "nothing_like_this") == "no findings of kind 'nothing_like_this'\n"


def test_quality_without_a_store_says_so_and_creates_nothing(tmp_path):
    missing = tmp_path / "nothing.db"
    result = CliRunner().invoke(app, ["quality", "--db", f"sqlite:///{missing}"])
    assert (result.exit_code, result.stderr) == (
        1, f"error: no order store at {missing}; create it with 'orderboard init' (then 'orderboard "
           "import FILE'), or run 'orderboard demo' and pass --db sqlite:///orderboard-demo.db\n")
    assert not missing.exists()

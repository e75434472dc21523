"""Values that do not fit the store are refused when the pipeline, the mapping and the
rows are read: one clear line each, the same on SQLite (which would store them) and
PostgreSQL (which would fail the whole batch)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datasource.importers.errors import ImportSetupError
from datasource.importers.run import import_file, prepare_import
from datasource.pipeline import Pipeline, PipelineError
from datasource.schema import OrderEvent

MAPPING = """
shape = "events"
{extra}
[columns]
order_number = "order"
stage = "stage"
timestamp = "at"
operator = "who"
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_stage_code_longer_than_the_column_is_a_pipeline_error():
    code = "Receive Result Appeal from Prefecture"  # 37 characters
    with pytest.raises(PipelineError, match=r"stage #1 code 'Receive Result Appeal from "
                                            r"Prefecture' is 37 characters long; at most 32 fit"):
        Pipeline.from_mapping({"stages": [{"code": code}, {"code": "received"}]})
    with pytest.raises(PipelineError, match=r"label_en .* at most 64"):
        Pipeline.from_mapping({"stages": [{"code": "a", "label_en": "x" * 65}]})


def test_mapping_constants_and_source_that_do_not_fit(tmp_path, pipeline):
    data = write(tmp_path, "d.csv", "order,stage,at,who\nA,placed,2026-11-02 08:00,me\n")
    too_long = write(tmp_path, "m.toml", MAPPING.format(extra="") + f'[constants]\nchannel = "{"c" * 65}"\n')
    with pytest.raises(ImportSetupError, match=r"constants. channel is 65 characters long; at most 64"):
        prepare_import(data, too_long, pipeline)
    source = write(tmp_path, "s.toml", MAPPING.format(extra=f'source = "{"s" * 129}"'))
    with pytest.raises(ImportSetupError, match="source is 129 characters long; at most 128"):
        prepare_import(data, source, pipeline)
    long_name = write(tmp_path, "n" * 130 + ".csv", data.read_text("utf-8"))
    plain = write(tmp_path, "p.toml", MAPPING.format(extra=""))
    with pytest.raises(ImportSetupError, match=r"file name is 134 characters long.*set source"):
        prepare_import(long_name, plain, pipeline)
    named = write(tmp_path, "q.toml", MAPPING.format(extra='source = "ledger"'))
    assert prepare_import(long_name, named, pipeline).source == "ledger"


def test_rows_with_values_that_do_not_fit_are_rejected_alike_on_both_backends(store, tmp_path):
    data = write(tmp_path, "d.csv", "order,stage,at,who\n"
                 "A,placed,2026-11-02 08:00,me\n"
                 f"A,paid,2026-11-02 09:00,{'w' * 65}\n"
                 f"{'B' * 65},placed,2026-11-02 08:00,me\n")
    plan = prepare_import(data, write(tmp_path, "m.toml", MAPPING.format(extra="")), store.pipeline)
    report = import_file(store.engine, plan, tmp_path / "r.csv")
    assert report.summary() == "imported 1, updated 0, unchanged 0, rejected 2, warnings 0"
    assert [(r.line, r.reason) for r in report.rejects] == [
        (3, "operator is longer than 64 characters"),
        (4, "order id is longer than 64 characters"),
    ]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderEvent)).scalar() == 1


def test_the_command_line_says_so_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from orderboard.cli import app

    config = write(tmp_path, "p.toml", f'[[stages]]\ncode = "{"s" * 33}"\n')
    data = write(tmp_path, "d.csv", "order,stage,at,who\n")
    mapping = write(tmp_path, "m.toml", MAPPING.format(extra=""))
    result = CliRunner().invoke(app, ["import", str(data), "--mapping", str(mapping), "--config",
                                      str(config), "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: configuration file {config}: stage #1 code '{'s' * 33}' is 33 characters long; "
        "at most 32 fit the store"]
    assert not (tmp_path / "s.db").exists()

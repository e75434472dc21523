"""XES event logs: the real help-desk log against its independently computed time in
stage and case durations (../shared/data/eventlogs), whatever order the pipeline file
lists the activities in; and the reader on hand-written files."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

import pytest
from conftest import require_data_file
from typer.testing import CliRunner

from datasource.importers.errors import ImportSetupError
from datasource.importers.reading import read_table
from datasource.importers.run import import_file, prepare_import
from datasource.pipeline import load_pipeline
from orderboard.cli import app

EVENTLOGS = Path(os.environ.get("ORDERBOARD_EVENTLOGS_DIR",
                                Path(__file__).resolve().parents[4] / "shared" / "data" / "eventlogs"))
HELPDESK = EVENTLOGS / "helpdesk.xes.gz"
MAPPING = """
shape = "events"
[columns]
order_number = "case:concept:name"
stage = "concept:name"
timestamp = "time:timestamp"
operator = "org:resource"
"""
# Everything the log holds (2010-2014), and a "now" long after it.
WINDOW = ["--from", "2009-01-01", "--to", "2015-12-31", "--now", "2026-11-30T00:00:00+00:00"]


def helpdesk_or_skip() -> Path:
    return require_data_file(HELPDESK, "the help-desk log", "ORDERBOARD_EVENTLOGS_DIR")


def reference_dwell() -> dict[str, dict[str, float]]:
    with (EVENTLOGS / "helpdesk_dwell.csv").open(encoding="utf-8") as fh:
        return {r["activity"]: {k: float(v) for k, v in r.items() if k != "activity"}
                for r in csv.DictReader(fh)}


def assert_matches_reference(stages: dict[str, dict], reference: dict[str, dict[str, float]]) -> None:
    """``orderboard metrics --json``'s stages (by code) give the reference's visits, mean,
    median and p90 time in stage (within 1 ms) and total (visits x mean)."""
    assert sorted(stages) == sorted(reference)
    for activity, ref in reference.items():
        got = stages[activity]
        assert got["visits"] == ref["visits"], activity
        assert got["mean_h"] * 3600 == pytest.approx(ref["mean_s"], abs=1e-3), activity
        assert got["median_h"] * 3600 == pytest.approx(ref["median_s"], abs=1e-3), activity
        assert got["p90_h"] * 3600 == pytest.approx(ref["p90_s"], abs=1e-3), activity
        assert got["total_h"] * 3600 == pytest.approx(ref["mean_s"] * ref["visits"], rel=1e-9)


def pipeline_toml(activities: list[str], pipeline_table: str = "") -> str:
    """A pipeline of [[stages]] in the given order (code, labels, SLA, department)."""
    stages = "".join(
        f'\n[[stages]]\ncode = "{a}"\nlabel_en = "{a}"\nlabel_zh = "{a}"\nsla_hours = 24\n'
        f'department = "Help desk"\n' for a in activities)
    return pipeline_table + stages


def import_helpdesk(tmp_path: Path, url: str, config_text: str) -> Path:
    config = tmp_path / "pipeline.toml"
    config.write_text(config_text, "utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, "utf-8")
    # Rejects and warnings go to tmp_path (by default they are written to the current
    # directory, which would leave them in the checkout).
    result = CliRunner().invoke(app, ["import", str(helpdesk_or_skip()), "--mapping", str(mapping),
                                      "--db", url, "--config", str(config),
                                      "--rejects", str(tmp_path / "rejects.csv")])
    assert result.exit_code == 0, result.output
    assert "imported 21221, updated 0, unchanged 127, rejected 0" in result.output
    return config


def metrics_json(url: str, config: Path) -> dict:
    result = CliRunner().invoke(app, ["metrics", "--db", url, "--config", str(config), *WINDOW,
                                      "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("order", ["alphabetical", "reversed"])
def test_helpdesk_time_in_stage_matches_the_independent_figures(store, tmp_path, order):
    reference = reference_dwell()
    activities = sorted(reference, reverse=order == "reversed")
    config = import_helpdesk(tmp_path, store.url, pipeline_toml(activities))
    data = metrics_json(store.url, config)
    stages = {s["code"]: s for s in data["stages"]}
    assert_matches_reference(stages, reference)
    # Without a terminal activity or the idle rule, every case is still open.
    assert (data["cycle_time"]["count"], data["wip"]) == (0, 4580)


def test_helpdesk_with_idle_completion_has_the_case_durations(sqlite_store, tmp_path):
    with (EVENTLOGS / "helpdesk_cases.json").open(encoding="utf-8") as fh:
        cases = json.load(fh)
    activities = sorted(reference_dwell())
    config = import_helpdesk(tmp_path, sqlite_store.url, pipeline_toml(
        activities, '[pipeline]\ncomplete_after_idle_days = 30\ntimezone = "UTC"\n'))
    data = metrics_json(sqlite_store.url, config)
    ct = data["cycle_time"]
    assert (ct["count"], data["wip"]) == (cases["cases"], 0)
    assert ct["mean_h"] * 3600 == pytest.approx(cases["mean_s"], abs=1e-3)
    assert ct["median_h"] * 3600 == pytest.approx(cases["median_s"], abs=1e-3)
    assert ct["p90_h"] * 3600 == pytest.approx(cases["p90_s"], abs=1e-3)
    # The visit that completes a case is its end point: the stage figures are unchanged.
    stages = {s["code"]: s for s in data["stages"]}
    for activity, ref in reference_dwell().items():
        assert stages[activity]["visits"] == ref["visits"], activity


def test_idle_completion_relative_to_the_newest_event(sqlite_store, tmp_path):
    # A historical store: idle relative to the log's own newest event, not to today.
    activities = sorted(reference_dwell())
    config = import_helpdesk(tmp_path, sqlite_store.url, pipeline_toml(
        activities, '[pipeline]\ncomplete_after_idle_days = 30\nidle_reference = "newest_event"\n'))
    data = metrics_json(sqlite_store.url, config)
    # independent route: cases whose last event is more than 30 days before the newest
    last: dict[str, str] = {}
    with gzip.open(HELPDESK, "rt", encoding="utf-8") as fh:
        case = None
        for line in fh:
            line = line.strip()
            if line.startswith('<string key="concept:name"') and case is None:
                case = line.split('value="')[1].split('"')[0]
            elif line.startswith('<date key="time:timestamp"'):
                stamp = line.split('value="')[1].split('"')[0]
                last[case] = max(last.get(case, stamp), stamp)
            elif line == "</trace>":
                case = None
    from datetime import datetime, timedelta
    times = {c: datetime.fromisoformat(t) for c, t in last.items()}
    cutoff = max(times.values()) - timedelta(days=30)
    idle = sum(t < cutoff for t in times.values())
    assert data["cycle_time"]["count"] == idle
    assert data["wip"] == len(times) - idle > 0


def write_xes(path: Path, body: str, compress: bool = False) -> Path:
    text = ('<?xml version="1.0" encoding="utf-8" ?>\n<log xes.version="1.0" '
            'xmlns="http://www.xes-standard.org/">\n' + body + "\n</log>\n")
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, "utf-8")
    return path


EVENT = ('<event><string key="concept:name" value="{a}"/><string key="lifecycle:transition" '
         'value="{l}"/><date key="time:timestamp" value="{t}"/></event>')


def test_reader_columns_values_lines_and_offsets(tmp_path):
    body = ('<trace><string key="concept:name" value="c1"/>'
            + EVENT.format(a="A", l="COMPLETE", t="2026-03-29T01:30:00.000+01:00") + "\n"
            + EVENT.format(a="B", l="complete", t="2026-03-29T03:30:00+02:00")
            + '<int key="cost" value="7"/></trace>')
    for compress in (False, True):
        path = write_xes(tmp_path / ("t.xes.gz" if compress else "t.xes"), body, compress)
        table = read_table(path)
        assert table.kind == "xes" and table.data_rows == 2
        assert table.header == ["case:concept:name", "case:cost", "concept:name",
                                "lifecycle:transition", "time:timestamp"]
        rows = list(table.rows())
        assert [line for line, _ in rows] == [3, 4]
        (_, first), (_, second) = rows
        assert first[:4] == ["c1", 7, "A", "COMPLETE"]
        # +01:00 and +02:00 (a clock change between them): one hour apart, as written
        assert (second[4] - first[4]).total_seconds() == 3600


@pytest.mark.parametrize("others, stored, skipped", [
    ("note", [("placed", "note"), ("placed", "enter"), ("paid", "note"), ("paid", "enter")], {}),
    ("skip", [("placed", "enter"), ("paid", "enter")], {"START": 1, "schedule": 1}),
])
def test_lifecycles_case_insensitive_start_rows_as_notes_or_skipped(store, tmp_path, others, stored,
                                                                     skipped):
    body = ('<trace><string key="concept:name" value="c1"/>'
            + EVENT.format(a="placed", l="START", t="2026-11-02T08:00:00+08:00")
            + EVENT.format(a="placed", l="COMPLETE", t="2026-11-02T09:00:00+08:00")
            + EVENT.format(a="paid", l="schedule", t="2026-11-02T09:30:00+08:00")
            + EVENT.format(a="paid", l="complete", t="2026-11-02T12:00:00+08:00")
            + "</trace>")
    path = write_xes(tmp_path / "l.xes.gz", body, compress=True)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.replace('operator = "org:resource"', 'event_type = "lifecycle:transition"')
                       + f'[event_types]\ncomplete = "enter"\nstart = "{others}"\nschedule = "{others}"\n',
                       "utf-8")
    report = import_file(store.engine, prepare_import(path, mapping, store.pipeline),
                         tmp_path / "r.csv")
    assert report.summary() == f"imported {len(stored)}, updated 0, unchanged 0, rejected 0, warnings 0"
    assert dict(report.skipped) == skipped
    from sqlalchemy import select

    from datasource.schema import OrderEvent, StageVisit
    with store.engine.connect() as conn:
        events = conn.execute(select(OrderEvent.stage_code, OrderEvent.event_type)
                              .order_by(OrderEvent.occurred_at)).all()
        visits = conn.execute(select(StageVisit.stage_code, StageVisit.duration_s)
                              .order_by(StageVisit.entered_at)).all()
    assert [tuple(e) for e in events] == stored
    # Either way the visits are the completions': a note enters no stage.
    assert [tuple(v) for v in visits] == [("placed", 3 * 3600.0), ("paid", None)]


@pytest.mark.parametrize("content, message", [
    ("<log><trace><event>", "not well-formed XES"),
    ("<html></html>", "not an XES log"),
    ('<log xmlns="http://www.xes-standard.org/"></log>', "the log has no events"),
])
def test_broken_files_fail_before_anything_is_written(tmp_path, content, message):
    path = tmp_path / "bad.xes"
    path.write_text(content, "utf-8")
    with pytest.raises(ImportSetupError, match=message):
        read_table(path)


def test_the_pipeline_needs_no_terminal_stage(tmp_path):
    config = tmp_path / "p.toml"
    config.write_text(pipeline_toml(["b", "a"]), "utf-8")
    pipeline = load_pipeline(config)
    assert pipeline.terminal is None
    assert [s.code for s in pipeline.flow_stages] == ["b", "a"]
    config.write_text(pipeline_toml(["placed", "received", "zeta"]), "utf-8")
    assert load_pipeline(config).terminal == "received"  # by name, never by position


def test_a_prefixed_xes_file_is_read(tmp_path):
    path = tmp_path / "p.xes"
    path.write_text('<?xml version="1.0"?><xes:log xmlns:xes="http://www.xes-standard.org/">'
                    '<xes:trace><xes:string key="concept:name" value="c9"/><xes:event>'
                    '<xes:string key="concept:name" value="A"/>'
                    '<xes:date key="time:timestamp" value="2026-01-02T03:04:05+01:00"/>'
                    '</xes:event></xes:trace></xes:log>', "utf-8")
    table = read_table(path)
    assert (table.data_rows, [v[:2] for _, v in table.rows()]) == (1, [["c9", "A"]])

"""Process-mining logs handed over as CSV: a lifecycle column (upper-case ``COMPLETE``, or
lower-case ``complete`` beside ``start`` and ``schedule`` rows), local times with mixed
+01:00/+02:00 offsets, a mapping in the everyday form. The real help-desk log written that
way must give its independently computed time in stage, whichever order the pipeline file
lists the activities in; and ``[event_types]`` may leave rows out (``skip``), counted,
neither stored nor rejected, on both import routes."""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_import_xes import assert_matches_reference, helpdesk_or_skip, pipeline_toml, reference_dwell
from typer.testing import CliRunner

from datasource.importers.errors import ImportSetupError
from datasource.importers.mapping import load_mapping
from datasource.importers.run import import_file, prepare_import
from orderboard.cli import app

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
XES = "{http://www.xes-standard.org/}"
WINDOW = ["--from", "2009-01-01", "--to", "2015-12-31", "--now", "2026-11-30T00:00:00+00:00"]
HEADER = ["Case ID", "Activity", "Complete Timestamp", "Resource", "lifecycle:transition"]
MAPPING = """shape = "events"
[columns]
order_number = "Case ID"
stage = "Activity"
timestamp = "Complete Timestamp"
operator = "Resource"
event_type = "lifecycle:transition"
[event_types]
"""


def helpdesk_events() -> list[tuple[str, str, datetime, str]]:
    """(case, activity, instant, resource) of every event, in file order, read with the
    standard library's XML parser (not the product's XES reader)."""
    events = []
    with gzip.open(helpdesk_or_skip(), "rb") as fh:
        for _, element in ET.iterparse(fh):
            if element.tag != f"{XES}trace":
                continue
            case = next(a.get("value") for a in element.findall(f"{XES}string")
                        if a.get("key") == "concept:name")
            for event in element.findall(f"{XES}event"):
                values = {a.get("key"): a.get("value") for a in event}
                events.append((case, values["concept:name"],
                               datetime.fromisoformat(values["time:timestamp"]),
                               values.get("org:resource", "")))
            element.clear()
    return events


def write_csv(path: Path, complete: str, extra_rows: bool) -> int:
    """The help-desk log as a CSV in Amsterdam local time; with ``extra_rows``, a third
    of the events are preceded by a ``start`` or ``schedule`` row of the same activity
    at the same instant. Returns the number of extra rows."""
    rng = random.Random(7)
    extra = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for case, activity, instant, resource in helpdesk_events():
            local = instant.astimezone(AMSTERDAM).isoformat(timespec="seconds")
            if extra_rows and rng.random() < 1 / 3:
                out.writerow([case, activity, local, resource, rng.choice(["start", "schedule"])])
                extra += 1
            out.writerow([case, activity, local, resource, complete])
    return extra


@pytest.fixture(scope="module")
def csv_logs(tmp_path_factory) -> dict[str, tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("lifecycle")
    logs = {}
    for name, complete, extra in (("upper", "COMPLETE", False), ("lower", "complete", True)):
        path = folder / f"{name}.csv"
        logs[name] = path, write_csv(path, complete, extra)
    return logs


CASES = {
    # lifecycle values as written, the mapping's [event_types], the rows left out
    "COMPLETE only": ("upper", 'COMPLETE = "enter"\n', False),
    "start and schedule as notes": ("lower", 'complete = "enter"\nstart = "note"\nschedule = "note"\n',
                                    False),
    "start and schedule skipped": ("lower", 'COMPLETE = "enter"\nStart = "skip"\nSCHEDULE = "skip"\n',
                                   True),
}


@pytest.mark.parametrize("order", ["alphabetical", "reversed"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_lifecycle_csv_gives_the_independent_time_in_stage(sqlite_store, tmp_path, csv_logs,
                                                                case, order):
    log, event_types, skipped = CASES[case]
    path, extra = csv_logs[log]
    reference = reference_dwell()
    config = tmp_path / "pipeline.toml"
    config.write_text(pipeline_toml(sorted(reference, reverse=order == "reversed")), "utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING + event_types, "utf-8")
    url = sqlite_store.url
    result = CliRunner().invoke(app, ["import", str(path), "--mapping", str(mapping), "--db", url,
                                      "--config", str(config), "--rejects", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    # Every row is stored (a repeated row as "unchanged": the same event twice) or skipped.
    counts = re.match(r"imported (\d+), updated 0, unchanged (\d+), rejected 0, warnings 0\n",
                      result.output)
    assert counts, result.output
    assert int(counts[1]) + int(counts[2]) == 21348 + (0 if skipped else extra)
    assert (f"skipped by [event_types]: {extra} rows (" in result.output) == skipped
    result = CliRunner().invoke(app, ["metrics", "--db", url, "--config", str(config), *WINDOW, "--json"])
    assert result.exit_code == 0, result.output
    stages = {s["code"]: s for s in json.loads(result.stdout)["stages"]}
    assert_matches_reference(stages, reference)


HEADER_LINE = ",".join(HEADER) + "\n"
SMALL = HEADER_LINE + """c1,placed,2026-11-02T09:00:00+01:00,ann,start
c1,placed,2026-11-02T10:00:00+01:00,ann,complete
c1,paid,not a time,bob,SCHEDULE
c1,paid,2026-11-02T12:00:00+01:00,bob,complete
c2,nowhere,2026-11-02T12:00:00+01:00,bob,start
c2,paid,2026-11-03T12:00:00+01:00,bob,suspend
c2,paid,2026-11-03T13:00:00+01:00,bob,complete
"""


@pytest.mark.parametrize("whole", [True, False], ids=["whole load", "batches"])
def test_skipped_rows_are_counted_not_stored_nor_rejected(store, tmp_path, whole):
    path = tmp_path / "log.csv"
    path.write_text(SMALL, "utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING + 'complete = "enter"\nstart = "skip"\nschedule = "skip"\n', "utf-8")
    report = import_file(store.engine, prepare_import(path, mapping, store.pipeline),
                         tmp_path / "r.csv", whole=whole)
    # A skipped row is left out before anything else of it is read: a bad time or an
    # unknown stage on it rejects nothing. An unmapped type is still a reject.
    assert report.summary() == "imported 3, updated 0, unchanged 0, rejected 1, warnings 0"
    assert dict(report.skipped) == {"start": 2, "SCHEDULE": 1}
    assert [(r.line, r.reason) for r in report.rejects] == [
        (7, "event type 'suspend' is not one of enter, complete, exception, resolve, note, cancel "
            "and not in [event_types]")]
    assert report.events_added == 3


def test_skip_is_the_only_word_beside_the_event_types(tmp_path, pipeline):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING + 'start = "skipped"\n', "utf-8")
    with pytest.raises(ImportSetupError, match=re.escape(
            "event type(s) skipped are not one of enter, complete, exception, resolve, note, cancel, skip")):
        load_mapping(mapping, pipeline)


def test_the_suggested_mapping_reads_a_lifecycle_csv_right(sqlite_store, tmp_path, csv_logs):
    # A newcomer's route: `orderboard mapping suggest`, then import with what it wrote.
    path, extra = csv_logs["lower"]
    reference = reference_dwell()
    config = tmp_path / "pipeline.toml"
    config.write_text(pipeline_toml(sorted(reference)), "utf-8")
    suggested = CliRunner().invoke(app, ["mapping", "suggest", str(path), "--config", str(config)])
    assert suggested.exit_code == 0, suggested.output
    text = suggested.stdout
    assert 'shape = "events"' in text and 'event_type = "lifecycle:transition"' in text
    # a lifecycle's "complete" must enter the stage: the store's own "complete" enters none
    assert '"complete" = "enter"' in text and '"start" = "skip"' in text and '"schedule" = "skip"' in text
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text, "utf-8")
    url = sqlite_store.url
    result = CliRunner().invoke(app, ["import", str(path), "--mapping", str(mapping), "--db", url,
                                      "--config", str(config), "--rejects", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert f"skipped by [event_types]: {extra} rows (" in result.output
    result = CliRunner().invoke(app, ["metrics", "--db", url, "--config", str(config), *WINDOW, "--json"])
    assert result.exit_code == 0, result.output
    assert_matches_reference({s["code"]: s for s in json.loads(result.stdout)["stages"]}, reference)


@pytest.mark.parametrize("event_types, warned", [
    ("", True),                       # the store's own complete: closes a stage, enters none
    ('complete = "enter"\n', False),  # the activity's event: enters the stage
])
def test_a_log_of_completions_that_enters_no_stage_is_pointed_out(sqlite_store, tmp_path, event_types,
                                                                    warned):
    path = tmp_path / "log.csv"
    path.write_text(HEADER_LINE + "c1,placed,2026-11-02T09:00:00+01:00,ann,COMPLETE\n"
                    "c1,paid,2026-11-02T12:00:00+01:00,bob,COMPLETE\n", "utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING + event_types, "utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--mapping", str(mapping), "--db", sqlite_store.url,
                                      "--rejects", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert ("note: 2 rows are complete events and none enters a stage" in result.output) == warned

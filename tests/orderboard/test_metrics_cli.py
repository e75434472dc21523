"""``orderboard metrics`` on the hand-worked store."""

from __future__ import annotations

import json
import re

from metrics_fixture import PIPELINE, load
from typer.testing import CliRunner

from orderboard.cli import app

CONFIG = """
[pipeline]
terminal = "received"
timezone = "Asia/Shanghai"
""" + "".join(
    f'\n[[stages]]\ncode = "{s.code}"\nlabel_zh = "{s.label_zh}"\nlabel_en = "{s.label_en}"\n'
    f"sla_hours = {s.sla_hours}\noptional = {str(s.optional).lower()}\n"
    for s in PIPELINE.stages
)
ARGS = ["--from", "2026-11-02", "--to", "2026-11-08", "--now", "2026-11-06T12:00:00+08:00"]


def test_metrics_command_json_and_text(sqlite_store, tmp_path):
    load(sqlite_store.engine)
    config = tmp_path / "pipeline.toml"
    config.write_text(CONFIG, "utf-8")
    runner = CliRunner()
    base = ["metrics", "--db", sqlite_store.url, "--config", str(config), *ARGS]
    result = runner.invoke(app, [*base, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["window"] == {"start": "2026-11-01T16:00:00+00:00", "end": "2026-11-08T16:00:00+00:00"}
    assert (data["delay"]["completed"], data["delay"]["late"], data["wip"]) == (7, 3, 4)
    assert data["bottleneck"] == "pick"
    filtered = json.loads(runner.invoke(app, [*base, "--json", "--customer", "acme"]).output)
    assert (filtered["delay"]["completed"], filtered["filters"]) == (5, {"customer": "acme"})
    text = runner.invoke(app, [*base, "--lang", "zh"])
    assert text.exit_code == 0
    assert re.search(r"^Orders completed +7$", text.output, re.M) and "备货" in text.output
    bad = runner.invoke(app, [*base[:5], "--from", "2026-13-01"])
    assert (bad.exit_code, bad.stderr) == (2, "error: --from 2026-13-01 is not a date (YYYY-MM-DD)\n")

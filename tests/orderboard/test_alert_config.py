"""Alert configuration: the minimal shape of the issue works; every mistake is one clear
error naming the key, at start (``orderboard`` commands refuse it in one line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from datasource.settings import Settings, load_settings
from orderboard.alerts.config import AlertConfigError, alert_config, duration
from orderboard.cli import app

MINIMAL = '''
[[alert_channels]]
name = "ops"
kind = "webhook"   # webhook | wecom | dingtalk | feishu | slack | email
url = "http://127.0.0.1:9999/hook"
secret = "s3cret"

[[alert_rules]]
name = "sla"
kind = "stage_sla"
channels = ["ops"]
'''


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ob.toml"
    path.write_text(text, "utf-8")
    return str(path)


def test_the_minimal_shape_of_the_issue(tmp_path):
    config = alert_config(load_settings(config_file=_write(tmp_path, MINIMAL)))
    assert list(config.channels) == ["ops"] and config.channels["ops"].secret == "s3cret"
    (rule,) = config.rules
    assert (rule.name, rule.kind, rule.channels, rule.for_s, rule.group_wait_s, rule.group_interval_s,
            rule.repeat_interval_s) == ("sla", "stage_sla", ("ops",), 0.0, 0.0, 300.0, 14400.0)
    assert config.interval_s == 60.0


def test_contacts_from_toml_and_csv(tmp_path):
    (tmp_path / "people.csv").write_text("name,wecom,mobile,feishu,email\n李四,lisi,13900000000,ou_ls,ls@x.cn\n",
                                         "utf-8")
    text = MINIMAL + '[alerts]\ncontacts_file = "people.csv"\n\n[[contacts]]\nname = "张三"\nwecom = "zhangsan"\n'
    contacts = alert_config(load_settings(config_file=_write(tmp_path, text))).contacts
    assert contacts["张三"].wecom == "zhangsan"
    assert (contacts["李四"].mobile, contacts["李四"].feishu, contacts["李四"].email) == ("13900000000", "ou_ls", "ls@x.cn")


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "sms"}, "[[alert_channels]] 'ops' kind: 'sms' is not one of"),
    ({"url": "ftp://x"}, "[[alert_channels]] 'ops' url must start with http:// or https://"),
    ({"colour": "red"}, "[[alert_channels]] 'ops': unknown key 'colour'"),
])
def test_channel_mistakes_name_the_key(change, message):
    channel = {"name": "ops", "kind": "webhook", "url": "http://h/x", **change}
    with pytest.raises(AlertConfigError) as err:
        alert_config(Settings(alert_tables={"alert_channels": [channel]}))
    assert message in str(err.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "late"}, "[[alert_rules]] 'r' kind: 'late' is not one of stage_sla, overdue"),
    ({"channels": ["pager"]}, "[[alert_rules]] 'r' channels: no [[alert_channels]] named 'pager'"),
    ({"channels": []}, "[[alert_rules]] 'r': missing key 'channels'"),
    ({"for": "soon"}, "[[alert_rules]] 'r' for must be a duration"),
    ({"stages": ["packing"]}, "[[alert_rules]] 'r' stages: unknown stage 'packing'"),
    ({"warning_share": 1.5}, "[[alert_rules]] 'r' warning_share must be between 0 and 1"),
    ({"within": "2h"}, "[[alert_rules]] 'r' within: not a key of kind stage_sla"),
    ({"to": ["boss"]}, "[[alert_rules]] 'r' to: 'boss' is not one of order_owner"),
    ({"scope": {"colour": "x"}}, "[[alert_rules]] 'r' scope: unknown key 'colour'"),
    ({"kind": "metric", "metric": "speed", "above": 1}, "[[alert_rules]] 'r' metric: unknown metric 'speed'"),
    ({"kind": "metric", "metric": "wip"}, "[[alert_rules]] 'r': give exactly one of above, below or level"),
    ({"kind": "metric", "metric": "placed", "level": "warning"}, "level: placed is not graded"),
    ({"kind": "metric", "metric": "wip", "above": 1, "per_stage": True, "stages": ["paid"]}, None),
    ({"kind": "metric", "metric": "throughput", "above": 1, "per_stage": False}, "is a per-stage metric"),
    ({"escalate": [{"channels": ["ops"]}]}, "[[alert_rules]] 'r' escalate #1: missing key 'after'"),
])
def test_rule_mistakes_name_the_key(change, message):
    rule = {"name": "r", "kind": "stage_sla", "channels": ["ops"], **change}
    tables = {"alert_channels": [{"name": "ops", "kind": "webhook", "url": "http://h/x"}], "alert_rules": [rule]}
    if message is None:
        assert alert_config(Settings(alert_tables=tables)).rules[0].condition.per_stage is True
        return
    with pytest.raises(AlertConfigError) as err:
        alert_config(Settings(alert_tables=tables))
    assert message in str(err.value)


def test_durations():
    assert [duration(v, "x") for v in (5, "30s", "5m", "2h", "1d", 0.5)] == [300, 30, 300, 7200, 86400, 30]
    with pytest.raises(AlertConfigError, match="x must be a duration"):
        duration("5 minutes", "x")


def test_a_command_refuses_a_bad_alert_table_in_one_line(tmp_path):
    path = _write(tmp_path, MINIMAL.replace('kind = "stage_sla"', 'kind = "sla_breach"'))
    result = CliRunner().invoke(app, ["init", "--db", f"sqlite:///{tmp_path / 's.db'}", "--config", path])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: configuration file")
    assert "[[alert_rules]] 'sla' kind: 'sla_breach' is not one of" in result.output
    assert not (tmp_path / "s.db").exists()

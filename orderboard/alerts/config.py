"""Alert rules, channels and contacts as data: the ``[alerts]``, ``[[alert_channels]]``,
``[[alert_rules]]`` and ``[[contacts]]`` tables of the TOML configuration (README,
"Alerts"). ``alert_config(settings)`` checks them all when a command or the worker
starts; a mistake is an ``AlertConfigError`` naming the table, the entry and the key.

Durations are a number of minutes or a text such as ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasource.queries import FILTERABLE
from datasource.settings import Settings
from metrics.alert_rules import KINDS, LEVELS, Condition
from metrics.catalog import CATALOG, Catalog

CHANNEL_KINDS = ("webhook", "wecom", "dingtalk", "feishu", "slack", "email")
TARGETS = ("order_owner", "stage_department", "stage_operator", "exception_owner")
GROUP_LABELS = ("order", "owner", "stage", "department", "operator", "exception_owner", "line", "customer")
CONTACT_FIELDS = ("name", "wecom", "mobile", "feishu", "slack", "email")
# Sending limits of each kind: (messages, seconds) windows. WeCom and DingTalk group
# robots take 20 a minute, a Feishu bot 5 a second and 100 a minute, a Slack incoming
# webhook about 1 a second; webhook and email take ``per_minute`` (default 60).
RATE_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((20, 60.0),),
    "dingtalk": ((20, 60.0),),
    "feishu": ((5, 1.0), (100, 60.0)),
    "slack": ((1, 1.0),),
    "webhook": ((60, 60.0),),
    "email": ((60, 60.0),),
}


class AlertConfigError(ValueError):
    """The alert configuration cannot be used; the message names the key."""


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    url: str
    secret: str | None = None
    to: tuple[str, ...] = ()  # email: fixed recipients
    limits: tuple[tuple[int, float], ...] = ()
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Escalation:
    after_s: float
    channels: tuple[str, ...]
    to: tuple[str, ...] = ()
    mention: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRule:
    name: str
    condition: Condition
    channels: tuple[str, ...]
    to: tuple[str, ...] = ()
    mention: tuple[str, ...] = ()
    for_s: float = 0.0
    group_by: tuple[str, ...] = ()
    group_wait_s: float = 0.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    escalation: tuple[Escalation, ...] = ()

    @property
    def kind(self) -> str:
        return self.condition.kind


@dataclass(frozen=True)
class Contact:
    name: str
    wecom: str = ""
    mobile: str = ""
    feishu: str = ""
    slack: str = ""
    email: str = ""


@dataclass(frozen=True)
class AlertConfig:
    channels: dict[str, Channel] = field(default_factory=dict)
    rules: tuple[AlertRule, ...] = ()
    contacts: dict[str, Contact] = field(default_factory=dict)
    interval_s: float = 60.0
    max_lines: int = 20

    @property
    def enabled(self) -> bool:
        return bool(self.rules)

    def rule(self, name: str) -> AlertRule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any, where: str) -> float:
    """Seconds of a duration: a number of minutes, or ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``."""
    if isinstance(value, bool):
        raise AlertConfigError(f"{where} must be a duration such as \"5m\", not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) * 60
    else:
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(value))
        if not found:
            raise AlertConfigError(f"{where} must be a duration such as \"30s\", \"5m\", \"2h\" "
                                   f"or a number of minutes, not {value!r}")
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds < 0:
        raise AlertConfigError(f"{where} must not be negative")
    return seconds


class _Table:
    """Reads one TOML table, refusing keys it does not know, naming where it is."""

    def __init__(self, data: Any, where: str, allowed: set[str]) -> None:
        if not isinstance(data, Mapping):
            raise AlertConfigError(f"{where} must be a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise AlertConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        self.data, self.where = data, where

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        if key not in self.data:
            if required:
                raise AlertConfigError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise AlertConfigError(f"{self.where} {key} must be a non-empty text, not {value!r}")
        return value.strip()

    def texts(self, key: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise AlertConfigError(f"{self.where} {key} must be a list of texts, not {value!r}")
        for v in value:
            if choices is not None and v not in choices:
                raise AlertConfigError(f"{self.where} {key}: {v!r} is not one of {', '.join(choices)}")
        return tuple(value)

    def number(self, key: str, default: float | None, low: float | None = None,
               high: float | None = None) -> float | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AlertConfigError(f"{self.where} {key} must be a number, not {value!r}")
        if (low is not None and value <= low) or (high is not None and value >= high):
            raise AlertConfigError(f"{self.where} {key} must be between {low} and {high} (exclusive), "
                                   f"not {value!r}")
        return float(value)

    def duration(self, key: str, default: float) -> float:
        return duration(self.data[key], f"{self.where} {key}") if key in self.data else default


CHANNEL_KEYS = {"name", "kind", "url", "secret", "to", "per_minute", "timeout"}
RULE_KEYS = {"name", "kind", "channels", "to", "mention", "for", "group_by", "group_wait",
             "group_interval", "repeat_interval", "escalate", "stages", "stage", "scope",
             "severity", "warning_share", "within", "near_end", "after", "metric", "above",
             "below", "level", "per_stage", "window_days"}
ALERTS_KEYS = {"interval", "group_wait", "group_interval", "repeat_interval", "contacts_file", "max_lines"}


def alert_config(settings: Settings, catalog: Catalog | None = None) -> AlertConfig:
    """The checked alert configuration of ``settings`` (empty when it has none)."""
    tables = settings.alert_tables
    catalog = catalog or CATALOG.with_thresholds(settings.metric_thresholds)
    base = Path(settings.config_file).parent if settings.config_file else Path(".")
    alerts = _Table(tables.get("alerts", {}), "[alerts]", ALERTS_KEYS)
    defaults = {
        "group_wait": alerts.duration("group_wait", 0.0),
        "group_interval": alerts.duration("group_interval", 300.0),
        "repeat_interval": alerts.duration("repeat_interval", 4 * 3600.0),
    }
    channels = _channels(tables.get("alert_channels", []))
    contacts = _contacts(tables.get("contacts", []), alerts.text("contacts_file"), base)
    rules = _rules(tables.get("alert_rules", []), channels, settings, catalog, defaults)
    interval = alerts.duration("interval", 60.0)
    if interval < 1:
        raise AlertConfigError("[alerts] interval must be at least 1 second")
    max_lines = int(alerts.number("max_lines", 20, 0) or 20)
    return AlertConfig(channels, rules, contacts, interval, max_lines)


def _array(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise AlertConfigError(f"[[{name}]] must be an array of tables (write [[{name}]])")
    return value


def _where(table: str, index: int, data: Any) -> str:
    """How an entry is named in errors: by its name when it has one, else its number."""
    name = data.get("name") if isinstance(data, Mapping) else None
    return f"[[{table}]] {name!r}" if isinstance(name, str) and name.strip() else f"[[{table}]] #{index + 1}"


def _named(raw: Any, table: str, keys: Any) -> Iterator[tuple[_Table, str]]:
    """Each entry of an array of tables with its name; a missing or repeated name is an error."""
    seen: set[str] = set()
    for i, data in enumerate(_array(raw, table)):
        t = _Table(data, _where(table, i, data), keys)
        name = t.text("name", required=True)
        t.where = f"[[{table}]] {name!r}"
        if name in seen:
            raise AlertConfigError(f"{t.where}: the name is used twice")
        seen.add(name)
        yield t, name


def _channels(raw: Any) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    for t, name in _named(raw, "alert_channels", CHANNEL_KEYS):
        kind = t.text("kind", required=True)
        if kind not in CHANNEL_KINDS:
            raise AlertConfigError(f"{t.where} kind: {kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
        url = t.text("url", required=True)
        scheme = url.split("://", 1)[0].lower()
        wanted = ("smtp", "smtps") if kind == "email" else ("http", "https")
        if scheme not in wanted or "://" not in url:
            raise AlertConfigError(f"{t.where} url must start with {' or '.join(s + '://' for s in wanted)}, "
                                   f"not {url!r}")
        to = t.texts("to")
        if kind == "email" and not to:
            to = ()
        limits = RATE_LIMITS[kind]
        per_minute = t.number("per_minute", None, 0)
        if per_minute is not None:
            if kind not in ("webhook", "email"):
                raise AlertConfigError(f"{t.where} per_minute: {kind} has its own published limit")
            limits = ((int(per_minute), 60.0),)
        out[name] = Channel(name, kind, url, t.text("secret"), to, limits,
                            float(t.number("timeout", 10.0, 0, 60) or 10.0))
    return out


def _contacts(raw: Any, contacts_file: str | None, base: Path) -> dict[str, Contact]:
    rows: list[tuple[str, Mapping]] = [(f"[[contacts]] #{i + 1}", d) for i, d in enumerate(_array(raw, "contacts"))]
    if contacts_file:
        path = Path(contacts_file)
        path = path if path.is_absolute() else base / path
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                unknown = sorted(set(reader.fieldnames or []) - set(CONTACT_FIELDS))
                if "name" not in (reader.fieldnames or []) or unknown:
                    raise AlertConfigError(
                        f"[alerts] contacts_file {path}: columns must be {', '.join(CONTACT_FIELDS)} "
                        f"(with name){'; unknown: ' + ', '.join(unknown) if unknown else ''}")
                rows += [(f"{path} line {n + 2}", {k: v for k, v in r.items() if v})
                         for n, r in enumerate(reader)]
        except OSError as exc:
            raise AlertConfigError(f"[alerts] contacts_file {path}: {exc.strerror or exc}") from None
    out: dict[str, Contact] = {}
    for where, data in rows:
        t = _Table(data, where, set(CONTACT_FIELDS))
        name = t.text("name", required=True)
        out[name] = Contact(**{k: (t.text(k) or "") for k in CONTACT_FIELDS})
    return out


def _rules(raw: Any, channels: Mapping[str, Channel], settings: Settings, catalog: Catalog,
           defaults: Mapping[str, float]) -> tuple[AlertRule, ...]:
    out: list[AlertRule] = []
    for t, name in _named(raw, "alert_rules", RULE_KEYS):
        if len(name) > 64:
            raise AlertConfigError(f"{t.where} name is longer than 64 characters")
        kind = t.text("kind", required=True)
        if kind not in KINDS:
            raise AlertConfigError(f"{t.where} kind: {kind!r} is not one of {', '.join(KINDS)}")
        rule_channels = _known_channels(t, "channels", channels, required=True)
        condition = _condition(t, kind, settings, catalog)
        escalation = []
        for n, step in enumerate(_array(t.data.get("escalate", []), "alert_rules.escalate")):
            s = _Table(step, f"{t.where} escalate #{n + 1}", {"after", "channels", "to", "mention"})
            if "after" not in step:
                raise AlertConfigError(f"{s.where}: missing key 'after'")
            escalation.append(Escalation(s.duration("after", 0.0), _known_channels(s, "channels", channels, True),
                                         s.texts("to", TARGETS), s.texts("mention")))
        out.append(AlertRule(
            name=name, condition=condition, channels=rule_channels, to=t.texts("to", TARGETS),
            mention=t.texts("mention"),
            for_s=t.duration("for", 300.0 if kind == "metric" else 0.0),
            group_by=t.texts("group_by", GROUP_LABELS),
            group_wait_s=t.duration("group_wait", defaults["group_wait"]),
            group_interval_s=t.duration("group_interval", defaults["group_interval"]),
            repeat_interval_s=t.duration("repeat_interval", defaults["repeat_interval"]),
            escalation=tuple(sorted(escalation, key=lambda e: e.after_s)),
        ))
    return tuple(out)


def _known_channels(t: _Table, key: str, channels: Mapping[str, Channel], required: bool) -> tuple[str, ...]:
    names = t.texts(key)
    if required and not names:
        raise AlertConfigError(f"{t.where}: missing key {key!r} (a list of [[alert_channels]] names)")
    for n in names:
        if n not in channels:
            known = ", ".join(channels) or "none defined"
            raise AlertConfigError(f"{t.where} {key}: no [[alert_channels]] named {n!r} ({known})")
    return names


def _condition(t: _Table, kind: str, settings: Settings, catalog: Catalog) -> Condition:
    pipeline = settings.pipeline
    stages = t.texts("stages") + ((t.text("stage"),) if "stage" in t.data else ())
    for code in stages:
        if code not in pipeline.codes:
            raise AlertConfigError(f"{t.where} stages: unknown stage {code!r} (one of {', '.join(pipeline.codes)})")
    scope = t.data.get("scope", {})
    s = _Table(scope, f"{t.where} scope", set(FILTERABLE))
    scope = {k: s.text(k) for k in s.data}
    severity = t.text("severity")
    if severity is not None and severity not in LEVELS:
        raise AlertConfigError(f"{t.where} severity: {severity!r} is not one of {', '.join(LEVELS)}")
    specific = {
        "stage_sla": {"warning_share"}, "due_soon": {"within", "near_end"}, "at_risk": {"window_days"},
        "exception_open": {"after"}, "metric": {"metric", "above", "below", "level", "per_stage", "window_days"},
        "overdue": set(),
    }
    for key in set().union(*specific.values()) - specific[kind]:
        if key in t.data:
            raise AlertConfigError(f"{t.where} {key}: not a key of kind {kind}")
    near_end = t.texts("near_end") if "near_end" in t.data else None
    for code in near_end or ():
        if code not in pipeline.codes:
            raise AlertConfigError(f"{t.where} near_end: unknown stage {code!r}")
    window_days = t.number("window_days", 7, 0)
    values: dict[str, Any] = {
        "kind": kind, "stages": stages, "scope": scope, "severity": severity,
        "warning_share": t.number("warning_share", None, 0, 1),
        "within_s": t.duration("within", 24 * 3600.0), "near_end": near_end,
        "after_s": t.duration("after", 30 * 60.0), "window_days": int(window_days or 7),
    }
    if kind == "metric":
        name = t.text("metric", required=True)
        if name not in catalog:
            raise AlertConfigError(f"{t.where} metric: unknown metric {name!r} (one of {', '.join(catalog)})")
        metric = catalog[name]
        given = [k for k in ("above", "below", "level") if k in t.data]
        if len(given) != 1:
            raise AlertConfigError(f"{t.where}: give exactly one of above, below or level")
        level = t.text("level")
        if level is not None and level not in LEVELS:
            raise AlertConfigError(f"{t.where} level: {level!r} is not one of {', '.join(LEVELS)}")
        if level is not None and metric.good_direction is None:
            raise AlertConfigError(f"{t.where} level: {name} is not graded; use above or below")
        per_stage = t.data.get("per_stage", metric.value is None)
        if not isinstance(per_stage, bool):
            raise AlertConfigError(f"{t.where} per_stage must be true or false")
        if per_stage and metric.stage_value is None:
            raise AlertConfigError(f"{t.where} per_stage: {name} has no per-stage value")
        if not per_stage and metric.value is None:
            raise AlertConfigError(f"{t.where} per_stage: {name} is a per-stage metric")
        values.update(metric=name, above=t.number("above", None), below=t.number("below", None),
                      level=level, per_stage=per_stage)
    return Condition(**values)

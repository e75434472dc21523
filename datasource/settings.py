"""Settings, layered: defaults < TOML configuration file < environment < explicit arguments.

Declared as data so the CLI, the docs and the tests read the same list.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from datasource.pipeline import Pipeline, load_pipeline

# The languages of the screens and reports; a page's ``?lang=`` overrides the ``lang`` setting.
LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "ORDERBOARD_DATABASE_URL", "sqlite:///orderboard.db",
            "SQLAlchemy URL of the order store (SQLite file or postgresql+psycopg://...)."),
    Setting("cache_url", "ORDERBOARD_CACHE_URL", None,
            "redis://host:port/db for a shared cache; a file-system cache when unset."),
    Setting("cache_dir", "ORDERBOARD_CACHE_DIR", None,
            "Folder of the file-system cache (default: a folder in the system temp dir)."),
    Setting("config_file", "ORDERBOARD_CONFIG", None,
            "TOML file with [pipeline], [[stages]] and screen settings."),
    Setting("report_dir", "ORDERBOARD_REPORT_DIR", "reports",
            "Folder the scheduled weekly report is written to."),
    Setting("smtp_url", "ORDERBOARD_SMTP_URL", None,
            "smtp://host:port to email the weekly report; no email when unset."),
    Setting("report_to", "ORDERBOARD_REPORT_TO", None,
            "Comma-separated recipients of the weekly report."),
    Setting("public_url", "ORDERBOARD_PUBLIC_URL", "http://127.0.0.1:8050",
            "Address people open the dashboard at; alert messages link to it."),
    Setting("alert_secret", "ORDERBOARD_ALERT_SECRET", None,
            "Key that signs the acknowledge links of alert messages (default: a random "
            "key kept in the store)."),
    Setting("wait_s", "ORDERBOARD_WAIT_S", "10",
            "Longest wait of a web request for the order store, in seconds: PostgreSQL "
            "statement and connect timeouts, SQLite busy timeout, connection-pool checkout, "
            "cache-lock wait. Keep it below a third of the web worker's timeout."),
    Setting("cache_wait_s", "ORDERBOARD_CACHE_WAIT_S", "0.25",
            "Longest wait for one Redis call (socket and connect timeouts), in seconds; "
            "after a failure the cache is skipped for a few seconds."),
    Setting("lang", "ORDERBOARD_LANG", DEFAULT_LANG,
            "Language of every page unless its URL says `?lang=`: zh or en."),
    Setting("secret_key", "ORDERBOARD_SECRET_KEY", None,
            "Key that signs login sessions (at least 32 characters; never printed). Setting "
            "it turns logins on, which serving beyond this computer requires."),
    Setting("idle_minutes", "ORDERBOARD_IDLE_MINUTES", "60",
            "Minutes without a request after which a login session ends (wall display "
            "tokens do not time out)."),
    Setting("allowed_hosts", "ORDERBOARD_ALLOWED_HOSTS", None,
            "Comma-separated host names the server answers to (the Host header, e.g. "
            "`board.example.com`); any when unset."),
)

# The configuration file's tables about alerts, kept as written and checked by
# ``orderboard.alerts.config`` (which knows the metric catalog and the channel kinds).
ALERT_TABLES = ("alerts", "alert_channels", "alert_rules", "contacts")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///orderboard.db"
    cache_url: str | None = None
    cache_dir: str | None = None
    config_file: str | None = None
    report_dir: str = "reports"
    smtp_url: str | None = None
    report_to: str | None = None
    public_url: str = "http://127.0.0.1:8050"
    alert_secret: str | None = None
    wait_s: float = 10.0
    cache_wait_s: float = 0.25
    lang: str = DEFAULT_LANG
    secret_key: str | None = field(default=None, repr=False)
    idle_minutes: float = 60.0
    allowed_hosts: str | None = None
    pipeline: Pipeline = field(default_factory=lambda: load_pipeline(None))
    # The config file's [metrics.<name>] tables (warning/critical thresholds), checked
    # against the catalog by ``metrics.catalog.Catalog.with_thresholds``.
    metric_thresholds: dict[str, dict] = field(default_factory=dict)
    # The config file's alert tables (``ALERT_TABLES``), as written.
    alert_tables: dict[str, object] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        return self.pipeline.timezone


class SettingError(ValueError):
    """A setting with a value OrderBoard cannot use (the message names the setting and the choices)."""


def check_lang_setting(value: str | None) -> str:
    """The ``lang`` setting, checked: one of ``LANGS`` (case and spaces ignored)."""
    text = str(value or "").strip().lower()
    if text not in LANGS:
        raise SettingError(f"lang = {value!r} is not a language of OrderBoard: choose {' or '.join(LANGS)} "
                         "(ORDERBOARD_LANG or [orderboard] lang in the config file)")
    return text


def load_settings(**overrides: str | None) -> Settings:
    """Settings from defaults, the config file's [orderboard] table, the environment, then overrides.

    ``overrides`` with a value of None are ignored, so CLI options that were not given
    fall through to the environment.
    """
    values: dict[str, str | None] = {s.name: s.default for s in SETTINGS}
    config_file = overrides.get("config_file") or os.environ.get("ORDERBOARD_CONFIG")
    data: dict = {}
    if config_file:
        data = tomllib.loads(Path(config_file).read_text("utf-8"))
        for key, value in data.get("orderboard", {}).items():
            if key in values:
                values[key] = str(value)
    for s in SETTINGS:
        if os.environ.get(s.env):
            values[s.name] = os.environ[s.env]
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    values["config_file"] = config_file
    values["lang"] = check_lang_setting(values["lang"])
    waits = {name: _seconds(values.pop(name), name) for name in ("wait_s", "cache_wait_s")}
    idle = _minutes(values.pop("idle_minutes"), "idle_minutes")
    if values.get("secret_key") is not None and len(str(values["secret_key"])) < MIN_SECRET_KEY:
        raise SettingError(f"secret_key (ORDERBOARD_SECRET_KEY) needs at least {MIN_SECRET_KEY} "
                           "characters: make one with `python -c \"import secrets; print(secrets.token_hex(32))\"`")
    settings = Settings(**values, **waits, idle_minutes=idle)  # type: ignore[arg-type]
    thresholds = dict(data.get("metrics", {})) if config_file else {}
    alert_tables = {k: data[k] for k in ALERT_TABLES if k in data}
    return replace(settings, pipeline=load_pipeline(config_file), metric_thresholds=thresholds,
                   alert_tables=alert_tables)


MIN_SECRET_KEY = 32


def _minutes(value: object, name: str) -> float:
    """A positive number of minutes, at most a week; a bad value is an error naming the setting."""
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be a number of minutes, not {value!r}") from None
    if not 0 < minutes <= 7 * 24 * 60:
        raise SettingError(f"{name} must be between 0 and 10080 minutes, not {value!r}")
    return minutes


def _seconds(value: object, name: str) -> float:
    """A positive number of seconds (a wait bound); a bad value is an error naming the setting."""
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if not 0 < seconds < 3600:
        raise ValueError(f"{name} must be between 0 and 3600 seconds, not {value!r}")
    return seconds

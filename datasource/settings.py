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
    Setting("lang", "ORDERBOARD_LANG", DEFAULT_LANG,
            "Language of every page unless its URL says `?lang=`: zh or en."),
)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///orderboard.db"
    cache_url: str | None = None
    cache_dir: str | None = None
    config_file: str | None = None
    report_dir: str = "reports"
    smtp_url: str | None = None
    report_to: str | None = None
    lang: str = DEFAULT_LANG
    pipeline: Pipeline = field(default_factory=lambda: load_pipeline(None))
    # The config file's [metrics.<name>] tables (warning/critical thresholds), checked
    # against the catalog by ``metrics.catalog.Catalog.with_thresholds``.
    metric_thresholds: dict[str, dict] = field(default_factory=dict)

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
    settings = Settings(**values)  # type: ignore[arg-type]
    thresholds = dict(data.get("metrics", {})) if config_file else {}
    return replace(settings, pipeline=load_pipeline(config_file), metric_thresholds=thresholds)

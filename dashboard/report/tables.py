"""The tables of the weekly review as plain frames of raw values (for XLSX/CSV) with
column headers in the reader's language, plus ``formatted`` for text renderings (the page
and the PDF). Rates stay ratios and durations stay hours, exactly as ``orderboard
metrics --json`` reports them; only the text rendering turns them into "14.2%"/"139.5 h".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from dashboard.deadline import deadline_text
from dashboard.export import COUNT_FORMAT, HOURS_FORMAT, PERCENT_FORMAT
from dashboard.formatting import MISSING, hours, is_missing, number, percent
from dashboard.words import kind_label, word
from metrics.catalog import CATALOG
from metrics.review import WeeklyReport

# Columns named after a metric: their header is the metric's label (``metrics.catalog``).
METRIC_HEADERS = {"breach_rate": "sla_breach_rate", "delay_rate": "delay_rate", "placed": "placed",
                  "exceptions_opened": "exceptions_opened"}


def header(key: str, lang: str) -> str:
    if key in METRIC_HEADERS:
        return CATALOG[METRIC_HEADERS[key]].label(lang)
    return word("review", f"col_{key}", lang, default=(key, key))


def unit_text(unit: str, lang: str) -> str:
    return word("review", f"unit_{unit}", lang, default=(unit, unit))


def _headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns={c: header(c, lang) for c in frame.columns})


def kpi_table(report: WeeklyReport, lang: str = "en") -> pd.DataFrame:
    """One row per KPI: metric, unit, this period, previous, change (raw values)."""
    rows = [{
        "metric": k.spec.label(lang),
        "unit": unit_text(k.spec.unit, lang),
        "value": k.value, "previous": k.previous, "change": k.change,
    } for k in report.kpis]
    return pd.DataFrame(rows, columns=["metric", "unit", "value", "previous", "change"])


STAGE_TABLE_COLUMNS = ("stage", "sla_hours", "visits", "mean_h", "median_h", "median_h_prev", "p90_h",
                       "breaches", "breaches_prev", "breach_rate", "breach_rate_prev",
                       "delay_contribution_h", "delay_contribution_h_prev")


def stage_table(report: WeeklyReport, lang: str = "en") -> pd.DataFrame:
    frame = report.stages.assign(stage=report.stages["label_en" if lang == "en" else "label_zh"])
    return frame.loc[:, list(STAGE_TABLE_COLUMNS)].reset_index(drop=True)


def late_orders_table(report: WeeklyReport, lang: str = "en") -> pd.DataFrame:
    return report.late_orders.copy()


def exceptions_table(report: WeeklyReport, lang: str = "en") -> pd.DataFrame:
    frame = report.exceptions.assign(kind=[kind_label(k, lang) for k in report.exceptions["kind"]])
    return frame


def trend_table(report: WeeklyReport, lang: str = "en") -> pd.DataFrame:
    return report.trend.copy()


# What the review's definitions table explains, in the order it shows it (catalog names).
REPORT_DEFINITIONS: tuple[str, ...] = (
    "completed", "late", "delay_rate", "cycle_time_median", "cycle_time_p90", "placed",
    "exceptions_opened", "exception_ack_median", "exception_resolve_median", "time_in_stage",
    "sla_breach_rate", "delay_contribution",
)


def definitions_table(lang: str = "en", names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """What each number means: ``names`` (default: every metric of the catalog), labels in ``lang``."""
    rows = []
    for name in names or tuple(CATALOG):
        d = CATALOG[name]
        rows.append({"metric": d.label(lang), "name": name, "unit": d.unit, "description": d.describe(lang)})
    return _headed(pd.DataFrame(rows, columns=["metric", "name", "unit", "description"]), lang)


@dataclass(frozen=True)
class TableSpec:
    id: str
    build: Callable[[WeeklyReport, str], pd.DataFrame]

    def title(self, lang: str) -> str:
        return word("review", f"table_{self.id}", lang)


TABLES: tuple[TableSpec, ...] = (
    TableSpec("kpis", kpi_table),
    TableSpec("stages", stage_table),
    TableSpec("late_orders", late_orders_table),
    TableSpec("exceptions", exceptions_table),
    TableSpec("trend", trend_table),
)
TABLE_IDS: tuple[str, ...] = tuple(t.id for t in TABLES)


def table_spec(table_id: str) -> TableSpec:
    for spec in TABLES:
        if spec.id == table_id:
            return spec
    raise KeyError(f"unknown review table {table_id!r} (one of {TABLE_IDS})")


def table_frame(report: WeeklyReport, table_id: str, lang: str = "en") -> pd.DataFrame:
    """Table ``table_id`` with raw values and headers in ``lang`` (for XLSX and CSV)."""
    return _headed(table_spec(table_id).build(report, lang), lang)


# The Excel number format of each raw column of the tables (XLSX exports): rates as
# percentages, hours with one decimal, counts whole; a KPI row's value, previous and
# change take its unit's format. Dates get theirs from ``dashboard.export``.
_RATIO, _HOURS, _COUNT = PERCENT_FORMAT, HOURS_FORMAT, COUNT_FORMAT
COLUMN_FORMATS: dict[str, str] = {
    "breach_rate": _RATIO, "breach_rate_prev": _RATIO, "delay_rate": _RATIO,
    "sla_hours": _HOURS, "mean_h": _HOURS, "median_h": _HOURS, "median_h_prev": _HOURS, "p90_h": _HOURS,
    "p90_h_prev": _HOURS, "delay_contribution_h": _HOURS, "delay_contribution_h_prev": _HOURS,
    "late_by_h": _HOURS, "cycle_time_h": _HOURS,
    "visits": _COUNT, "breaches": _COUNT, "breaches_prev": _COUNT, "completed": _COUNT,
    "late": _COUNT, "placed": _COUNT, "exceptions_opened": _COUNT, "opened": _COUNT,
    "opened_prev": _COUNT, "start": "yyyy-mm-dd",
}
UNIT_FORMATS = {"ratio": _RATIO, "h": _HOURS}


def table_formats(report: WeeklyReport, table_id: str, lang: str = "en") -> dict[str, str | list[str]]:
    """{header in ``lang``: Excel number format} of table ``table_id`` (``table_frame``'s
    columns); the KPI table's numbers have one format per row, by the KPI's unit."""
    raw = table_spec(table_id).build(report, lang)
    if table_id == "kpis":
        per_row = [UNIT_FORMATS.get(k.spec.unit, _COUNT) for k in report.kpis]
        return {header(c, lang): per_row for c in ("value", "previous", "change")}
    return {header(c, lang): COLUMN_FORMATS[c] for c in raw.columns if c in COLUMN_FORMATS}


def table_text(report: WeeklyReport, table_id: str, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Table ``table_id`` as (headers, rows of text) for the page and the PDF."""
    raw = table_spec(table_id).build(report, lang)
    headers = [header(c, lang) for c in raw.columns]
    if table_id == "kpis":
        rows = [[k.spec.label(lang), kpi_text(k.spec.unit, k.value), kpi_text(k.spec.unit, k.previous),
                 change_text(k.spec.unit, k.change)] for k in report.kpis]
        return [headers[0], *headers[2:]], rows
    return headers, formatted(raw, list(raw.columns), report.timezone)


# -- text ---------------------------------------------------------------------------------


def kpi_text(unit: str, value: float | None) -> str:
    """A KPI value as text: ratios as "14.2%", hours as "139.5 h", counts as "225"."""
    if unit == "ratio":
        return percent(value)
    if unit == "h":
        return hours(value)
    return number(value)


def change_text(unit: str, change: float | None) -> str:
    """A change with its sign: "+1.2 pp" for ratios (percentage points), "-3.5 h", "+4"."""
    if is_missing(change):
        return MISSING
    sign = "+" if change > 0 else ("±" if change == 0 else "-")
    size = abs(float(change))
    if unit == "ratio":
        return f"{sign}{size * 100:.1f} pp"
    if unit == "h":
        return f"{sign}{size:,.1f} h"
    return f"{sign}{size:,.0f}"


COLUMN_TEXT: dict[str, Callable[[object], str]] = {
    "sla_hours": lambda v: number(v), "visits": lambda v: number(v),
    "mean_h": hours, "median_h": hours, "median_h_prev": hours, "p90_h": hours,
    "breaches": lambda v: number(v), "breaches_prev": lambda v: number(v),
    "breach_rate": percent, "breach_rate_prev": percent, "delay_rate": percent,
    "delay_contribution_h": hours, "delay_contribution_h_prev": hours,
    "late_by_h": hours, "cycle_time_h": hours, "p90_h_prev": hours,
    "completed": lambda v: number(v), "late": lambda v: number(v), "placed": lambda v: number(v),
    "exceptions_opened": lambda v: number(v), "opened": lambda v: number(v),
    "opened_prev": lambda v: number(v),
}


def formatted(frame: pd.DataFrame, raw_columns: list[str], tz: str) -> list[list[str]]:
    """Rows of text of ``frame`` (columns ``raw_columns``): numbers and instants (local
    time in ``tz``) formatted for people."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    out = []
    for row in frame.itertuples(index=False):
        cells = []
        for key, value in zip(raw_columns, row):
            if key in COLUMN_TEXT:
                cells.append(COLUMN_TEXT[key](value))
            elif key == "promised_at":
                cells.append(deadline_text(value, zone, "%m-%d %H:%M"))
            elif isinstance(value, pd.Timestamp):
                cells.append(MISSING if is_missing(value) else value.tz_convert(zone).strftime("%m-%d %H:%M"))
            elif is_missing(value):
                cells.append(MISSING)
            else:
                cells.append(str(value))
        out.append(cells)
    return out

"""The weekly review as an XLSX workbook: a cover sheet, then one sheet per table.

Cells hold raw values (rates as ratios, durations in hours, instants in the store's local
time) so they can be computed with, and equal ``orderboard metrics --json`` for the period;
each carries its number format (``tables.table_formats``: a rate reads 14.8%, hours one
decimal, instants as Excel dates), so the sheet reads like the page.
"""

from __future__ import annotations

import pandas as pd

from dashboard.export import workbook_bytes
from dashboard.report.tables import REPORT_DEFINITIONS, TABLES, definitions_table, table_formats, table_frame
from dashboard.report.text import cover_lines
from metrics.catalog import CATALOG

SHEETS = {"kpis": "KPIs", "stages": "Stages", "late_orders": CATALOG["late"].label_en,
          "exceptions": "Exceptions", "trend": "Trend"}


def cover_sheet(report, lang: str) -> pd.DataFrame:
    rows = cover_lines(report, lang)
    return pd.DataFrame(rows, columns=["item", "value"])


def report_workbook(report, lang: str = "en") -> bytes:
    """The workbook bytes: "Report" (what, when, notes), one sheet per review table, and
    "Definitions" (what each number means)."""
    sheets: dict[str, pd.DataFrame] = {"Report": cover_sheet(report, lang)}
    formats = {}
    for spec in TABLES:
        name = SHEETS.get(spec.id, spec.id)
        sheets[name] = table_frame(report, spec.id, lang)
        formats[name] = table_formats(report, spec.id, lang)
    sheets["Definitions"] = definitions_table(lang, REPORT_DEFINITIONS)
    return workbook_bytes(sheets, report.timezone, formats)

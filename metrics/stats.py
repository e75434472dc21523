"""Small numeric helpers shared by the metric modules."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd


def percentile(values: pd.Series | np.ndarray, q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks
    (numpy's default method); None for no values."""
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    if array.size == 0:
        return None
    return float(np.percentile(array, q))


def mean(values: pd.Series | np.ndarray) -> float | None:
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    return float(array.mean()) if array.size else None


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when whole is 0: an empty denominator has no value."""
    return part / whole if whole else None


def hours(seconds: pd.Series) -> pd.Series:
    return seconds / 3600.0


def clean(value: object) -> object:
    """A JSON-safe scalar: NaN, NaT and pandas NA become None; numpy scalars become
    Python ones; datetimes and dates become ISO strings."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return clean(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """A DataFrame as JSON-safe records."""
    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def counts(values: Iterable[object]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = "—" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

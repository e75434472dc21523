"""Axis settings shared by figures: percentages that tick at round numbers.

Left to itself, an overlaying axis with a range like 0..23 % ticks at 0/5/9/14/18/23:
the ticks land on a fifth of the range and the labels are rounded. ``percent_axis``
picks the range and the step instead: a step of 1, 2 or 5 times a power of ten, and a
top that is a whole number of steps.
"""

from __future__ import annotations

import math

MIN_TOP_PCT = 5.0   # an axis of rates near 0 still spans 0..5 %
HEADROOM = 1.15     # the highest point stays below the top of the axis


def nice_step(span: float, ticks: int = 5) -> float:
    """The smallest step of 1, 2 or 5 x 10^k giving at most ``ticks`` steps over ``span``."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= raw * (1 - 1e-9):
            return multiple * power
    return 10 * power


def percent_axis(top_pct: float | None, ticks: int = 5) -> dict:
    """Plotly axis settings for values in % from 0 to ``top_pct`` (None: no data): range
    from 0 to a whole number of round steps above the highest value, a tick every step."""
    upper = max(MIN_TOP_PCT, (top_pct or 0.0) * HEADROOM)
    if (top_pct or 0.0) <= 100.0:
        upper = min(upper, 100.0)  # a share never passes 100 %
    step = nice_step(upper, ticks)
    top = step * math.ceil(upper / step - 1e-9)
    decimals = max(0, -math.floor(math.log10(step)))
    return {"range": [0, top], "tickmode": "linear", "tick0": 0, "dtick": step,
            "ticksuffix": "%", "tickformat": f".{decimals}f"}

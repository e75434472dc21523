"""Pure figure builders: metrics results in, ``plotly.graph_objects.Figure`` out.

The same builders serve the wall (``theme="dark"``, large fonts scaled to the screen) and
the weekly review and its exports (``theme="light"``). They never query anything and
never change their inputs.
"""

from dashboard.figures.bottleneck import bottleneck_figure
from dashboard.figures.exceptions import exceptions_figure
from dashboard.figures.theme import THEMES, Theme, get_theme
from dashboard.figures.trend import trend_figure

__all__ = ["THEMES", "Theme", "bottleneck_figure", "exceptions_figure", "get_theme", "trend_figure"]

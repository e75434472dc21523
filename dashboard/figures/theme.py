"""Figure themes: "dark" for wall screens, "light" for review pages, print and export.

Colours of the traffic-light levels are presentation, so they live here (and in CSS for
HTML), never in the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

FONT_FAMILY = ('"OrderBoard Sans", "Noto Sans SC", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", '
               '"Segoe UI", Roboto, sans-serif')


@dataclass(frozen=True)
class Theme:
    name: str
    paper: str
    plot: str
    text: str
    muted: str
    grid: str
    primary: str
    secondary: str
    good: str
    warning: str
    critical: str
    font_px: int

    def level_colour(self, level: str) -> str:
        return {"good": self.good, "warning": self.warning, "critical": self.critical}.get(level, self.primary)


THEMES: dict[str, Theme] = {
    "dark": Theme("dark", paper="rgba(0,0,0,0)", plot="rgba(0,0,0,0)", text="#e6edf3",
                  muted="#9da7b3", grid="#30363d", primary="#58a6ff", secondary="#8b949e",
                  good="#3fb950", warning="#d29922", critical="#f85149", font_px=28),
    "light": Theme("light", paper="#ffffff", plot="#ffffff", text="#1f2328",
                   muted="#57606a", grid="#d0d7de", primary="#0969da", secondary="#8c959f",
                   good="#1a7f37", warning="#9a6700", critical="#cf222e", font_px=14),
}


def get_theme(theme: str | Theme) -> Theme:
    """A theme by name ("dark" or "light"; anything else is "light")."""
    if isinstance(theme, Theme):
        return theme
    return THEMES.get(theme, THEMES["light"])


def styled(fig: go.Figure, theme: Theme, font_px: int | None, title: str | None = None,
           revision: str = "chart") -> go.Figure:
    """Apply the theme's colours and font size (``font_px`` overrides the theme's) to ``fig``.

    Margins grow with the font so tick labels are never cut off; ``uirevision`` (one per
    kind of chart, so a "waiting" placeholder never passes its axes on) keeps a user's
    zoom when a timer rebuilds the figure.
    """
    size = int(font_px or theme.font_px)
    fig.update_layout(
        paper_bgcolor=theme.paper,
        plot_bgcolor=theme.plot,
        font={"family": FONT_FAMILY, "size": size, "color": theme.text},
        margin={"l": size, "r": size, "t": int(size * (2.6 if title else 1.2)), "b": size},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                "font": {"size": size}},
        hoverlabel={"font": {"size": size}},
        uirevision=revision,
        showlegend=True,
    )
    if title:
        fig.update_layout(title={"text": title, "font": {"size": int(size * 1.2)}, "x": 0, "xanchor": "left"})
    fig.update_xaxes(gridcolor=theme.grid, zerolinecolor=theme.grid, linecolor=theme.grid,
                     tickfont={"size": size, "color": theme.text}, automargin=True)
    fig.update_yaxes(gridcolor=theme.grid, zerolinecolor=theme.grid, linecolor=theme.grid,
                     tickfont={"size": size, "color": theme.text}, automargin=True)
    return fig


def for_the_room(fig: go.Figure, font_px: int) -> go.Figure:
    """Finish a figure for the wall, read from 3-5 m at ``font_px`` (scaled to the screen).

    The wall's own styling on top of a builder's figure, so the review page and the
    exports (which call the same builders) keep their sizes: axis titles stand off their
    tick labels by a line (plotly's default gap, and even half a line, let a rotated title
    touch the tick labels at large sizes in a CJK font with tall line metrics), and bar
    labels keep their size instead of being shrunk to fit a short bar (text below the
    wall's floor cannot be read across the room).
    """
    gap = max(1, int(font_px))
    fig.for_each_xaxis(lambda axis: axis.update(title_standoff=gap))
    fig.for_each_yaxis(lambda axis: axis.update(title_standoff=gap))
    fig.update_traces(constraintext="none", selector={"type": "bar"})
    return fig


def empty_figure(message: str, theme: Theme, font_px: int | None, title: str | None = None) -> go.Figure:
    """A figure that says why there is nothing to draw (instead of empty axes)."""
    fig = go.Figure()
    styled(fig, theme, font_px, title, revision="empty")
    size = int(font_px or theme.font_px)
    fig.update_layout(showlegend=False, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "x": 0.5, "y": 0.5,
                                    "xref": "paper", "yref": "paper",
                                    "font": {"size": int(size * 1.3), "color": theme.muted}}])
    return fig

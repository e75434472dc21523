"""KPI tiles: one catalog metric's value, as the wall, the overview and the review show it.

Every tile reads its label, unit, description, thresholds and level from the catalog
(``metrics.catalog``) and carries a ``ob-level-<level>`` class (colours live in CSS):

- ``wall_tile``: large type for a TV (``ob-kpi``), the full description in its ``title``
  and a footnote with the scope and each threshold in its level's colour (the overview
  view shows the coloured limits alone, the key-figures view also their words);
- ``manager_tile``: desktop density (``ob-mkpi``), a link to the orders behind it whose
  count is on the tile (``data-count``);
- ``review_card``: a week's value against the previous period's (``ob-review-kpi``).
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.formatting import MISSING, duration_parts, number, percent
from dashboard.report.tables import change_text, kpi_text
from dashboard.report.text import word as review_word
from dashboard.words import word
from metrics.catalog import Metric


def value_parts(metric: Metric, value: float | int | None, lang: str) -> tuple[str, str]:
    """(number, unit) as a tile shows them: "5.0", "%"; "3.2", "天"; "1,204", ""."""
    unit = metric.unit
    if unit == "ratio":
        shown = percent(value)
        return (shown[:-1], "%") if shown != MISSING else (shown, "")
    if unit == "h":
        return duration_parts(value, lang)
    return number(value), ""


def value_text(metric: Metric, value: float | int | None, lang: str) -> str:
    """The value in one piece: "5.0%", "3.2 d", "1,204"."""
    shown, unit = value_parts(metric, value, lang)
    return f"{shown}{unit}" if metric.unit == "ratio" else f"{shown} {unit}".strip()


def thresholds(metric: Metric, lang: str) -> list[tuple[str, str]]:
    """(level, text) of a metric's warning and critical limits, e.g. ("warning", "≥5%")."""
    limits = []
    for key, limit in (("warning", metric.warning), ("critical", metric.critical)):
        if limit is not None:
            shown = "".join(value_parts(metric, limit, lang)).replace(".0", "")
            limits.append((key, f"{'≥' if metric.good_direction == 'down' else '≤'}{shown}"))
    return limits


def threshold_note(metric: Metric, lang: str) -> str:
    """The limits as one line of text: "警告≥5% · 严重≥10%" (a tile's ``title`` reads it)."""
    return " · ".join(f"{word('wall', key, lang)}{limit}" for key, limit in thresholds(metric, lang))


def _footnote(metric: Metric, lang: str) -> html.Div:
    """The wall tile's footnote: its scope, then each limit in its level's colour."""
    limits = [html.Span(className=f"ob-kpi-limit ob-level-{key}", children=[
        html.Span(word("wall", key, lang), className="ob-kpi-limit-word"), limit,
    ]) for key, limit in thresholds(metric, lang)]
    return html.Div(className="ob-kpi-note", children=[
        html.Span(word("wall", metric.scope, lang), className="ob-kpi-scope"),
        html.Span(limits, className="ob-kpi-limits") if limits else None,
    ])


def wall_tile(metric: Metric, value: float | int | None, lang: str, href: str) -> html.A:
    """A wall's tile: label, number and unit, footnote; a link to ``href``."""
    shown, unit = value_parts(metric, value, lang)
    return html.A(
        href=href,
        className=f"ob-kpi ob-level-{metric.level(value)}",
        title=" ".join(p for p in (f"{metric.label(lang)}: {metric.describe(lang)}",
                                   threshold_note(metric, lang)) if p),
        **{"data-metric": metric.name},
        children=[
            html.Div(metric.label(lang), className="ob-kpi-label"),
            html.Div(className="ob-kpi-number", children=[
                html.Span(shown, className="ob-kpi-value"),
                html.Span(unit, className="ob-kpi-unit"),
            ]),
            _footnote(metric, lang),
        ],
    )


def manager_tile(metric: Metric, value: float | int | None, rows: int, note: str, lang: str,
                 href: str) -> html.Div:
    """The overview's tile: label, value and ``note``, a link to the ``rows`` orders behind it."""
    # dcc.Link takes no data-* attributes: the count sits on a wrapper
    return html.Div(
        id=f"ov-kpi-{metric.name}", className=f"ob-mkpi ob-level-{metric.level(value)}",
        title=metric.describe(lang), **{"data-count": str(rows)},
        children=dcc.Link(href=href, className="ob-mkpi-link", children=[
            html.Div(metric.label(lang), className="ob-mkpi-label"),
            html.Div(value_text(metric, value, lang), className="ob-mkpi-value"),
            html.Div(note, className="ob-mkpi-note"),
        ]),
    )


def review_card(kpi, lang: str) -> html.Div:
    """The review's card of one ``metrics.review`` KPI: value, change and previous value."""
    return html.Div(className=f"ob-review-kpi ob-change--{kpi.verdict}", id=f"review-kpi-{kpi.spec.name}",
                    children=[
        html.Div(kpi.spec.label(lang), className="ob-review-kpi-label"),
        html.Div(kpi_text(kpi.spec.unit, kpi.value), className="ob-review-kpi-value"),
        html.Div(className="ob-review-kpi-compare", children=[
            html.Span(change_text(kpi.spec.unit, kpi.change), className="ob-review-kpi-change"),
            html.Span(f" · {review_word('prev', lang)} {kpi_text(kpi.spec.unit, kpi.previous)}",
                      className="ob-review-kpi-prev"),
        ]),
    ])

"""Stage cards: one row of ``Summary.stages`` (a pipeline stage now and over the window).

A card's colour is the catalog's ``STAGE_COLOUR`` metric (the share of the stage's orders
over its SLA now), which its ``title`` names; the bottleneck carries a modifier class.

- ``wall_card``: a TV's stage-flow tile (``ob-flow-stage``): WIP in large type, median
  time in stage, SLA and open breaches, the breach rate in its own level's colour; every
  part a view may leave out has its own class (``assets/wall.css`` chooses);
- ``manager_card``: the overview's card (``ob-mstage``): WIP and the stage's lists (over
  SLA, delayed, breaches), each a link with its count (``data-count``).
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.formatting import duration, is_missing, number, percent
from dashboard.url_state import ViewState, href
from dashboard.words import pick, word
from metrics.catalog import STAGE_COLOUR, Catalog

# The overview card's links: (view, Summary.stages column that counts its rows, word)
STAGE_LINKS = (
    ("breached", "open_breaches_now", "over_sla"),
    ("delayed", "delayed_orders", "delayed"),
    ("breaches", "breaches", "breaches"),
)


def wall_card(row, catalog: Catalog, lang: str, link: str) -> html.A:
    def t(key: str, **values: object) -> str:
        return word("wall", key, lang, **values)

    colour = catalog[STAGE_COLOUR]
    breach_rate = catalog["sla_breach_rate"]
    share = colour.read_stage(row)
    rate = breach_rate.read_stage(row)
    late = None if is_missing(row.open_breaches_now) else int(row.open_breaches_now)
    neck = bool(row.is_bottleneck)
    return html.A(
        href=link,
        className=f"ob-flow-stage ob-level-{colour.level(share)}" + (" ob-flow-stage--bottleneck" if neck else ""),
        title=t("colour", metric=colour.label(lang), value=percent(share), description=colour.describe(lang)),
        **{"data-stage": row.code},
        children=[
            html.Div(className="ob-flow-label", children=[
                html.Span(pick((row.label_zh, row.label_en), lang)),
                html.Span(t("bottleneck"), className="ob-flow-badge") if neck else None,
            ]),
            html.Div(number(row.wip), className="ob-flow-wip"),
            html.Div(f"{t('median')} {duration(row.median_h, lang)}", className="ob-flow-median"),
            # Wraps between its two parts, never inside one; coloured by its own number.
            # The overview view leaves the SLA out (the stage-flow view has the room).
            html.Div(className="ob-flow-breach" + (" ob-flow-breach--late" if late else ""),
                     children=[html.Span(f"{t('sla')} {row.sla_hours:g}h", className="ob-flow-sla"),
                               html.Span(" · ", className="ob-flow-sep"),
                               html.Span(f"{t('open_breaches')} {number(late)}", className="ob-flow-late")]),
            # The 7-day breach rate in its own level's colour (where there is room: the flow view).
            html.Div(className=f"ob-flow-rate ob-level-{breach_rate.level(rate)}", children=[
                t("breach_rate"), " ", html.Span(percent(rate))]),
        ],
    )


def manager_card(row, catalog: Catalog, lang: str, state: ViewState) -> html.Div:
    """The overview's card; ``state`` gives the links' window and filters and the focus."""
    def w(key: str, **values: object) -> str:
        return word("overview", key, lang, **values)

    scope = state.scope()
    colour = catalog[STAGE_COLOUR]
    share = colour.read_stage(row)
    classes = f"ob-mstage ob-level-{colour.level(share)}"
    if row.is_bottleneck:
        classes += " ob-mstage--bottleneck"
    if state.stage == row.code:
        classes += " ob-mstage--focus"
    links = [
        html.Span(id=f"ov-stage-{row.code}-{view}", className="ob-mstage-sub",
                  **{"data-count": str(int(getattr(row, column)))},
                  children=dcc.Link(f"{w(key)} {getattr(row, column):,}",
                                    href=href(f"/stages/{row.code}", scope.with_(view=view))))
        for view, column, key in STAGE_LINKS
    ]
    return html.Div(className=classes, id=f"ov-stage-{row.code}",
                    title=w("colour", metric=colour.label(lang), value=percent(share)), children=[
        html.Div(pick((row.label_zh, row.label_en), lang), className="ob-mstage-label"),
        html.Div(id=f"ov-stage-{row.code}-wip", className="ob-mstage-wip",
                 title=w("in_stage_now"), **{"data-count": str(int(row.wip))},
                 children=dcc.Link(f"{row.wip:,}", href=href(f"/stages/{row.code}", scope.with_(view="wip")))),
        html.Div(f"SLA {row.sla_hours:g} h · {w('median')} {duration(row.median_h, lang)}",
                 className="ob-mstage-meta"),
        html.Div(links, className="ob-mstage-links"),
    ])

"""The HTML parts of the wall views, built from ``WallData`` (pure: data in, components out).

KPI tiles and stage-flow tiles carry a ``ob-level-<level>`` class from the catalog
(``metrics.catalog``: a KPI tile by its own metric, a stage tile by
``stage_over_sla_now``, which its title names); colours live in ``assets/wall.css``. Each tile says what it
counts: the full metric description in its ``title`` and a footnote with the scope and the
thresholds, each threshold in its level's colour (the overview shows the coloured limits
alone, the key-figures view also their words).

Every part a view may leave out has its own class, so the views choose in CSS what they
show (``assets/wall.css``), from the same components.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.alert_text import first_responsible, kinds_text, subject
from dashboard.formatting import MISSING, duration_parts, hours, is_missing, local_time, number, percent
from dashboard.url_state import order_href
from dashboard.wall_data import WallData
from dashboard.wall_settings import WallConfig
from dashboard.words import kind_label, word
from metrics.catalog import CATALOG, STAGE_COLOUR, Catalog, Metric

# The key figures, by catalog name, in the order of the tiles.
KPI_TILES = ("orders_placed_today", "wip", "delay_rate", "cycle_time_median", "open_exceptions", "at_risk")

# Slot titles that are a metric's label (read from the catalog, not the word table).
METRIC_TITLES = {"exceptions_title": "open_exceptions"}


def t(key: str, lang: str, **values: object) -> str:
    """A word of the wall (``dashboard.words.wall``)."""
    if key in METRIC_TITLES:
        return CATALOG[METRIC_TITLES[key]].label(lang)
    return word("wall", key, lang, **values)


def value_parts(metric: Metric, value: float | int | None, lang: str) -> tuple[str, str]:
    """(number, unit) as the tile shows them."""
    unit = metric.unit
    if unit == "ratio":
        text = percent(value)
        return (text[:-1], "%") if text != MISSING else (text, "")
    if unit == "h":
        return duration_parts(value, lang)
    return number(value), ""


def thresholds(metric: Metric, lang: str) -> list[tuple[str, str]]:
    """(level, text) of a metric's warning and critical limits, e.g. ("warning", "≥5%")."""
    limits = []
    for key, limit in (("warning", metric.warning), ("critical", metric.critical)):
        if limit is not None:
            shown = "".join(value_parts(metric, limit, lang)).replace(".0", "")
            limits.append((key, f"{'≥' if metric.good_direction == 'down' else '≤'}{shown}"))
    return limits


def threshold_note(metric: Metric, lang: str) -> str:
    """The limits as one line of text: "警告≥5% · 严重≥10%" (the tile's ``title`` reads it)."""
    return " · ".join(f"{t(key, lang)}{limit}" for key, limit in thresholds(metric, lang))


def kpi_note(metric: Metric, lang: str) -> html.Div:
    """The tile's footnote: its scope, then each limit in its level's colour."""
    scope = metric.scope
    limits = [html.Span(className=f"ob-kpi-limit ob-level-{key}", children=[
        html.Span(t(key, lang), className="ob-kpi-limit-word"), limit,
    ]) for key, limit in thresholds(metric, lang)]
    return html.Div(className="ob-kpi-note", children=[
        html.Span(t(scope, lang), className="ob-kpi-scope"),
        html.Span(limits, className="ob-kpi-limits") if limits else None,
    ])


def link(path: str, config: WallConfig, **extra: str) -> str:
    """A link to a desktop page with the wall's filters and language."""
    pairs = list(extra.items()) + [(k, v) for k, v in (("line", config.line), ("channel", config.channel)) if v]
    pairs.append(("lang", config.lang))
    return path + ("?" + urlencode(pairs) if pairs else "")


def kpi_tiles(data: WallData, config: WallConfig, catalog: Catalog = CATALOG) -> list:
    lang = config.lang
    tiles = []
    for name in KPI_TILES:
        metric = catalog[name]
        value = metric.read(data.summary)
        shown, unit = value_parts(metric, value, lang)
        tiles.append(html.A(
            href=link("/stages/all", config, metric=name),
            className=f"ob-kpi ob-level-{metric.level(value)}",
            title=" ".join(p for p in (f"{metric.label(lang)}: {metric.describe(lang)}",
                                       threshold_note(metric, lang)) if p),
            **{"data-metric": name},
            children=[
                html.Div(metric.label(lang), className="ob-kpi-label"),
                html.Div(className="ob-kpi-number", children=[
                    html.Span(shown, className="ob-kpi-value"),
                    html.Span(unit, className="ob-kpi-unit"),
                ]),
                kpi_note(metric, lang),
            ],
        ))
    return tiles


def flow_tiles(data: WallData, config: WallConfig, catalog: Catalog = CATALOG) -> list:
    lang = config.lang
    tiles = []
    colour = catalog[STAGE_COLOUR]
    breach_rate = catalog["sla_breach_rate"]
    for row in data.summary.stages.itertuples():
        share = colour.read_stage(row)
        grade = colour.level(share)
        rate = breach_rate.read_stage(row)
        late = None if is_missing(row.open_breaches_now) else int(row.open_breaches_now)
        med, med_unit = duration_parts(row.median_h, lang)
        neck = bool(row.is_bottleneck)
        tiles.append(html.A(
            href=link(f"/stages/{row.code}", config),
            className=f"ob-flow-stage ob-level-{grade}" + (" ob-flow-stage--bottleneck" if neck else ""),
            title=t("colour", lang, metric=colour.label(lang), value=percent(share),
                    description=colour.describe(lang)),
            **{"data-stage": row.code},
            children=[
                html.Div(className="ob-flow-label", children=[
                    html.Span(row.label_en if lang == "en" else row.label_zh),
                    html.Span(t("bottleneck", lang), className="ob-flow-badge") if neck else None,
                ]),
                html.Div(number(row.wip), className="ob-flow-wip"),
                html.Div(f"{t('median', lang)} {med}{' ' if lang == 'en' else ''}{med_unit}",
                         className="ob-flow-median"),
                # Wraps between its two parts, never inside one; coloured by its own number.
                # The overview leaves the SLA out (the stage-flow view has the room).
                html.Div(className="ob-flow-breach" + (" ob-flow-breach--late" if late else ""),
                         children=[html.Span(f"{t('sla', lang)} {row.sla_hours:g}h", className="ob-flow-sla"),
                                   html.Span(" · ", className="ob-flow-sep"),
                                   html.Span(f"{t('open_breaches', lang)} {number(late)}", className="ob-flow-late")]),
                # The 7-day breach rate in its own level's colour (where there is room: the flow view).
                html.Div(className=f"ob-flow-rate ob-level-{breach_rate.level(rate)}", children=[
                    t("breach_rate", lang), " ", html.Span(percent(rate))]),
            ],
        ))
    return tiles


def _stage_label(data: WallData, code: object, lang: str) -> str:
    stages = data.summary.stages
    match = stages.loc[stages["code"] == code]
    if match.empty:
        return MISSING if is_missing(code) else str(code)
    return str(match.iloc[0]["label_en" if lang == "en" else "label_zh"])


def _cell(value: object) -> str:
    return MISSING if is_missing(value) else str(value)


def overdue_table(data: WallData, config: WallConfig, rows: int) -> html.Div:
    lang = config.lang
    frame = data.overdue.head(rows)
    if frame.empty:
        return html.Div(t("none_overdue", lang), className="ob-list-empty ob-level-good")
    head = html.Tr([html.Th(t(k, lang)) for k in ("order", "stage", "owner", "overdue_by")])
    body = [html.Tr([
        html.Td(dcc.Link(r.order_number, href=order_href(r.order_number))),
        html.Td(_stage_label(data, r.current_stage, lang)),
        html.Td(_cell(r.owner)),
        html.Td(hours(r.overdue_by_h, 0).removesuffix(" h"), className="ob-num ob-level-critical"),
    ]) for r in frame.itertuples()]
    more = data.overdue_total - len(frame)
    foot = [html.Div(t("more", lang, n=number(more)), className="ob-list-more")] if more > 0 else []
    # The row count lets a view set a short list in larger type (assets/wall.css).
    return html.Div(className="ob-list", style={"--ob-rows": len(frame)},
                    children=[html.Table([html.Thead(head), html.Tbody(body)]), *foot])


def exceptions_table(data: WallData, config: WallConfig, rows: int, now: datetime) -> html.Div:
    lang = config.lang
    frame = data.open_exceptions.head(rows)
    if frame.empty:
        return html.Div(t("none_open", lang), className="ob-list-empty ob-level-good")
    head = html.Tr([html.Th(t(k, lang)) for k in ("order", "kind", "severity", "stage", "owner", "opened")])
    body = []
    for r in frame.itertuples():
        age_h = (now - r.opened_at).total_seconds() / 3600 if not is_missing(r.opened_at) else None
        age, age_unit = duration_parts(age_h, lang)
        sev = word("wall", f"severity_{r.severity}", lang, default=(str(r.severity), str(r.severity)))
        body.append(html.Tr(className=f"ob-severity-{r.severity}", children=[
            html.Td(dcc.Link(r.order_number, href=order_href(r.order_number))),
            html.Td(kind_label(str(r.kind), lang)),
            html.Td(sev, className="ob-severity"),
            html.Td(_stage_label(data, r.exception_stage, lang)),
            html.Td(_cell(r.owner)),
            html.Td(f"{age}{age_unit}", className="ob-num"),
        ]))
    more = data.open_exceptions_total - len(frame)
    foot = [html.Div(t("more", lang, n=number(more)), className="ob-list-more")] if more > 0 else []
    return html.Div(className="ob-list", children=[html.Table([html.Thead(head), html.Tbody(body)]), *foot])



def open_alerts_tile(data: WallData, config: WallConfig, catalog: Catalog = CATALOG) -> list:
    """The open-alerts tile (catalog ``open_alerts``, linking to ``/alerts``) and beside it
    how many alerts fire (acknowledged ones too) and when the rules were last checked."""
    lang = config.lang
    metric = catalog["open_alerts"]
    value = metric.read(data.summary)
    shown, unit = value_parts(metric, value, lang)
    alerts = data.alerts
    tile = html.A(
        href=link("/alerts", config), className=f"ob-kpi ob-level-{metric.level(value)}",
        title=" ".join(p for p in (f"{metric.label(lang)}: {metric.describe(lang)}",
                                   threshold_note(metric, lang)) if p),
        **{"data-metric": metric.name},
        children=[
            html.Div(metric.label(lang), className="ob-kpi-label"),
            html.Div(className="ob-kpi-number", children=[
                html.Span(shown, className="ob-kpi-value"), html.Span(unit, className="ob-kpi-unit")]),
            kpi_note(metric, lang),
        ],
    )
    checked = (t("alerts_checked", lang, at=local_time(alerts.evaluated_at, data.summary.timezone, "%H:%M"))
               if alerts is not None and alerts.evaluated_at is not None else t("alerts_never_checked", lang))
    facts = html.Div(className="ob-alerts-facts", children=[
        html.Div(t("alerts_firing", lang, n=number(alerts.firing if alerts else None)), className="ob-alerts-fact"),
        html.Div(t("alerts_acked", lang, n=number(alerts.firing - alerts.open if alerts else None)),
                 className="ob-alerts-fact"),
        html.Div(checked, className="ob-alerts-fact ob-alerts-checked"),
    ])
    return [tile, facts]


def alerts_table(data: WallData, config: WallConfig, rows: int, catalog: Catalog = CATALOG) -> html.Div:
    """The firing alerts, open ones first: what (order and stage, exception, or metric),
    the rule, who is responsible, how long the condition has held, acknowledged or not;
    then how many more. Without alert rules, or without firing alerts, it says so."""
    lang = config.lang
    if not data.alert_rules:
        return html.Div(className="ob-alerts-unset", children=[
            html.Div(t("alerts_unset", lang), className="ob-alerts-unset-title"),
            html.Div(t("alerts_unset_what", lang), className="ob-alerts-unset-text"),
            html.Div(kinds_text(lang), className="ob-alerts-unset-text"),
            html.Div(t("alerts_unset_how", lang), className="ob-alerts-unset-text"),
        ])
    alerts = data.alerts
    if alerts is None or alerts.rows.empty:
        return html.Div(t("alerts_none", lang), className="ob-list-empty ob-level-good")
    frame = alerts.rows.head(rows)
    now = data.summary.now

    def stage_name(code: str) -> str:
        return _stage_label(data, code, lang)

    head = html.Tr([html.Th(t(k, lang)) for k in ("alert_what", "alert_rule", "alert_whose", "alert_for",
                                                  "alert_ack")])
    body = []
    for r in frame.itertuples():
        acked = not is_missing(r.acknowledged_at)
        age = None if is_missing(r.started_at) else (now - r.started_at).total_seconds() / 3600
        held, held_unit = duration_parts(age, lang)
        body.append(html.Tr(className=f"ob-alert-{r.severity}" + (" ob-alert--acked" if acked else ""),
                            **{"data-alert": str(r.id)}, children=[
            html.Td(subject(r.labels, r.rule_kind, lang, stage_name, catalog, compact=True), className="ob-alert-what"),
            html.Td(str(r.rule)),
            html.Td(first_responsible(r.labels)),
            html.Td(f"{held}{held_unit}" if lang == "zh" else f"{held} {held_unit}".strip(), className="ob-num"),
            html.Td(t("alert_acked" if acked else "alert_not_acked", lang), className="ob-alert-ack"),
        ]))
    more = alerts.firing - len(frame)
    foot = [html.Div(t("alerts_more", lang, n=number(more)), className="ob-list-more")] if more > 0 else []
    return html.Div(className="ob-list ob-alert-list", style={"--ob-rows": len(frame)},
                    children=[html.Table([html.Thead(head), html.Tbody(body)]), *foot])

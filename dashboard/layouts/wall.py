"""The wall page (``/wall``, ``/wall/<view>``): big-screen views for a TV, set up by the
URL (``dashboard.url_state.parse_wall_settings``).

``layout`` builds the frame only (it never queries the store): a header with the title,
filters, "data as of" and a clock; a stale banner; one section per configured view,
stacked on top of each other (the visible one has ``ob-view--active``, so every chart
keeps a real size while hidden); a footer with view dots and, outside kiosk mode, links.
Content slots have pattern-matching ids ``{"type": HTML_SLOT|GRAPH_SLOT, "slot", "view"}``
that one refresh callback fills (``dashboard.callbacks.wall``) with the slot contents
built below from ``WallData`` (``dashboard.wall_frame``): the shared KPI tiles and stage
cards (``dashboard.components``) and the wall's lists. Every part a view may leave out
has its own class, so the views choose in CSS what they show (``assets/wall.css``).

The refresh timer never stops (``dashboard.callbacks.wall`` and ``assets/wall_refresh.js``
say how a lost request is ended and how the banner is decided); the page carries what the
browser needs for that: the request bound (``data-timeout-ms`` on the root), the periods
and the banner's words in the screen's language (in the config store).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.alert_text import first_responsible, kinds_text, subject
from dashboard.components.banner import banner
from dashboard.components.kpi import wall_tile
from dashboard.components.stage_card import wall_card
from dashboard.context import AppContext
from dashboard.figures.theme import THEMES, empty_figure
from dashboard.formatting import MISSING, duration, duration_parts, hours, is_missing, local_time, number
from dashboard.url_state import VIEWS, WallConfig, order_href, parse_wall_settings, search_pairs
from dashboard.words import kind_label, word
from metrics.catalog import CATALOG, Catalog

if TYPE_CHECKING:
    from dashboard.wall_frame import WallData

ROOT = "wall-root"
CONFIG = "wall-config"
SCREEN = "wall-screen"
REFRESH = "wall-refresh"
ROTATE = "wall-rotate"
RELOAD = "wall-reload"
TICK = "wall-tick"
CLOCK = "wall-clock"
DATE = "wall-date"
AS_OF = "wall-as-of"
BANNER = "wall-banner"
FILTER_WARNING = "wall-filter-warning"
VIEWS_BOX = "wall-views"
STATUS = "wall-status"
RELOAD_SINK = "wall-reload-sink"
CLICK_SINK = "wall-click-sink"
VIEW = "wall-view"
DOT = "wall-dot"
HTML_SLOT = "wall-html"
GRAPH_SLOT = "wall-graph"

# Which slots each view holds: (slot, kind), kind "html" or "graph".
VIEW_SLOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "main": (("kpi", "html"), ("flow", "html"), ("overdue", "html")),
    "kpi": (("kpi", "html"),),
    "flow": (("flow", "html"),),
    "bottleneck": (("bottleneck", "graph"),),
    "trend": (("trend", "graph"),),
    "overdue": (("overdue", "html"),),
    "exceptions": (("exceptions", "html"), ("kinds", "graph")),
    "alerts": (("open_alerts", "html"), ("alerts", "html")),
}
SLOT_TITLES = {"kpi": "kpi_title", "flow": "flow_title", "overdue": "overdue_title",
               "bottleneck": "bottleneck_title", "trend": "trend_title",
               "exceptions": "exceptions_title", "kinds": "kinds_title",
               "open_alerts": "open_alerts_title", "alerts": "alerts_title"}
# The banner's words (``banner_*`` in ``dashboard.words.wall``), filled in by the browser
# ({since}, {at}: times in the screen's zone; {age}: how old the data is). No driver
# message, host or port: those are in the log.
BANNER_KEYS = ("store", "server", "data", "old", "nodata", "s", "min", "h")
# A request the browser has waited for this long is ended (and counted as no answer): the
# next one goes out on time. At most one refresh period, at least 1 s, at most 60 s.
MIN_REQUEST_TIMEOUT_MS = 1000
MAX_REQUEST_TIMEOUT_MS = 60_000
MIN_PERIOD_S = 5


# Slot titles that are a metric's label (read from the catalog, not the word table).
METRIC_TITLES = {"exceptions_title": "open_exceptions"}


def t(key: str, lang: str, **values: object) -> str:
    """A word of the wall (``dashboard.words.wall``)."""
    if key in METRIC_TITLES:
        return CATALOG[METRIC_TITLES[key]].label(lang)
    return word("wall", key, lang, **values)


def period_s(config: WallConfig) -> int:
    """A screen's cache period (``dashboard.wall_frame``): its own refresh interval, at
    least ``MIN_PERIOD_S``."""
    return max(MIN_PERIOD_S, config.refresh_s)


def request_timeout_ms(config: WallConfig) -> int:
    """How long the browser waits for one refresh: just under the refresh period, so a
    lost request has ended when the next tick asks again (never two at once)."""
    return int(min(MAX_REQUEST_TIMEOUT_MS, max(MIN_REQUEST_TIMEOUT_MS, config.refresh_s * 1000 - 500)))


def stale_after_s(config: WallConfig) -> int:
    """Data older than this is shown under the banner even when the server answers.

    A served frame is up to one cache period old when a refresh fetches it (stale-while-
    revalidate, ``dashboard.wall_frame``) and ages one refresh period more until the
    next, so normal data stays younger than two cache periods plus a refresh period.
    """
    return 3 * period_s(config) + config.refresh_s


def banner_words(lang: str) -> dict[str, str]:
    return {key: word("wall", f"banner_{key}", lang) for key in BANNER_KEYS}


def view_name(view: str, lang: str) -> str:
    return word("wall", f"view_{view}", lang)


def _slot(view: str, slot: str, kind: str, lang: str) -> html.Div:
    if kind == "graph":
        body = dcc.Graph(
            id={"type": GRAPH_SLOT, "slot": slot, "view": view},
            figure=empty_figure(t("waiting", lang), THEMES["dark"], None),
            config={"displayModeBar": False, "responsive": True},
            responsive=True, className="ob-graph",
        )
    else:
        body = html.Div(html.Div(t("waiting", lang), className="ob-waiting"),
                        id={"type": HTML_SLOT, "slot": slot, "view": view},
                        className=f"ob-slot-body ob-slot-body--{slot}")
    return html.Div(className=f"ob-slot ob-slot--{slot}", children=[
        html.H2(t(SLOT_TITLES[slot], lang), className="ob-slot-title"),
        body,
    ])


def _view(view: str, active: bool, lang: str) -> html.Section:
    return html.Section(
        id={"type": VIEW, "view": view},
        className="ob-view ob-view--active" if active else "ob-view",
        **{"data-view": view},
        children=[html.Div(className=f"ob-view-grid ob-view-grid--{view}", children=[
            _slot(view, slot, kind, lang) for slot, kind in VIEW_SLOTS[view]
        ])],
    )


def _nav(config: WallConfig) -> list:
    """Outside kiosk mode, links home and to each view the screen does not rotate through
    (those it rotates through are its dots, which are links too): every view is named
    once, so the footer stays one line however many views there are."""
    if config.kiosk:
        return []
    query = config.link_query()
    shown = config.views if len(config.views) > 1 else ()
    links = [dcc.Link(view_name(v, config.lang), href=f"/wall/{v}{query}", className="ob-wall-link")
             for v in VIEWS if v not in shown]
    return [html.Nav(className="ob-wall-nav", children=[
        dcc.Link("OrderBoard", href=f"/{query}", className="ob-wall-link ob-wall-home"), *links,
    ])]


def _dot(view: str, active: bool, config: WallConfig):
    """A view's dot in the footer (the active one marked); outside kiosk mode a link to it."""
    props = {"id": {"type": DOT, "view": view}, "className": "ob-dot ob-dot--active" if active else "ob-dot"}
    if config.kiosk:
        return html.Span(view_name(view, config.lang), **props)
    return dcc.Link(view_name(view, config.lang), href=f"/wall/{view}{config.link_query()}", **props)


def layout(ctx: AppContext, view: str | None = None, **params: str) -> html.Div:
    config = parse_wall_settings(params, view, default_lang=ctx.settings.lang)
    lang = config.lang
    store = {**config.to_store(), "tz": ctx.settings.timezone, "q": config.link_query(),
             "stale_after_s": stale_after_s(config), "words": banner_words(lang)}
    scope = " · ".join(v for v in (config.line, config.channel) if v)
    classes = f"ob-wall ob-wall--{lang}" + (" ob-wall--kiosk" if config.kiosk else "")
    return html.Div(id=ROOT, className=classes, lang="en" if lang == "en" else "zh-CN",
                    **{"data-timeout-ms": str(request_timeout_ms(config))}, children=[
        # Not grid items: stores and timers render no visible element.
        html.Div(className="ob-wall-machinery", children=[
            dcc.Store(id=CONFIG, data=store),
            dcc.Store(id=SCREEN),
            dcc.Store(id=STATUS),
            dcc.Store(id=RELOAD_SINK),
            dcc.Store(id=CLICK_SINK),
            dcc.Interval(id=REFRESH, interval=config.refresh_s * 1000, n_intervals=0),
            dcc.Interval(id=ROTATE, interval=config.rotate_s * 1000, n_intervals=0,
                         disabled=len(config.views) < 2),
            dcc.Interval(id=RELOAD, interval=max(1, int(config.reload_h * 3600 * 1000)),
                         n_intervals=0, disabled=config.reload_h <= 0),
            dcc.Interval(id=TICK, interval=1000, n_intervals=0),
        ]),
        html.Header(className="ob-wall-header", children=[
            html.Div(className="ob-wall-title", children=[
                html.Span(t("title", lang), className="ob-wall-name"),
                html.Span(scope, className="ob-wall-scope") if scope else None,
                html.Span("", id=FILTER_WARNING, className="ob-wall-filter-warning"),
            ]),
            html.Div(className="ob-wall-times", children=[
                html.Span("…", id=AS_OF, className="ob-wall-asof"),
                html.Span("", id=DATE, className="ob-wall-date"),
                html.Span("--:--:--", id=CLOCK, className="ob-wall-clock"),
            ]),
        ]),
        banner(BANNER, "ob-wall-banner"),
        html.Div(id=VIEWS_BOX, className="ob-wall-views", children=[
            _view(v, i == 0, lang) for i, v in enumerate(config.views)
        ]),
        html.Footer(className="ob-wall-footer", children=[
            *_nav(config),
            html.Div(className="ob-wall-dots", children=[
                _dot(v, i == 0, config) for i, v in enumerate(config.views)
            ]) if len(config.views) > 1 else None,
        ]),
    ])


# -- the contents of the slots (pure: WallData in, components out) ------------------------

# The key figures, by catalog name, in the order of the tiles.
KPI_TILES = ("orders_placed_today", "wip", "delay_rate", "cycle_time_median", "open_exceptions", "at_risk")


def link(path: str, config: WallConfig, **extra: str) -> str:
    """A link to a desktop page with the wall's filters and language (``extra`` first)."""
    return path + "?" + urlencode([*extra.items(), *search_pairs(config.scope())])


def kpi_tiles(data: WallData, config: WallConfig, catalog: Catalog = CATALOG) -> list:
    return [wall_tile(catalog[name], catalog[name].read(data.summary), config.lang,
                      link("/stages/all", config, metric=name)) for name in KPI_TILES]


def flow_tiles(data: WallData, config: WallConfig, catalog: Catalog = CATALOG) -> list:
    return [wall_card(row, catalog, config.lang, link(f"/stages/{row.code}", config))
            for row in data.summary.stages.itertuples()]


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
    tile = wall_tile(metric, metric.read(data.summary), lang, link("/alerts", config))
    alerts = data.alerts
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
        body.append(html.Tr(className=f"ob-alert-{r.severity}" + (" ob-alert--acked" if acked else ""),
                            **{"data-alert": str(r.id)}, children=[
            html.Td(subject(r.labels, r.rule_kind, lang, stage_name, catalog, compact=True), className="ob-alert-what"),
            html.Td(str(r.rule)),
            html.Td(first_responsible(r.labels)),
            html.Td(duration(age, lang), className="ob-num"),
            html.Td(t("alert_acked" if acked else "alert_not_acked", lang), className="ob-alert-ack"),
        ]))
    more = alerts.firing - len(frame)
    foot = [html.Div(t("alerts_more", lang, n=number(more)), className="ob-list-more")] if more > 0 else []
    return html.Div(className="ob-list ob-alert-list", style={"--ob-rows": len(frame)},
                    children=[html.Table([html.Thead(head), html.Tbody(body)]), *foot])

"""The wall: big-screen views for a TV, configured by the URL (see ``dashboard.wall_settings``).

``layout`` builds the frame only (it never queries the store): a header with the title,
filters, "data as of" and a clock; a stale banner; one section per configured view,
stacked on top of each other (the visible one has ``ob-view--active``, so every chart
keeps a real size while hidden); a footer with view dots and, outside kiosk mode, links.
Content slots have pattern-matching ids ``{"type": HTML_SLOT|GRAPH_SLOT, "slot", "view"}``
that one refresh callback fills (``dashboard.callbacks.wall``).

The refresh timer never stops (``dashboard.callbacks.wall`` and ``assets/wall_refresh.js``
say how a lost request is ended and how the banner is decided); the page carries what the
browser needs for that: the request bound (``data-timeout-ms`` on the root), the periods
and the banner's words in the screen's language (in the config store).
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.context import AppContext
from dashboard.figures.theme import THEMES, empty_figure
from dashboard.layouts.wall_views import t
from dashboard.wall_frame import period_s
from dashboard.wall_settings import VIEWS, WallConfig, parse_wall_settings
from dashboard.words import word

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
        html.Div(id=BANNER, className="ob-wall-banner", hidden=True),
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

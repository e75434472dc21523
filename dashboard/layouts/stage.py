"""The stage list ``/stages/<code>`` (and ``/stages/all?metric=...``): the orders behind
one number, in a server-side paged grid.

Which list is shown (``list_spec``):
- ``/stages/<code>?view=...``: one of ``STAGE_VIEWS`` for that stage (default ``wip``).
- ``/stages/all?metric=<name>``: the orders behind a KPI tile (``METRIC_LISTS``; the
  names are ``metrics.catalog`` names; the list is the metric's population).
- ``/stages/<code>?metric=<name>``: the stage view of that metric when it has one
  (``METRIC_TO_VIEW``), else the metric's list over all stages.

The layout is a frame; the grid is built by ``dashboard.callbacks.stage`` from the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import dash_ag_grid as dag  # at import: Dash must know the component library before callbacks run
from dash import dcc, html

from dashboard.components.page import back_link, html_lang, lang_switch, not_found, scope_text
from dashboard.context import AppContext
from dashboard.formatting import is_missing
from dashboard.url_state import ViewState, href, parse, to_search
from dashboard.words import pick, word
from datasource.pipeline import Pipeline
from metrics.catalog import CATALOG

URL = "stage-url"
LIST = "stage-list"
SEARCH = "stage-search"
TOTAL = "stage-total"
TITLE = "stage-title"
SCOPE = "stage-scope"
BODY = "stage-body"
FILTER_WARNING = "stage-filter-warning"
GRID = "stage-grid"          # pattern-matching type: {"type": GRID, "key": ...}
GRID_KEY = "stage-grid-key"  # the key of the grid on screen
EXPORT_CSV = "stage-export-csv"
EXPORT_XLSX = "stage-export-xlsx"
DOWNLOAD = "stage-download"
EXPORT_NOTE = "stage-export-note"  # says when an export holds only the first rows
BACK = "stage-back"
PAGE_SIZE = 50
ALL = "all"

# view -> drill-down kind (its words: ``view_<view>`` in ``dashboard.words.stage``)
STAGE_VIEWS: dict[str, str] = {
    "wip": "stage_wip", "breached": "stage_open_breaches", "overdue": "overdue_now",
    "at_risk": "at_risk", "delayed": "stage_delayed", "breaches": "stage_breaches",
    "rework": "stage_rework", "visits": "stage_visits", "exceptions": "open_exceptions",
}
# views that are a metric's population: their name is the metric's label
METRIC_VIEWS = {"at_risk": "at_risk", "exceptions": "open_exceptions"}
# Metric -> its population over all stages (every whole-flow metric of the catalog with one)
METRIC_LISTS: dict[str, str] = {
    name: metric.population for name, metric in CATALOG.items()
    if metric.population is not None and metric.value is not None
}
# KPI metric -> stage view, for /stages/<code>?metric=...
METRIC_TO_VIEW: dict[str, str] = {
    "wip": "wip", "overdue_now": "overdue", "at_risk": "at_risk", "open_exceptions": "exceptions",
    "sla_breach_rate": "breaches", "delay_contribution": "delayed", "throughput": "visits",
}


def view_label(view: str, lang: str) -> str:
    if view in METRIC_VIEWS:
        return CATALOG[METRIC_VIEWS[view]].label(lang)
    return word("stage", f"view_{view}", lang)


@dataclass(frozen=True)
class ListSpec:
    """What a stage-list URL lists: a drill-down kind, its stage (None = all stages),
    the selector's value and the title in each language (zh, en)."""

    what: str
    stage: str | None
    choice: str
    title_zh: str
    title_en: str

    def title(self, lang: str) -> str:
        return pick((self.title_zh, self.title_en), lang)


class UnknownStage(LookupError):
    """A stage code the pipeline does not have (the page is a 404)."""


def list_spec(code: str, state: ViewState, pipeline: Pipeline) -> ListSpec:
    """The list a URL asks for (an unknown view or metric falls back to the default
    list; an unknown stage code raises ``UnknownStage``)."""
    flow = {s.code: s for s in pipeline.flow_stages}
    if code != ALL and code not in flow:
        raise UnknownStage(code)
    if code != ALL and code in flow:
        view = state.view if state.view in STAGE_VIEWS else None
        if view is None and state.metric in METRIC_TO_VIEW:
            view = METRIC_TO_VIEW[state.metric]
        if view is not None or state.metric not in METRIC_LISTS:
            view = view or "wip"
            s = flow[code]
            return ListSpec(STAGE_VIEWS[view], code, view, f"{s.label_zh} · {view_label(view, 'zh')}",
                            f"{s.label_en} · {view_label(view, 'en')}")
    metric = state.metric if state.metric in METRIC_LISTS else "wip"
    d = CATALOG[metric]
    return ListSpec(METRIC_LISTS[metric], None, metric, d.label_zh, d.label_en)


def list_options(code: str, pipeline: Pipeline, lang: str = "zh") -> list[dict]:
    if code != ALL and code in {s.code for s in pipeline.flow_stages}:
        return [{"label": view_label(v, lang), "value": v} for v in STAGE_VIEWS]
    return [{"label": CATALOG[m].label(lang), "value": m} for m in METRIC_LISTS]


def stage_stats_text(row: dict | None, lang: str = "zh") -> str:
    """A stage's time in stage over the window, in words: the visits that ended in it and
    their mean, median, p90 and total hours (DESIGN.md section 4); "" without a row."""
    if row is None:
        return ""

    def h(key: str) -> str:
        value = row.get(key)
        return "—" if value is None or is_missing(value) else f"{float(value):,.1f} h"

    return word("stage", "stats", lang, visits=f"{int(row['visits']):,}", mean=h("mean_h"),
                median=h("median_h"), p90=h("p90_h"), total=h("total_h"))


def layout(ctx: AppContext, code: str = ALL, **params: str) -> html.Div:
    state = parse(params)
    lang = ctx.page_lang(state.lang)
    try:
        spec = list_spec(code, state, ctx.settings.pipeline)
    except UnknownStage:
        known = ", ".join(s.code for s in ctx.settings.pipeline.flow_stages)
        return not_found(f"/stages/{code}", word("common", "no_stage", lang, code=code, known=known),
                         lang, href("/", state.scope()))
    return html.Div(className="ob-page ob-manager ob-stage-page", lang=html_lang(lang), children=[
        dcc.Location(id=URL, refresh="callback-nav"),  # callback changes reach the shell too
        html.Header(className="ob-mheader", children=[
            back_link(state, lang, id=BACK),
            html.H1(spec.title(lang), id=TITLE, className="ob-mtitle"),
            html.Div(scope_text(state, lang), id=SCOPE, className="ob-scope"),
            lang_switch(f"/stages/{code}", to_search(state), lang),
        ]),
        html.Div(id=FILTER_WARNING, className="ob-filter-warnings"),
        html.Div(className="ob-toolbar", children=[
            dcc.Dropdown(id=LIST, options=list_options(code, ctx.settings.pipeline, lang), value=spec.choice,
                         clearable=False, className="ob-list-select"),
            dcc.Input(id=SEARCH, type="search", value=state.q or "", debounce=True,
                      placeholder=word("stage", "search", lang), className="ob-search"),
            html.Span("…", id=TOTAL, className="ob-total"),
            html.Button("CSV", id=EXPORT_CSV, className="ob-button", n_clicks=0),
            html.Button("XLSX", id=EXPORT_XLSX, className="ob-button", n_clicks=0),
            dcc.Download(id=DOWNLOAD),
            html.Span("", id=EXPORT_NOTE, className="ob-export-note", role="status"),
        ]),
        dcc.Store(id=GRID_KEY),
        html.Div(id=BODY, className="ob-grid-box"),
    ])


__all__ = ["ListSpec", "layout", "list_spec", "to_search"]


# -- the grid -------------------------------------------------------------------------

ORDER_FAMILY = {"placed_today", "completed", "late", "no_promise", "wip", "stage_wip",
                "overdue_now", "stage_open_breaches", "stage_delayed", "at_risk"}
OPEN_KINDS = {"wip", "stage_wip", "overdue_now", "stage_open_breaches", "at_risk"}
VISIT_FAMILY = {"stage_visits", "stage_breaches", "stage_rework", "anomalies"}
EXCEPTION_FAMILY = {"open_exceptions", "exceptions_opened"}
TEXT_FILTER_COLUMNS = ("order_number", "customer", "owner")

# column id -> kind of value (headers: ``col_<id>`` in ``dashboard.words.stage``)
COLUMNS: dict[str, str] = {
    "order_number": "text", "customer": "text", "owner": "text", "stage": "text",
    "entered_at": "time", "time_in_stage_h": "hours", "sla_h": "hours", "promised_at": "time",
    "hours_late": "hours", "open_exceptions": "count", "contribution_h": "hours",
    "placed_at": "time", "completed_at": "time", "cycle_time_h": "hours", "kind": "text",
    "opened_at": "time",
}
# columns that count a metric's population: their header is the metric's label
METRIC_COLUMNS = {"open_exceptions": "open_exceptions"}


def column_ids(what: str) -> list[str]:
    """The columns of a list, in order."""
    base = ["order_number", "customer", "owner", "stage", "entered_at", "time_in_stage_h",
            "sla_h", "promised_at", "hours_late", "open_exceptions"]
    if what == "stage_delayed":
        return base[:4] + ["contribution_h", "sla_h", "promised_at", "completed_at", "hours_late",
                           "open_exceptions"]
    if what in ("completed", "late", "no_promise"):
        return base[:3] + ["placed_at", "completed_at", "cycle_time_h", "promised_at", "hours_late",
                           "open_exceptions"]
    if what in EXCEPTION_FAMILY:
        return base[:4] + ["kind", "opened_at"] + base[4:]
    return base


def sort_names(what: str) -> dict[str, str]:
    """Grid column id -> the drill-down sort name (only sortable columns are present)."""
    names = {"order_number": "order_number", "customer": "customer", "owner": "owner",
             "promised_at": "promised_at"}
    if what in VISIT_FAMILY:
        names |= {"stage": "stage_code", "entered_at": "entered_at", "time_in_stage_h": "time_in_stage_h"}
    elif what in EXCEPTION_FAMILY:
        names |= {"stage": "exception_stage", "entered_at": "current_since", "kind": "kind",
                  "opened_at": "opened_at"}
    else:
        names |= {"stage": "current_stage", "entered_at": "current_since",
                  "completed_at": "completed_at", "placed_at": "placed_at"}
        if what in OPEN_KINDS or what == "placed_today":
            names["time_in_stage_h"] = "age_in_stage_h"
        if what in OPEN_KINDS:
            names["hours_late"] = "overdue_by_h"
        if what == "stage_delayed":
            names["contribution_h"] = "contribution_h"
    return names


def drill_sort(what: str, sort: str | None) -> str | None:
    """The URL's ``sort`` (a grid column id, "-" for descending) as a drill-down sort;
    None (the list's default order) for an unsortable or unknown column."""
    if not sort:
        return None
    descending = sort.startswith("-")
    name = sort_names(what).get(sort.lstrip("-"))
    if name is None:
        return None
    return ("-" if descending else "") + name


def header_name(col: str, lang: str = "zh") -> str:
    """A column's header in ``lang`` (the grid's and the export's)."""
    if col in METRIC_COLUMNS:
        return CATALOG[METRIC_COLUMNS[col]].label(lang)
    return word("stage", f"col_{col}", lang)


OVER_SLA_CLASS = "ob-row--over-sla"
# Grid-only fields of a row (``grid_records``): not columns, never exported.
ROW_HREF, ROW_OVER_SLA = "order_href", "over_sla"


def column_defs(what: str, state: ViewState, lang: str = "zh") -> list[dict]:
    sortable = sort_names(what)
    current = (state.sort or "").lstrip("-")
    direction = "desc" if (state.sort or "").startswith("-") else "asc"
    defs = []
    for col in column_ids(what):
        kind = COLUMNS[col]
        d: dict = {"field": col, "colId": col, "headerName": header_name(col, lang),
                   "sortable": col in sortable, "headerTooltip": header_name(col, lang)}
        if col == "hours_late":
            d["headerTooltip"] = word("stage", "hours_late_tip", lang)
        if col in TEXT_FILTER_COLUMNS:
            d |= {"filter": "agTextColumnFilter",
                  "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1,
                                   "debounceMs": 400}}
        if kind in ("hours", "count"):
            d |= {"type": "rightAligned", "cellClass": "ob-num"}
        if col == "order_number":
            # a real link (assets/dashAgGridComponentFunctions.js): ctrl/middle click opens a tab
            d |= {"cellRenderer": "OrderLink", "pinned": "left", "minWidth": 150}
        if col == current and col in sortable:
            d["sort"] = direction
        defs.append(d)
    return defs


def filter_model(state: ViewState) -> dict:
    return {col: {"filterType": "text", "type": "contains", "filter": text}
            for col, text in state.column_filters if col in TEXT_FILTER_COLUMNS}


def grid(key: str, what: str, state: ViewState, lang: str = "zh") -> dag.AgGrid:
    return dag.AgGrid(
        id={"type": GRID, "key": key},
        rowModelType="infinite",
        columnDefs=column_defs(what, state, lang),
        # headers wrap onto a second line instead of being cut
        defaultColDef={"resizable": True, "minWidth": 90, "flex": 1,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        filterModel=filter_model(state),
        dashGridOptions={
            "pagination": True, "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": False, "cacheBlockSize": PAGE_SIZE,
            "maxBlocksInCache": 4, "rowBuffer": 0, "tooltipShowDelay": 300,
            "suppressMultiSort": True, "animateRows": False,
            # which rows are over SLA is decided on the server (``grid_records``)
            "rowClassRules": {OVER_SLA_CLASS: f"params.data && params.data.{ROW_OVER_SLA}"},
        },
        paginationGoTo=state.page - 1 if state.page > 1 else None,
        className="ob-grid",
        style={"height": "70vh", "width": "100%"},
    )

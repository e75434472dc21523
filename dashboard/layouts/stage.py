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

from dashboard.components import not_found, scope_text
from dashboard.context import AppContext
from dashboard.formatting import is_missing
from dashboard.url_state import ViewState, href, parse, to_search
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

# view -> (drill-down kind, zh, en)
STAGE_VIEWS: dict[str, tuple[str, str, str]] = {
    "wip": ("stage_wip", "在此环节", "In the stage now"),
    "breached": ("stage_open_breaches", "已超SLA(在制)", "Over SLA now"),
    "overdue": ("overdue_now", "已逾期(在制)", "Past promised date now"),
    "at_risk": ("at_risk", CATALOG["at_risk"].label_zh, CATALOG["at_risk"].label_en),
    "delayed": ("stage_delayed", "延误订单(本环节超时)", "Late orders delayed here"),
    "breaches": ("stage_breaches", "超时记录(期间内)", "SLA breaches in the window"),
    "rework": ("stage_rework", "返工记录", "Rework visits in the window"),
    "visits": ("stage_visits", "离开本环节(期间内)", "Visits ended in the window"),
    "exceptions": ("open_exceptions", CATALOG["open_exceptions"].label_zh, CATALOG["open_exceptions"].label_en),
}
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


@dataclass(frozen=True)
class ListSpec:
    """What a stage-list URL lists: a drill-down kind, its stage (None = all stages),
    the selector's value and the title."""

    what: str
    stage: str | None
    choice: str
    title_zh: str
    title_en: str


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
            what, zh, en = STAGE_VIEWS[view]
            s = flow[code]
            return ListSpec(what, code, view, f"{s.label_zh} · {zh}", f"{s.label_en} · {en}")
    metric = state.metric if state.metric in METRIC_LISTS else "wip"
    d = CATALOG[metric]
    return ListSpec(METRIC_LISTS[metric], None, metric, d.label_zh, d.label_en)


def list_options(code: str, pipeline: Pipeline) -> list[dict]:
    if code != ALL and code in {s.code for s in pipeline.flow_stages}:
        return [{"label": f"{zh} · {en}", "value": v} for v, (_, zh, en) in STAGE_VIEWS.items()]
    return [{"label": f"{CATALOG[m].label_zh} · {CATALOG[m].label_en}", "value": m}
            for m in METRIC_LISTS]


def stage_stats_text(row: dict | None) -> str:
    """A stage's time in stage over the window, in words: the visits that ended in it and
    their mean, median, p90 and total hours (DESIGN.md section 4); "" without a row."""
    if row is None:
        return ""

    def h(key: str) -> str:
        value = row.get(key)
        return "—" if value is None or is_missing(value) else f"{float(value):,.1f} h"

    return (f"{int(row['visits']):,} 次 visits · 平均 mean {h('mean_h')} · 中位 median "
            f"{h('median_h')} · P90 {h('p90_h')} · 合计 total {h('total_h')}")


def layout(ctx: AppContext, code: str = ALL, **params: str) -> html.Div:
    state = parse(to_search_params(params))
    try:
        spec = list_spec(code, state, ctx.settings.pipeline)
    except UnknownStage:
        known = ", ".join(s.code for s in ctx.settings.pipeline.flow_stages)
        return not_found(f"/stages/{code}", f"没有这个环节 · no stage “{code}” (stages: {known})")
    return html.Div(className="ob-page ob-manager ob-stage-page", children=[
        dcc.Location(id=URL, refresh="callback-nav"),  # callback changes reach the shell too
        html.Header(className="ob-mheader", children=[
            dcc.Link("← 概览 · Overview", id=BACK, href=href("/", state.scope()), className="ob-back"),
            html.H1(f"{spec.title_zh} · {spec.title_en}", id=TITLE, className="ob-mtitle"),
            html.Div(scope_text(state), id=SCOPE, className="ob-scope"),
        ]),
        html.Div(id=FILTER_WARNING, className="ob-filter-warnings"),
        html.Div(className="ob-toolbar", children=[
            dcc.Dropdown(id=LIST, options=list_options(code, ctx.settings.pipeline), value=spec.choice,
                         clearable=False, className="ob-list-select"),
            dcc.Input(id=SEARCH, type="search", value=state.q or "", debounce=True,
                      placeholder="搜索订单/客户/负责人 · search order, customer, owner",
                      className="ob-search"),
            html.Span("…", id=TOTAL, className="ob-total"),
            html.Button("CSV", id=EXPORT_CSV, className="ob-button", n_clicks=0),
            html.Button("XLSX", id=EXPORT_XLSX, className="ob-button", n_clicks=0),
            dcc.Download(id=DOWNLOAD),
            html.Span("", id=EXPORT_NOTE, className="ob-export-note", role="status"),
        ]),
        dcc.Store(id=GRID_KEY),
        html.Div(id=BODY, className="ob-grid-box"),
    ])


def to_search_params(params: dict[str, str]) -> str:
    """The router hands the query as keyword arguments; back to a query string."""
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if isinstance(v, str)})


__all__ = ["ListSpec", "layout", "list_spec", "to_search"]


# -- the grid -------------------------------------------------------------------------

ORDER_FAMILY = {"placed_today", "completed", "late", "no_promise", "wip", "stage_wip",
                "overdue_now", "stage_open_breaches", "stage_delayed", "at_risk"}
OPEN_KINDS = {"wip", "stage_wip", "overdue_now", "stage_open_breaches", "at_risk"}
VISIT_FAMILY = {"stage_visits", "stage_breaches", "stage_rework", "anomalies"}
EXCEPTION_FAMILY = {"open_exceptions", "exceptions_opened"}
TEXT_FILTER_COLUMNS = ("order_number", "customer", "owner")

# column id -> (zh, en, kind of value)
COLUMNS: dict[str, tuple[str, str, str]] = {
    "order_number": ("订单", "Order", "text"),
    "customer": ("客户", "Customer", "text"),
    "owner": ("负责人", "Owner", "text"),
    "stage": ("环节", "Stage", "text"),
    "entered_at": ("进入环节", "Entered stage", "time"),
    "time_in_stage_h": ("环节用时 h", "Time in stage (h)", "hours"),
    "sla_h": ("SLA", "SLA (h)", "hours"),
    "promised_at": ("承诺交期", "Promised", "time"),
    "hours_late": ("延误 h", "Hours late", "hours"),
    "open_exceptions": (CATALOG["open_exceptions"].label_zh, CATALOG["open_exceptions"].label_en, "count"),
    "contribution_h": ("超时贡献 h", "Beyond SLA here (h)", "hours"),
    "placed_at": ("下单时间", "Placed", "time"),
    "completed_at": ("签收", "Completed", "time"),
    "cycle_time_h": ("履约周期 h", "Cycle time (h)", "hours"),
    "kind": ("异常类型", "Exception", "text"),
    "opened_at": ("异常发生", "Opened", "time"),
}


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


def header_name(col: str) -> str:
    """A column's header, Chinese then English ("环节用时 h Time in stage (h)"); a
    Chinese label that is only the start of the English one ("SLA") is not repeated."""
    zh, en, _ = COLUMNS[col]
    return en if en.startswith(zh) else f"{zh} {en}"


OVER_SLA_CLASS = "ob-row--over-sla"
# Grid-only fields of a row (``grid_records``): not columns, never exported.
ROW_HREF, ROW_OVER_SLA = "order_href", "over_sla"


def column_defs(what: str, state: ViewState) -> list[dict]:
    sortable = sort_names(what)
    current = (state.sort or "").lstrip("-")
    direction = "desc" if (state.sort or "").startswith("-") else "asc"
    defs = []
    for col in column_ids(what):
        zh, en, kind = COLUMNS[col]
        d: dict = {"field": col, "colId": col, "headerName": header_name(col),
                   "sortable": col in sortable, "headerTooltip": en}
        if col == "hours_late":
            d["headerTooltip"] = "Hours past the promised date (late orders only)"
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


def grid(key: str, what: str, state: ViewState) -> dag.AgGrid:
    return dag.AgGrid(
        id={"type": GRID, "key": key},
        rowModelType="infinite",
        columnDefs=column_defs(what, state),
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

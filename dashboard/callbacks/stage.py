"""Callbacks of the stage list: grid pages from the store, the URL in sync, exports.

Plain functions (tests call them) do the work; ``register`` wires them:

- ``render_body``: the URL -> title, selector, total and (when the list changed) a new
  grid. A grid is keyed by everything that defines its rows (list, filters, window,
  search, sort, column filters); when the URL only says what the grid on screen already
  shows (the manager sorted, filtered or paged in the grid), the grid stays.
- ``get_rows``: the grid's block request -> one page of ``metrics.drilldown.
  orders_behind_page`` (through the cache; the key holds every filter, sort and page).
- ``sync_search``: selector, search box and grid requests -> the URL (so a link and
  the back button reproduce the view).
- ``export_list``: the full filtered, sorted list as CSV or XLSX (times in the
  configured zone, no tz), recorded in the audit log.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from urllib.parse import unquote

import pandas as pd
from dash import ALL as ALL_IDS
from dash import Dash, Input, Output, State, dcc, no_update
from dash import ctx as callback_ctx
from sqlalchemy.exc import SQLAlchemyError

from dashboard.access import require, scoped
from dashboard.components.page import scope_text
from dashboard.context import AppContext
from dashboard.deadline import local_deadlines
from dashboard.export import COUNT_FORMAT, HOURS_FORMAT, table_bytes
from dashboard.filter_check import filter_warning, unknown_filters
from dashboard.layouts import stage as ui
from dashboard.limits import (
    MAX_EXPORT_ROWS,
    MAX_GRID_BLOCK_ROWS,
    MAX_GRID_START_ROW,
    MAX_LIST_DAYS,
    RangeTooLong,
    bad_request,
    check_range,
)
from dashboard.summary_cache import summary_result
from dashboard.url_state import ViewState, href, order_href, parse, to_search
from dashboard.words import pick, word
from datasource.audit import record_audit
from datasource.pipeline import Pipeline
from metrics import frames
from metrics.drilldown import orders_behind_page


def stage_code(pathname: str | None) -> str:
    parts = [p for p in (pathname or "").split("/") if p]
    return unquote(parts[1]) if len(parts) >= 2 and parts[0] == "stages" else ui.ALL


# -- rows -----------------------------------------------------------------------------

def _local(values: pd.Series, tz) -> pd.Series:
    """UTC instants -> naive local wall-clock times of ``tz``."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.tz_localize(None)


def display_frame(rows: pd.DataFrame, spec: ui.ListSpec, ctx: AppContext,
                  open_exceptions: dict[int, int], lang: str = "zh") -> pd.DataFrame:
    """The grid's columns (``ui.column_ids``) of drill-down rows; times local, naive;
    stage names in ``lang``."""
    pipeline, tz, what = ctx.settings.pipeline, ctx.tz, spec.what
    sla = {s.code: s.sla_hours for s in pipeline.stages}
    label = {s.code: pick((s.label_zh, s.label_en), lang) for s in pipeline.stages}
    out = pd.DataFrame(index=rows.index)
    out["order_number"] = rows["order_number"]
    out["customer"] = rows["customer"]
    out["owner"] = rows["owner"]
    is_open = rows["status"] == "open"
    if what in ui.VISIT_FAMILY:
        stage_col, entered, in_stage = rows["stage_code"], rows["entered_at"], rows["time_in_stage_h"]
    elif what in ui.EXCEPTION_FAMILY:
        stage_col, entered, in_stage = rows["exception_stage"], rows["current_since"], rows["age_in_stage_h"]
    elif what == "stage_delayed":
        stage_col = pd.Series(spec.stage, index=rows.index)
        # completed orders: their visits of this stage are behind "contribution_h"
        entered = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us, UTC]")
        in_stage = pd.Series(float("nan"), index=rows.index)
    else:
        stage_col, entered, in_stage = rows["current_stage"], rows["current_since"], rows["age_in_stage_h"]
    out["stage"] = stage_col.map(label).fillna(stage_col)
    out["entered_at"] = _local(entered, tz)
    out["time_in_stage_h"] = in_stage.astype("float64").round(1)
    out["sla_h"] = stage_col.map(sla).astype("float64")
    out["promised_at"] = local_deadlines(rows["promised_at"], tz)
    # Only a late order has hours late: an order before its deadline shows a blank, not
    # its time left as a negative number.
    late_h = rows["overdue_by_h"].where(is_open, rows["late_by_h"]).astype("float64")
    out["hours_late"] = late_h.where(late_h > 0).round(1)
    out["open_exceptions"] = rows["order_id"].map(lambda i: open_exceptions.get(int(i), 0)).astype("int64")
    out["completed_at"] = _local(rows["completed_at"], tz)
    out["placed_at"] = _local(rows["placed_at"], tz)
    out["cycle_time_h"] = rows["cycle_time_h"].astype("float64").round(1)
    if "contribution_h" in rows:
        out["contribution_h"] = rows["contribution_h"].astype("float64").round(1)
    if what in ui.EXCEPTION_FAMILY:
        out["kind"] = rows["kind"]
        out["opened_at"] = _local(rows["opened_at"], tz)
    return out[ui.column_ids(what)].reset_index(drop=True)


def fetch(ctx: AppContext, spec: ui.ListSpec, state: ViewState, offset: int, limit: int | None,
          now: datetime) -> tuple[pd.DataFrame, int]:
    """One page (``limit=None``: all) of the list as display columns, and the total,
    through the cache. The key holds the list, window, every filter, sort, search,
    column filter and the page."""
    filters = scoped(state.filters())  # the page's filters within the viewer's scope
    params = {
        "store": ctx.store_key, "what": spec.what, "stage": spec.stage,
        "window": state.window_key(), "filters": filters.active(),
        "sort": ui.drill_sort(spec.what, state.sort), "q": state.q,
        "contains": dict(state.column_filters), "offset": offset, "limit": limit,
        "lang": ctx.page_lang(state.lang),
    }

    def compute() -> tuple[pd.DataFrame, int]:
        pipeline = ctx.settings.pipeline
        rows, total = orders_behind_page(
            ctx.engine, pipeline, spec.what, state.window(now, pipeline.timezone), filters,
            now, spec.stage, params["sort"], offset, limit,
            contains={k: v for k, v in state.column_filters if k in ui.TEXT_FILTER_COLUMNS},
            search=state.q,
        )
        counts = frames.open_exception_counts(ctx.engine, rows["order_id"].tolist(), now)
        return display_frame(rows, spec, ctx, counts, params["lang"]), total

    return ctx.service.get("stage.list", params, compute).value


def over_sla(frame: pd.DataFrame) -> pd.Series:
    """Rows over their stage's SLA: time in stage above the SLA, or (late orders delayed
    at a stage) hours beyond the SLA there."""
    over = pd.Series(False, index=frame.index)
    if "time_in_stage_h" in frame and "sla_h" in frame:
        over |= (frame["time_in_stage_h"] > frame["sla_h"]).fillna(False)
    if "contribution_h" in frame:
        over |= (frame["contribution_h"] > 0).fillna(False)
    return over.astype(bool)


def grid_records(frame: pd.DataFrame) -> list[dict]:
    """JSON rows for the grid: times as "YYYY-MM-DD HH:MM", missing values as None; plus
    each row's order page link (``ui.ROW_HREF``) and whether it is over SLA
    (``ui.ROW_OVER_SLA``, the row's highlight)."""
    flags = over_sla(frame)
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M")
    out = out.astype(object).where(out.notna(), None)
    out[ui.ROW_HREF] = [order_href(n) for n in frame["order_number"]]
    out[ui.ROW_OVER_SLA] = flags.tolist()
    return out.to_dict("records")


# -- the grid request <-> the URL -----------------------------------------------------

def _row_number(value: object, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise bad_request(f"{name} must be a whole number")
    if not 0 <= value <= MAX_GRID_START_ROW + MAX_GRID_BLOCK_ROWS:
        raise bad_request(f"{name} must be between 0 and {MAX_GRID_START_ROW:,}")
    return value


def block_bounds(request: dict | None) -> tuple[int, int]:
    """(start, end) rows of a grid block request; a 400 for anything but
    0 <= start < end, end - start <= ``MAX_GRID_BLOCK_ROWS``, start <= ``MAX_GRID_START_ROW``."""
    request = checked_request(request) or {}
    start = _row_number(request.get("startRow"), 0, "startRow")
    end = _row_number(request.get("endRow"), start + ui.PAGE_SIZE, "endRow")
    if start > MAX_GRID_START_ROW:
        raise bad_request(f"startRow must be at most {MAX_GRID_START_ROW:,}")
    if not start < end <= start + MAX_GRID_BLOCK_ROWS:
        raise bad_request(f"a grid block is 1 to {MAX_GRID_BLOCK_ROWS} rows (startRow < endRow)")
    return start, end


def checked_request(request: object) -> dict | None:
    """The grid's block request if it has the grid's shape (a sort model list of
    objects, a filter model object), else a 400."""
    if request is None:
        return None
    if not isinstance(request, dict):
        raise bad_request("a grid request is an object")
    sort_model = request.get("sortModel") or []
    filter_model = request.get("filterModel") or {}
    if not (isinstance(sort_model, list) and all(isinstance(s, dict) for s in sort_model)
            and isinstance(filter_model, dict)):
        raise bad_request("sortModel must be a list of objects and filterModel an object")
    return request


def state_from_request(state: ViewState, request: dict | None) -> ViewState:
    """The URL state after the grid asked for a block: its sort, column filters, page."""
    if not request:
        return state
    start, _ = block_bounds(request)
    sort_model = request.get("sortModel") or []
    sort = None
    if sort_model:
        first = sort_model[0]
        sort = ("-" if first.get("sort") == "desc" else "") + str(first.get("colId"))
    filters = tuple(sorted(
        (col, str(f.get("filter")).strip()) for col, f in (request.get("filterModel") or {}).items()
        if col in ui.TEXT_FILTER_COLUMNS and isinstance(f, dict) and str(f.get("filter") or "").strip()
    ))
    page = start // ui.PAGE_SIZE + 1
    return state.with_(sort=sort, column_filters=filters, page=page)


def range_problem(state: ViewState, lang: str = "zh") -> str | None:
    """Why the list of ``state`` is not computed on a page (its from..to range is longer
    than ``MAX_LIST_DAYS``), or None."""
    if state.start is None or state.end is None:
        return None  # ?days= is bounded by the URL grammar already
    try:
        check_range(state.start, state.end, MAX_LIST_DAYS, "orderboard metrics --from --to")
    except RangeTooLong as exc:
        return word("stage", "range_too_long", lang, **exc.parts)
    return None


def get_rows(ctx: AppContext, pathname: str | None, search: str | None, request: dict | None,
             now: datetime | None = None) -> dict:
    """The grid's block request -> {"rowData": [...], "rowCount": total}."""
    code = stage_code(pathname)
    start, end = block_bounds(request)
    state = state_from_request(parse(search), request)
    if range_problem(state):
        return {"rowData": [], "rowCount": 0}
    spec = ui.list_spec(code, state, ctx.settings.pipeline)
    try:
        frame, total = fetch(ctx, spec, state, start, end - start, now or ctx.moment())
    except SQLAlchemyError as exc:
        # The page's count line says the store is unreachable (``render_body``); the block
        # stays unanswered (the grid shows it loading) rather than an empty list, which
        # would read as "no orders".
        ctx.store_unreachable(exc, ctx.page_lang(state.lang))
        return no_update
    return {"rowData": grid_records(frame), "rowCount": total}


def _digest(code: str, state: ViewState) -> str:
    return hashlib.sha1(json.dumps([code, to_search(state)]).encode()).hexdigest()[:16]


def grid_keys(code: str, state: ViewState) -> dict[str, str]:
    """"base": what the grid lists (list, window, filters, search); "key": that plus the
    grid's own sort and column filters (its component id)."""
    return {"base": _digest(code, state.with_(sort=None, column_filters=(), page=1)),
            "key": _digest(code, state.with_(page=1))}


def grid_shows(shown: dict | None, keys: dict[str, str], state: ViewState,
               last_request: dict | None) -> bool:
    """True when the grid on screen already shows ``state``: same list, and its last
    block request has the URL's sort, column filters and page (the manager sorted,
    filtered or paged in the grid, and the URL followed)."""
    if not shown or shown.get("base") != keys["base"]:
        return False
    if shown.get("key") == keys["key"] and last_request is None:
        return True
    return last_request is not None and state_from_request(state, last_request) == state


def total_text(total: int, lang: str = "zh") -> str:
    return word("stage", "total", lang, n=f"{total:,}")


def stage_row(ctx: AppContext, code: str, state: ViewState, now: datetime) -> dict | None:
    """The stage's row of the (cached, shared with the overview) summary of the state's
    window and filters; None for no flow stage or when the store cannot be read."""
    if code not in {s.code for s in ctx.settings.pipeline.flow_stages}:
        return None
    try:
        window = state.window(now, ctx.settings.timezone)
        stages = summary_result(ctx, state.window_key(), window, state.filters(), now).value.stages
    except Exception:  # noqa: BLE001 - the list still renders; the stats are a header
        return None
    rows = stages.loc[stages["code"] == code]
    return None if rows.empty else rows.iloc[0].to_dict()


def render_body(ctx: AppContext, pathname: str | None, search: str | None,
                shown: dict | None, last_request: dict | None = None,
                now: datetime | None = None) -> tuple:
    """(grid or no_update, grid keys, title, scope, total text, list options, list value,
    search text, back link) for the URL. ``shown``: the keys of the grid on screen;
    ``last_request``: its last block request."""
    code = stage_code(pathname)
    state = parse(search)
    lang = ctx.page_lang(state.lang)
    pipeline = ctx.settings.pipeline
    spec = ui.list_spec(code, state, pipeline)
    keys = grid_keys(code, state)
    problem = range_problem(state, lang)
    store_failed = False
    try:
        if problem:
            total_label = problem
        else:
            _, total = fetch(ctx, spec, state, 0, ui.PAGE_SIZE, now or ctx.moment())
            total_label = total_text(total, lang)
    except SQLAlchemyError as exc:  # say so instead of crashing the page
        total_label, store_failed = ctx.store_unreachable(exc, lang), True
    scope = scope_text(state, lang)
    # a failing store is not asked again for the header's statistics: one bounded wait per request
    stats = None if store_failed else ui.stage_stats_text(stage_row(ctx, code, state, now or ctx.moment()), lang)
    if stats:
        scope = f"{scope} · {stats}"
    if grid_shows(shown, keys, state, last_request):
        body, keys = no_update, no_update
    else:
        body = ui.grid(keys["key"], spec.what, state, lang)
    return (body, keys, spec.title(lang), scope, total_label,
            ui.list_options(code, pipeline, lang), spec.choice, state.q or "", href("/", state.scope()))


def sync_search(pipeline: Pipeline, pathname: str | None, search: str | None, choice: str | None,
                text: str | None, requests: list[dict | None], trigger: str | dict | None) -> str:
    """The URL query after the manager changed the selector, the search or the grid."""
    code = stage_code(pathname)
    state = parse(search)
    if trigger == ui.LIST and choice:
        field = "metric" if code == ui.ALL else "view"
        if choice != ui.list_spec(code, state, pipeline).choice:
            state = state.with_(**{"view": None, "metric": None, field: choice}, page=1, sort=None)
    elif trigger == ui.SEARCH:
        q = (text or "").strip() or None
        if q != state.q:
            state = state.with_(q=q, page=1)
    elif isinstance(trigger, dict) and requests:
        state = state_from_request(state, requests[-1])
    new = to_search(state)
    return no_update if new == (search or "") else new


# -- export ---------------------------------------------------------------------------

# The Excel format of each kind of column (``ui.COLUMNS``); times are local Excel dates.
KIND_FORMATS = {"hours": HOURS_FORMAT, "count": COUNT_FORMAT}


def export_list(ctx: AppContext, pathname: str | None, search: str | None, fmt: str,
                now: datetime | None = None) -> dict | None:
    """The whole list as shown (filters, search, sort; every page, at most
    ``MAX_EXPORT_ROWS`` rows) for dcc.Download."""
    return export_with_note(ctx, pathname, search, fmt, now)[0]


def export_note(exported: int, total: int, lang: str = "zh") -> str:
    """The line shown beside the export buttons: empty, or that the file holds only the
    first rows of a longer list."""
    if total <= exported:
        return ""
    return word("stage", "export_limit", lang, exported=f"{exported:,}", total=f"{total:,}")


def export_with_note(ctx: AppContext, pathname: str | None, search: str | None, fmt: str,
                     now: datetime | None = None) -> tuple[dict | None, str]:
    """(download, note): the list as ``export_list`` makes it, and ``export_note``; no
    file and the reason when the list's range is too long for a page. Only for a viewer
    who may export (a 403 otherwise); the rows are those of the viewer's scope."""
    actor = require("export").name
    if fmt not in ("csv", "xlsx"):
        raise bad_request("export format must be csv or xlsx")
    code = stage_code(pathname)
    state = parse(search)
    problem = range_problem(state, ctx.page_lang(state.lang))
    if problem:
        return None, problem
    spec = ui.list_spec(code, state, ctx.settings.pipeline)
    moment_ = now or ctx.moment()
    lang = ctx.page_lang(state.lang)
    try:
        frame, total = fetch(ctx, spec, state, 0, MAX_EXPORT_ROWS, moment_)
    except SQLAlchemyError as exc:
        return None, ctx.store_unreachable(exc, lang)
    note = export_note(len(frame), total, lang)
    formats = {ui.header_name(c, lang): KIND_FORMATS[ui.COLUMNS[c]] for c in frame.columns
               if ui.COLUMNS[c] in KIND_FORMATS}
    frame = frame.rename(columns={c: ui.header_name(c, lang) for c in frame.columns})
    stamp = moment_.astimezone(ctx.tz).strftime("%Y%m%d-%H%M")
    name = f"orders-{spec.stage or spec.choice}-{stamp}.{fmt}"
    record_audit(ctx.engine, actor, "export", href(pathname or "/stages/all", state),
                 f"{fmt}, {len(frame)} of {total} rows, {name}")
    if fmt == "xlsx":
        return dcc.send_bytes(table_bytes(frame, "xlsx", sheet="orders", formats=formats), name), note
    return dcc.send_bytes(table_bytes(frame, "csv", date_format="%Y-%m-%d %H:%M"), name), note


def _text(value: object, name: str) -> str | None:
    """A URL part or text from the browser: text without NUL bytes (also not as ``%00``),
    or nothing; else a 400."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be text")
    if "\x00" in value or "%00" in value:
        raise bad_request(f"NUL byte in {name}")
    return value


def register(app: Dash, ctx: AppContext) -> None:
    grid_request = Input({"type": ui.GRID, "key": ALL_IDS}, "getRowsRequest")

    @app.callback(
        Output(ui.BODY, "children"), Output(ui.GRID_KEY, "data"), Output(ui.TITLE, "children"),
        Output(ui.SCOPE, "children"), Output(ui.TOTAL, "children"), Output(ui.LIST, "options"),
        Output(ui.LIST, "value"), Output(ui.SEARCH, "value"), Output(ui.BACK, "href"),
        Input(ui.URL, "search"), State(ui.URL, "pathname"), State(ui.GRID_KEY, "data"),
        State({"type": ui.GRID, "key": ALL_IDS}, "getRowsRequest"),
    )
    def _render_stage(search, pathname, shown, requests):
        pathname, search = _text(pathname, "pathname"), _text(search, "search")
        if not (pathname or "").startswith("/stages"):
            return (no_update,) * 9
        return render_body(ctx, pathname, search, shown, checked_request((requests or [None])[-1]))

    @app.callback(
        Output({"type": ui.GRID, "key": ALL_IDS}, "getRowsResponse"),
        grid_request, State(ui.URL, "pathname"), State(ui.URL, "search"),
        prevent_initial_call=True,
    )
    def _grid_rows(requests, pathname, search):
        pathname, search = _text(pathname, "pathname"), _text(search, "search")
        trigger = callback_ctx.triggered_id
        ids = [i["id"] for i in callback_ctx.outputs_list]
        return [get_rows(ctx, pathname, search, r) if i == trigger and r else no_update
                for i, r in zip(ids, requests)]

    @app.callback(
        Output(ui.URL, "search"),
        Input(ui.LIST, "value"), Input(ui.SEARCH, "value"), grid_request,
        State(ui.URL, "pathname"), State(ui.URL, "search"),
        prevent_initial_call=True,
    )
    def _sync_stage_url(choice, text, requests, pathname, search):
        pathname, search = _text(pathname, "pathname"), _text(search, "search")
        text = _text(text, "search text")
        return sync_search(ctx.settings.pipeline, pathname, search, choice, text, requests, callback_ctx.triggered_id)

    @app.callback(
        Output(ui.DOWNLOAD, "data"), Output(ui.EXPORT_NOTE, "children"),
        Input(ui.EXPORT_CSV, "n_clicks"), Input(ui.EXPORT_XLSX, "n_clicks"),
        State(ui.URL, "pathname"), State(ui.URL, "search"),
        prevent_initial_call=True,
    )
    def _export_stage(_csv, _xlsx, pathname, search):
        pathname, search = _text(pathname, "pathname"), _text(search, "search")
        fmt = "xlsx" if callback_ctx.triggered_id == ui.EXPORT_XLSX else "csv"
        download, note = export_with_note(ctx, pathname, search, fmt)
        return (download if download is not None else no_update), note

    @app.callback(Output(ui.FILTER_WARNING, "children"), Input(ui.URL, "search"), State(ui.URL, "pathname"))
    def _stage_filter_warning(search, pathname):
        pathname, search = _text(pathname, "pathname"), _text(search, "search")
        if not (pathname or "").startswith("/stages"):
            return no_update
        state = parse(search)
        return filter_warning(unknown_filters(ctx, state.filters()), ctx.page_lang(state.lang))

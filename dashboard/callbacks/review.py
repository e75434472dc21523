"""Callbacks of the review page. Plain functions (tests call them) wired by ``register``:

- ``navigate``: a week or a date range was picked -> new selection and URL query.
- ``render``: selection -> the page body, through the cache (one report per selection).
- ``download``: an export button -> chart (PNG/SVG/PDF), table (XLSX/CSV) or the whole
  report (PDF/XLSX), built by the same figure and table functions as the page. A chart
  that cannot be exported (no browser on the server) says why in the page's error line,
  at once, instead of a download that never comes.
"""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard.access import require, scoped
from dashboard.context import AppContext
from dashboard.export import CHART_FORMATS, TABLE_FORMATS, ExportError, figure_bytes, table_bytes
from dashboard.layouts.review import (
    BODY,
    DOWNLOAD,
    ERROR,
    EXPORT,
    PERIOD,
    RANGE,
    SELECTION,
    WEEK,
    period_line,
    query_of,
    review_body,
    selection_window,
)
from dashboard.limits import bad_request
from dashboard.report.charts import CHART_IDS, review_figure
from dashboard.report.tables import TABLE_IDS, table_formats, table_frame
from dashboard.words import word
from datasource.audit import record_audit
from metrics.review import WeeklyReport, build_weekly_report
from metrics.window import Filters

FORMATS = (*CHART_FORMATS, *TABLE_FORMATS)
REVIEW_PERIOD_S = 300  # past weeks change only with the data version, which is in the key


def load_report(ctx: AppContext, selection: dict) -> WeeklyReport:
    """The report of a selection, cached by store, window and data version."""
    window = selection_window(selection, ctx.settings.timezone)
    filters = scoped(Filters())  # the whole store, or the viewer's scope of it
    params = {"store": ctx.store_key, "start": window.start.isoformat(), "end": window.end.isoformat(),
              "filters": filters.active()}
    now = ctx.moment(REVIEW_PERIOD_S)
    result = ctx.service.get("review.report", params, lambda: build_weekly_report(
        ctx.engine, ctx.settings.pipeline, window, now, filters), period_s=REVIEW_PERIOD_S)
    return result.value


def navigate(week: str | None, start: str | None, end: str | None, selection: dict,
             trigger: str | None, tz: str = "UTC") -> tuple[dict, str]:
    """(selection, URL query) after the week dropdown or the date range changed; a bad
    or too long range keeps the period on screen and says why (``error``)."""
    lang = selection.get("lang") or "zh"
    if trigger == RANGE:
        if not (start and end):
            raise PreventUpdate  # wait for the second date
        if not (isinstance(start, str) and isinstance(end, str)):
            raise bad_request("dates must be text")
        new = {"week": None, "from": start[:10], "to": end[:10], "lang": lang, "error": None}
    else:
        if not week:
            raise PreventUpdate
        if not isinstance(week, str):
            raise bad_request("week must be text")
        new = {"week": week, "from": None, "to": None, "lang": lang, "error": None}
    try:
        selection_window(new, tz)
    except ValueError as exc:  # a bad date, or a range longer than a page computes
        return {**selection, "lang": lang, "error": str(exc)}, no_update
    return new, query_of(new)


def render(ctx: AppContext, selection: dict) -> tuple:
    """(body, period line, error text, error hidden) for a selection."""
    lang = selection.get("lang") or "zh"
    try:
        report = load_report(ctx, selection)
    except SQLAlchemyError as exc:
        return [], "", ctx.store_unreachable(exc, ctx.page_lang(lang)), False
    except Exception as exc:  # noqa: BLE001 - say what failed instead of a blank page
        return [], "", word("review", "could_not_compute", lang, error=str(exc).splitlines()[0][:200]), False
    error = selection.get("error")
    return review_body(report, lang), period_line(report, lang), error or "", not error


def export_file(report: WeeklyReport, item: str, fmt: str, lang: str) -> tuple[bytes, str]:
    """(bytes, file name) of one export of ``report``."""
    stem = f"orderboard-{report.label.replace('..', '_')}"
    if item == "report":
        if fmt == "pdf":
            from dashboard.report.pdf import report_pdf

            return report_pdf(report, lang), f"{stem}-review.pdf"
        from dashboard.report.xlsx import report_workbook

        return report_workbook(report, lang), f"{stem}-review.xlsx"
    if item in CHART_IDS:
        return figure_bytes(review_figure(report, item, lang, "light"), fmt), f"{stem}-{item}.{fmt}"
    if item in TABLE_IDS:
        frame = table_frame(report, item, lang)
        return (table_bytes(frame, fmt, report.timezone, sheet=item, formats=table_formats(report, item, lang)),
                f"{stem}-{item}.{fmt}")
    raise ValueError(f"unknown export {item!r}")


def download(report: WeeklyReport, item: str, fmt: str, lang: str) -> tuple:
    """(download, error text, error hidden) for one export button: the file, or the reason
    it cannot be made in the page's error line."""
    try:
        data, name = export_file(report, item, fmt, lang)
    except ExportError as exc:
        return no_update, word("review", "export_failed", lang, error=exc), False
    return dcc.send_bytes(data, name), no_update, no_update


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output(SELECTION, "data"),
        Output("url", "search", allow_duplicate=True),
        Input(WEEK, "value"), Input(RANGE, "start_date"), Input(RANGE, "end_date"),
        State(SELECTION, "data"),
        prevent_initial_call=True,
    )
    def _navigate(week, start, end, selection):
        trigger = callback_context.triggered_id
        return navigate(week, start, end, _selection(selection), trigger, ctx.settings.timezone)

    @app.callback(
        Output(BODY, "children"), Output(PERIOD, "children"),
        Output(ERROR, "children"), Output(ERROR, "hidden"),
        Input(SELECTION, "data"),
    )
    def _render(selection):
        return render(ctx, _selection(selection))

    @app.callback(
        Output(DOWNLOAD, "data"),
        Output(ERROR, "children", allow_duplicate=True), Output(ERROR, "hidden", allow_duplicate=True),
        Input({"type": EXPORT, "item": ALL, "fmt": ALL}, "n_clicks"),
        State(SELECTION, "data"),
        prevent_initial_call=True,
    )
    def _download(clicks, selection):
        trigger = callback_context.triggered_id
        fired = callback_context.triggered[0]["value"] if callback_context.triggered else None
        if not trigger or not fired:
            raise PreventUpdate  # buttons that just appeared, not a click
        actor = require("export").name
        selection = _selection(selection)
        item, fmt = trigger.get("item"), trigger.get("fmt")
        if item not in (*TABLE_IDS, *CHART_IDS, "report") or fmt not in FORMATS:
            raise bad_request("unknown export")
        try:
            report = load_report(ctx, selection)
        except (ValueError, TypeError, KeyError) as exc:  # a forged selection: no such period
            raise bad_request(f"no review for this selection: {exc}") from None
        result = download(report, item, fmt, selection.get("lang") or "zh")
        record_audit(ctx.engine, actor, "export", f"/review?week={report.label}", f"{item}, {fmt}")
        return result


def _selection(selection: object) -> dict:
    """The page's selection store as sent by the browser: an object, else a 400."""
    if selection is None:
        return {}
    if not isinstance(selection, dict):
        raise bad_request("the selection must be an object")
    return selection


__all__ = ["download", "export_file", "load_report", "navigate", "no_update", "register", "render"]

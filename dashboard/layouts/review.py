"""The weekly review page (``/review``): a period against the previous one, light theme.

The URL holds the state: ``?week=2026-W46`` or ``?from=2026-11-02&to=2026-11-15``, and
``?lang=en|zh`` for the page's language (default: the ``lang`` setting). No parameters means last
week in the store's time zone. ``layout`` builds the frame and the selection (it never
queries the store); ``review_body`` turns a ``WeeklyReport`` into components.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard import words
from dashboard.components.kpi import review_card
from dashboard.components.page import html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.export import CHART_FORMATS, TABLE_FORMATS
from dashboard.limits import MAX_REVIEW_DAYS, check_range
from dashboard.report.charts import CHARTS, review_figure
from dashboard.report.tables import TABLES, table_text
from dashboard.report.text import empty_note, period_text, previous_text, word
from dashboard.url_state import href, lang_state, order_href, read, review_search
from dashboard.words import LANGS
from datasource.settings import DEFAULT_LANG
from metrics.review import WeeklyReport, last_week
from metrics.window import Window

WEEK = "review-week"
RANGE = "review-range"
SELECTION = "review-selection"
PERIOD = "review-period"
BODY = "review-body"
ERROR = "review-error"
DOWNLOAD = "review-download"
EXPORT = "review-export"  # pattern-matching id type: {"type": EXPORT, "item": ..., "fmt": ...}
WEEKS_OFFERED = 26


def recent_weeks(now: datetime, tz: str, count: int = WEEKS_OFFERED) -> list[str]:
    """ISO weeks from last week back, newest first."""
    day = now.astimezone(ZoneInfo(tz)).date()
    weeks = []
    for back in range(1, count + 1):
        year, week, _ = (day - timedelta(days=7 * back)).isocalendar()
        weeks.append(f"{year}-W{week:02d}")
    return weeks


def selection_from(params: dict[str, str], now: datetime, tz: str,
                   default_lang: str = LANGS[0]) -> dict[str, str | None]:
    """The page's selection from the query: a valid week, or a valid date range, else last
    week (with ``error`` saying what was ignored); the query's language, else ``default_lang``."""
    lang = read("lang", params) or default_lang
    first, last = params.get("from"), params.get("to")
    error = None
    if first and last:
        try:
            selection_window({"from": first, "to": last}, tz)
            return {"week": None, "from": first, "to": last, "lang": lang, "error": None}
        except ValueError as exc:
            error = f"{first}..{last}: {exc}"
    week = read("week", params)
    if week:
        try:
            Window.iso_week(week, tz)
            return {"week": week.upper(), "from": None, "to": None, "lang": lang, "error": None}
        except ValueError as exc:
            error = str(exc)
    return {"week": last_week(now, tz), "from": None, "to": None, "lang": lang, "error": error}


def selection_window(selection: dict, tz: str) -> Window:
    """The window of a selection; ValueError for a bad one, ``RangeTooLong`` for a range
    longer than ``MAX_REVIEW_DAYS`` (the command line writes those)."""
    if selection.get("from") and selection.get("to"):
        first, last = date.fromisoformat(selection["from"]), date.fromisoformat(selection["to"])
        check_range(first, last, MAX_REVIEW_DAYS, "orderboard report --from --to")
        return Window.between_dates(first, last, tz)
    return Window.iso_week(selection["week"], tz)


def query_of(selection: dict) -> str:
    """The URL query of a selection (the inverse of ``selection_from``)."""
    return review_search(selection.get("week"), selection.get("from"), selection.get("to"),
                         selection.get("lang") or DEFAULT_LANG)


def _buttons(item: str, formats: tuple[str, ...], lang: str) -> html.Div:
    return html.Div(className="ob-review-exports", children=[
        html.Button(fmt.upper(), id={"type": EXPORT, "item": item, "fmt": fmt},
                    className="ob-review-button",
                    title=words.word("review", "download", lang, item=item, fmt=fmt.upper()))
        for fmt in formats
    ])


def layout(ctx: AppContext, **params: str) -> html.Div:
    now = ctx.moment()
    selection = selection_from(params, now, ctx.settings.timezone, ctx.settings.lang)
    lang = selection["lang"]
    weeks = recent_weeks(now, ctx.settings.timezone)
    if selection["week"] and selection["week"] not in weeks:
        weeks = [selection["week"], *weeks]
    requested = lang_state(params)
    return html.Div(className="ob-page ob-review", lang=html_lang(lang), children=[
        html.Header(className="ob-review-header", children=[
            html.Div(children=[
                dcc.Link(words.word("common", "back_overview", lang), href=href("/", requested), className="ob-back"),
                html.H1(word("page_title", lang)),
                html.Div(id=PERIOD, className="ob-review-period"),
            ]),
            html.Div(className="ob-review-controls", children=[
                html.Label([word("week", lang), dcc.Dropdown(
                    id=WEEK, options=[{"label": w, "value": w} for w in weeks],
                    value=selection["week"], clearable=False, className="ob-review-week")]),
                html.Label([word("dates", lang), dcc.DatePickerRange(
                    id=RANGE, start_date=selection["from"], end_date=selection["to"],
                    display_format="YYYY-MM-DD", first_day_of_week=1, minimum_nights=0)]),
                html.Div(className="ob-review-report", children=[
                    html.Span(word("report", lang)),
                    _buttons("report", ("pdf", "xlsx"), lang),
                ]),
                lang_switch("/review", query_of(selection), lang),
            ]),
        ]),
        html.Div(selection["error"] or "", id=ERROR, className="ob-review-error",
                 hidden=not selection["error"]),
        dcc.Store(id=SELECTION, data=selection),
        dcc.Loading(html.Div(id=BODY, className="ob-review-body"), type="dot"),
        dcc.Download(id=DOWNLOAD),
    ])


# -- the body -------------------------------------------------------------------------


def _table(report: WeeklyReport, table_id: str, lang: str) -> html.Table | html.P:
    headers, rows = table_text(report, table_id, lang)
    if not rows:
        return html.P("—", className="ob-review-empty")
    body = []
    for row in rows:
        cells = [html.Td(v) for v in row]
        if table_id == "late_orders":
            cells[0] = html.Td(dcc.Link(row[0], href=order_href(row[0]), className="ob-order-link"))
        body.append(html.Tr(cells))
    return html.Table(className=f"ob-review-table ob-review-table--{table_id}", children=[
        html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body),
    ])


def review_body(report: WeeklyReport, lang: str) -> list:
    """The page below the controls: note, KPI cards, charts and tables, each exportable."""
    out: list = []
    note = empty_note(report, lang)
    if note:
        out.append(html.Div(note, className="ob-review-note", id="review-note"))
    out.append(html.Section(className="ob-review-kpis", children=[review_card(k, lang) for k in report.kpis]))
    charts = []
    for spec in CHARTS:
        charts.append(html.Section(className="ob-review-card", id=f"review-chart-{spec.id}", children=[
            html.Div(className="ob-review-card-head", children=[
                html.H2(spec.title(lang)), _buttons(spec.id, CHART_FORMATS, lang)]),
            dcc.Graph(figure=review_figure(report, spec.id, lang, "light"),
                      config={"displaylogo": False, "responsive": True},
                      className="ob-review-graph", style={"height": "26rem"}),
        ]))
    out.append(html.Div(className="ob-review-charts", children=charts))
    for spec in TABLES:
        out.append(html.Section(className="ob-review-card", id=f"review-table-{spec.id}", children=[
            html.Div(className="ob-review-card-head", children=[
                html.H2(spec.title(lang)), _buttons(spec.id, TABLE_FORMATS, lang)]),
            _table(report, spec.id, lang),
        ]))
    return out


def period_line(report: WeeklyReport, lang: str) -> str:
    compared = word("compared", lang)
    return f"{period_text(report)} · {compared} {previous_text(report)} · {report.timezone}"


__all__ = [
    "layout",
    "period_line",
    "query_of",
    "review_body",
    "selection_from",
    "selection_window",
    "word",
]

"""The alerts page ``/alerts``: firing, acknowledged and resolved alerts, who was told
and when, who acknowledged, the response times, and the silences in force (DESIGN.md
section 5a). One language: ``?lang=``, else the ``lang`` setting.

``layout`` builds the frame (no store access); ``dashboard.callbacks.alerts`` fills the
grid from ``datasource.alert_store.alert_list`` and the silences from
``datasource.alert_silences.active_silences``, and acknowledges the selected alerts.
``alert_rows``, ``counts_view`` and ``silences_view`` turn data into rows and components
(pure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

import dash_ag_grid as dag  # at import: Dash must know the component library before callbacks run
import pandas as pd
from dash import dcc, html

from dashboard.alert_text import said, severity_word, stage_namer, status_word, subject, whose
from dashboard.components.page import html_lang, lang_switch
from dashboard.context import AppContext
from dashboard.formatting import MISSING, duration, is_missing
from dashboard.url_state import href, lang_state
from dashboard.words import word
from datasource.pipeline import Pipeline
from metrics.catalog import Catalog

GRID = "alerts-grid"
STATES = "alerts-states"
ACK = "alerts-ack"
ACK_BY = "alerts-ack-by"
NOTE = "alerts-note"
REFRESH = "alerts-refresh"
COUNTS = "alerts-counts"
SILENCES = "alerts-silences"
LANG = "alerts-lang"
TIME_FMT = "%Y-%m-%d %H:%M"
STATES_SHOWN = ("firing", "acknowledged", "resolved")
COLUMNS = (
    ("status", 110), ("severity", 90), ("rule", 110), ("what", 180), ("summary", 260), ("whose", 140),
    ("fired_at", 140), ("told", 220), ("told_at", 140), ("acknowledged", 170), ("ack_after", 110),
    ("resolved_at", 140), ("resolved_after", 100),
)
# AG Grid's own words on a Chinese page (its defaults are English).
GRID_WORDS_ZH = {"page": "第", "of": "/", "to": "至", "more": "更多", "noRowsToShow": "没有预警",
                 "firstPage": "首页", "previousPage": "上一页", "nextPage": "下一页", "lastPage": "末页",
                 "pageSizeSelectorLabel": "每页", "ariaChecked": "已选", "ariaUnchecked": "未选"}


def _w(key: str, lang: str, **values: object) -> str:
    return word("alerts", key, lang, **values)


def layout(ctx: AppContext, **params: str) -> html.Div:
    requested = params.get("lang")
    lang = ctx.page_lang(requested)
    scope = lang_state(params)  # links keep the URL's language
    search = f"?lang={scope.lang}" if scope.lang else ""
    return html.Div(className="ob-page ob-manager ob-alerts-page", lang=html_lang(lang), children=[
        html.Header(className="ob-mheader", children=[
            dcc.Link(word("common", "back_overview", lang), href=href("/", scope), className="ob-back"),
            html.H1(_w("page_title", lang), className="ob-mtitle"),
            dcc.Checklist(id=STATES, options=[{"label": status_word(s, lang), "value": s} for s in STATES_SHOWN],
                          value=list(STATES_SHOWN), inline=True, className="ob-alert-states"),
            dcc.Input(id=ACK_BY, placeholder=_w("your_name", lang), debounce=True, className="ob-input"),
            html.Button(_w("ack_selected", lang), id=ACK, n_clicks=0, className="ob-button"),
            lang_switch("/alerts", search, lang),
        ]),
        dcc.Store(id=LANG, data=lang),
        html.Div(id=COUNTS, className="ob-alert-counts"),
        html.Div(id=NOTE, className="ob-alert-note"),
        dcc.Interval(id=REFRESH, interval=30_000),
        dag.AgGrid(
            id=GRID,
            columnDefs=[{"field": f, "headerName": _w(f"col_{f}", lang), "minWidth": width, "tooltipField": f}
                        for f, width in COLUMNS],
            rowData=[],
            getRowId="params.data.id",
            defaultColDef={"resizable": True, "sortable": True, "filter": True, "flex": 1,
                           "wrapHeaderText": True, "autoHeaderHeight": True},
            dashGridOptions={"rowSelection": {"mode": "multiRow"}, "pagination": True,
                             "paginationPageSize": 100, "animateRows": False,
                             **({"localeText": GRID_WORDS_ZH} if lang == "zh" else {})},
            className="ob-grid",
            style={"height": "60vh", "width": "100%"},
        ),
        html.Section(className="ob-alert-silences", children=[
            html.H2(_w("silences_title", lang)),
            html.Div(id=SILENCES),
        ]),
    ])


def when(value, tz: ZoneInfo) -> str:
    return MISSING if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime(TIME_FMT)


def alert_rows(frame: pd.DataFrame, tz: ZoneInfo, lang: str, pipeline: Pipeline, catalog: Catalog) -> list[dict]:
    """Grid rows of ``alert_store.alert_list`` (times in ``tz``, words in ``lang``)."""
    rows = []
    for r in frame.itertuples():
        rows.append({
            "id": str(r.id), "status": status_word(r.status, lang), "severity": severity_word(r.severity, lang),
            "rule": r.rule, "what": subject(r.labels, r.rule_kind, lang, stage_namer(pipeline, lang), catalog),
            "summary": said(r.rule_kind, r.labels, r.value, r.summary, lang, pipeline, catalog),
            "whose": whose(r.labels), "fired_at": when(r.fired_at, tz), "told": r.told or MISSING,
            "told_at": when(r.told_at, tz),
            "acknowledged": (f"{r.acknowledged_by} {when(r.acknowledged_at, tz)}"
                             if not is_missing(r.acknowledged_at) else MISSING),
            "ack_after": duration(r.ack_after_h, lang), "resolved_at": when(r.resolved_at, tz),
            "resolved_after": duration(r.resolved_after_h, lang),
        })
    return rows


def counts_view(frame: pd.DataFrame, lang: str) -> list:
    counts = frame["status"].value_counts() if len(frame) else pd.Series(dtype=int)
    return [html.Span(_w("count", lang, label=status_word(s, lang), n=int(counts.get(s, 0))),
                      className=f"ob-alert-count ob-{s}", **{"data-status": s}) for s in STATES_SHOWN]


def silences_view(silences: Sequence[Mapping], tz: ZoneInfo, lang: str) -> html.Div | html.Table:
    """The silences in force: id, matchers, until when, who set them, why."""
    if not silences:
        return html.P(_w("no_silences", lang), className="ob-alert-empty")
    head = html.Tr([html.Th(_w(k, lang)) for k in ("silence_id", "silence_matches", "silence_until",
                                                  "silence_by", "silence_why")])
    body = [html.Tr(**{"data-silence": str(s["id"])}, children=[
        html.Td(str(s["id"])),
        html.Td(" ".join(f"{k}={v}" for k, v in sorted(s["matchers"].items()))),
        html.Td(when(s["ends_at"], tz)),
        html.Td(s["created_by"]),
        html.Td(s["comment"] or MISSING),
    ]) for s in silences]
    return html.Table([html.Thead(head), html.Tbody(body)], className="ob-table ob-alert-silence-table")

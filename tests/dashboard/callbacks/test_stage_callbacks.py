"""The stage list without a browser: the count behind every tile and stage card equals
the number shown (both backends), sort/search/filters/paging, exports, URL sync."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import pandas as pd
import pytest
from dash import no_update
from openpyxl import load_workbook
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.callbacks import stage as cb
from dashboard.callbacks.overview import summary_for
from dashboard.layouts import overview as ov
from dashboard.layouts import stage as ui
from dashboard.limits import MAX_GRID_BLOCK_ROWS
from dashboard.url_state import parse
from datasource.demo import generate, seed_store
from datasource.schema import AuditEntry
from datasource.settings import Settings
from metrics.drilldown import orders_behind
from metrics.summary import compute_summary
from metrics.window import Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def make_ctx(store, tmp_path):
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    ctx = create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: END  # "now" of every list and summary
    return ctx


@pytest.fixture
def demo(store, tmp_path):
    seed_store(store.engine, store.pipeline, generate(seed=4, n_orders=700, end=END))
    return make_ctx(store, tmp_path)


@pytest.fixture
def sqlite_demo(sqlite_store, tmp_path):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=700, end=END))
    return make_ctx(sqlite_store, tmp_path)


def rows_behind(ctx, link: str, **request) -> dict:
    parts = urlsplit(link)
    return blocks(ctx, parts.path, "?" + parts.query, {"startRow": 0, "endRow": 50, **request})


def blocks(ctx, path: str, search: str, request: dict) -> dict:
    """Rows startRow..endRow of a list, asked for in blocks no larger than a grid may ask
    for (``MAX_GRID_BLOCK_ROWS``)."""
    start, end = request["startRow"], request["endRow"]
    rows, count = [], 0
    while start < end:
        stop = min(end, start + MAX_GRID_BLOCK_ROWS)
        got = cb.get_rows(ctx, path, search, {**request, "startRow": start, "endRow": stop}, now=END)
        rows, count = rows + got["rowData"], got["rowCount"]
        if stop >= count:
            break
        start = stop
    return {"rowData": rows, "rowCount": count}


def _count(component) -> int:
    return int(component.to_plotly_json()["props"]["data-count"])


def _link(component) -> str:
    return component.children.href


@pytest.mark.parametrize("query", ["", "?days=30&line=Line+A", "?from=2026-11-02&to=2026-11-08&channel=online"])
def test_count_behind_every_tile_equals_the_tile(demo, query):
    state = parse(query)
    summary = summary_for(demo, state, END).value
    expected = {
        "orders_placed_today": summary.placed_today, "wip": summary.wip,
        "delay_rate": summary.delay.late, "cycle_time_median": summary.cycle_time.count,
        "overdue_now": summary.delay.overdue_now, "at_risk": summary.delay.at_risk,
        "open_exceptions": summary.exceptions.open_now,
    }
    tiles = ov.kpi_view(summary, state)
    assert [t.id.removeprefix("ov-kpi-") for t in tiles] == list(expected)
    for tile in tiles:
        metric = tile.id.removeprefix("ov-kpi-")
        assert _count(tile) == expected[metric], metric
        assert rows_behind(demo, _link(tile))["rowCount"] == expected[metric], metric
    assert sum(expected.values()) > 0


def test_count_behind_every_stage_card_equals_the_card(demo):
    state = parse("?days=30")
    summary = summary_for(demo, state, END).value
    table = summary.stages.set_index("code")
    checked = 0
    for card in ov.flow_view(summary, state):
        code = card.id.removeprefix("ov-stage-")
        wip, _meta, links = card.children[1], card.children[2], card.children[3].children
        assert _count(wip) == table.loc[code, "wip"]
        assert rows_behind(demo, wip.children.href)["rowCount"] == table.loc[code, "wip"], code
        for link in links:
            view = link.id.rsplit("-", 1)[1]
            column = {"breached": "open_breaches_now", "delayed": "delayed_orders", "breaches": "breaches"}[view]
            assert _count(link) == table.loc[code, column], (code, view)
            assert rows_behind(demo, link.children.href)["rowCount"] == table.loc[code, column], (code, view)
            checked += table.loc[code, column]
    assert checked > 0 and table["wip"].sum() == summary.wip


def test_wall_link_shapes(sqlite_demo):
    ctx = sqlite_demo
    window = Window.last_days(7, END, ctx.settings.timezone)
    s = compute_summary(ctx.engine, ctx.settings.pipeline, window, None, END)
    produced = s.stages.set_index("code").loc["produced", "wip"]
    assert rows_behind(ctx, "/stages/produced")["rowCount"] == produced
    assert rows_behind(ctx, "/stages/produced?line=Line+A")["rowCount"] == len(orders_behind(
        ctx.engine, ctx.settings.pipeline, "stage_wip", window, parse("?line=Line+A").filters(), END, "produced"))
    assert rows_behind(ctx, "/stages/all?metric=delay_rate")["rowCount"] == s.delay.late
    # a stage with a metric: the stage's own view of it
    assert rows_behind(ctx, "/stages/produced?metric=overdue_now")["rowCount"] == len(orders_behind(
        ctx.engine, ctx.settings.pipeline, "overdue_now", window, None, END, "produced"))


def _spec(spec: ui.ListSpec) -> tuple:
    return spec.what, spec.stage, spec.choice


def test_list_spec():
    from datasource.pipeline import default_pipeline

    p = default_pipeline()
    assert _spec(ui.list_spec("produced", parse(""), p))[:3] == ("stage_wip", "produced", "wip")
    assert _spec(ui.list_spec("produced", parse("?view=breached"), p))[:3] == ("stage_open_breaches", "produced", "breached")
    assert _spec(ui.list_spec("produced", parse("?metric=sla_breach_rate"), p))[:2] == ("stage_breaches", "produced")
    assert _spec(ui.list_spec("produced", parse("?metric=delay_rate"), p))[:2] == ("late", None)
    assert _spec(ui.list_spec("all", parse("?metric=cycle_time_p90"), p))[:2] == ("completed", None)
    assert _spec(ui.list_spec("all", parse("?metric=nonsense"), p))[:2] == ("wip", None)
    with pytest.raises(ui.UnknownStage):
        ui.list_spec("nowhere", parse("?view=wip"), p)


def test_sort_search_filter_and_pages(sqlite_demo):
    ctx = sqlite_demo
    link = "/stages/all?metric=cycle_time_median&days=30"
    everything = rows_behind(ctx, link, endRow=1000)
    total = everything["rowCount"]
    assert total == len(everything["rowData"]) > 100
    by_owner = [{"colId": "owner", "sort": "desc"}]
    latest = rows_behind(ctx, link, endRow=1000, sortModel=by_owner)
    owners = [r["owner"] for r in latest["rowData"]]
    assert owners == sorted(owners, reverse=True)
    # pages are slices of the sorted list (ties broken by order number)
    second = rows_behind(ctx, link, startRow=50, endRow=100, sortModel=by_owner)
    assert [r["order_number"] for r in second["rowData"]] == [r["order_number"] for r in latest["rowData"][50:100]]
    customer = everything["rowData"][0]["customer"]
    needle = customer[1:3]
    searched = rows_behind(ctx, link + "&q=" + needle, endRow=1000)
    expected = [r for r in everything["rowData"]
                if any(needle.lower() in (r[c] or "").lower() for c in ("order_number", "customer", "owner"))]
    assert searched["rowCount"] == len(expected) > 0
    filtered = rows_behind(ctx, link, endRow=1000,
                           filterModel={"customer": {"filterType": "text", "type": "contains", "filter": needle}})
    assert filtered["rowCount"] == sum(needle in r["customer"] for r in everything["rowData"])
    wip = rows_behind(ctx, "/stages/all?metric=wip", endRow=1000,
                      sortModel=[{"colId": "time_in_stage_h", "sort": "desc"}])["rowData"]
    ages = [r["time_in_stage_h"] for r in wip]
    assert len(ages) > 10 and ages == sorted(ages, reverse=True)


def test_at_risk_search_matches_sql_search(sqlite_demo):
    ctx = sqlite_demo
    risky = rows_behind(ctx, "/stages/all?metric=at_risk&days=30", endRow=1000)["rowData"]
    assert risky
    owner = risky[0]["owner"]
    searched = rows_behind(ctx, f"/stages/all?metric=at_risk&days=30&q={owner}", endRow=1000)
    assert searched["rowCount"] == sum(owner in (r["owner"], r["customer"], r["order_number"]) or
                                       owner.lower() in r["customer"].lower() for r in risky)


def test_export_is_the_whole_list_as_shown_and_is_audited(sqlite_demo):
    ctx = sqlite_demo
    search = "?days=30&metric=wip&sort=-time_in_stage_h"  # canonical order
    shown = blocks(ctx, "/stages/all", search,
                   {"startRow": 0, "endRow": 10_000, "sortModel": [{"colId": "time_in_stage_h", "sort": "desc"}]})
    csv = cb.export_list(ctx, "/stages/all", search, "csv", now=END)
    frame = pd.read_csv(io.BytesIO(csv["content"] if isinstance(csv["content"], bytes)
                                   else __import__("base64").b64decode(csv["content"])), encoding="utf-8-sig")
    assert len(frame) == shown["rowCount"]
    assert frame["订单"].tolist() == [r["order_number"] for r in shown["rowData"]]
    assert frame["进入环节"].iloc[0] == shown["rowData"][0]["entered_at"]  # local time, no zone
    xlsx = cb.export_list(ctx, "/stages/all", search, "xlsx", now=END)
    content = __import__("base64").b64decode(xlsx["content"])
    sheet = load_workbook(io.BytesIO(content)).active
    values = list(sheet.values)
    assert len(values) == shown["rowCount"] + 1
    entered = values[1][values[0].index("进入环节")]
    assert isinstance(entered, datetime) and entered.tzinfo is None
    assert entered.strftime("%Y-%m-%d %H:%M") == shown["rowData"][0]["entered_at"]
    with ctx.engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
                             .where(AuditEntry.action == "export")).all()
    assert [(a.actor, a.action, a.target) for a in audit] == [
        ("local", "export", "/stages/all" + search)] * 2
    assert audit[0].detail.startswith(f"csv, {shown['rowCount']} of {shown['rowCount']} rows")


def test_request_state_and_url_sync():
    from datasource.pipeline import default_pipeline

    p = default_pipeline()
    request = {"startRow": 100, "endRow": 150, "sortModel": [{"colId": "owner", "sort": "desc"}],
               "filterModel": {"customer": {"filterType": "text", "type": "contains", "filter": " acme "}}}
    state = cb.state_from_request(parse("?view=wip"), request)
    assert (state.sort, state.column_filters, state.page) == ("-owner", (("customer", "acme"),), 3)
    grid_id = {"type": ui.GRID, "key": "k"}
    assert cb.sync_search(p, "/stages/paid", "?view=wip", "wip", "", [request], grid_id) == \
        "?view=wip&sort=-owner&f.customer=acme&page=3"
    # the selector set by the URL itself changes nothing (no reset of sort or page)
    assert cb.sync_search(p, "/stages/paid", "?sort=owner&page=2", "wip", "", [None], ui.LIST) is no_update
    assert cb.sync_search(p, "/stages/paid", "?sort=owner&page=2", "breached", "", [None], ui.LIST) == "?view=breached"
    assert cb.sync_search(p, "/stages/all", "?metric=wip&page=4", "wip", " SO1 ", [None], ui.SEARCH) == \
        "?metric=wip&q=SO1"
    assert cb.sync_search(p, "/stages/all", "?metric=wip", "at_risk", "", [None], ui.LIST) == "?metric=at_risk"


def test_grid_is_kept_when_the_url_follows_it(sqlite_demo):
    ctx = sqlite_demo
    first = cb.render_body(ctx, "/stages/produced", "?view=wip", None, None, now=END)
    grid, keys = first[0], first[1]
    assert grid.id == {"type": ui.GRID, "key": keys["key"]} and first[4].startswith("共 ")
    request = {"startRow": 0, "endRow": 50, "sortModel": [{"colId": "owner", "sort": "asc"}], "filterModel": {}}
    # the manager sorted in the grid, the URL followed: same grid
    again = cb.render_body(ctx, "/stages/produced", "?view=wip&sort=owner", keys, request, now=END)
    assert again[0] is no_update
    # back button to the unsorted URL: a new grid with the URL's sort
    back = cb.render_body(ctx, "/stages/produced", "?view=wip", keys, request, now=END)
    assert back[0] is not no_update and all("sort" not in c for c in back[0].columnDefs)
    # another list: a new grid
    other = cb.render_body(ctx, "/stages/produced", "?view=breached", keys, request, now=END)
    assert other[0] is not no_update and other[1]["base"] != keys["base"]


def test_sortable_columns_resolve_for_every_list(sqlite_demo):
    ctx = sqlite_demo
    for what in {*ui.METRIC_LISTS.values(), *ui.STAGE_VIEWS.values()}:
        stage = "produced" if what.startswith("stage_") else None
        spec = ui.ListSpec(what, stage, "x", "", "")
        for column in ui.sort_names(what):
            for sign in ("", "-"):
                state = parse(f"?days=30&sort={sign}{column}")
                frame, total = cb.fetch(ctx, spec, state, 0, 5, END)
                assert list(frame.columns) == ui.column_ids(what), what
                assert total >= len(frame)


def test_order_numbers_are_encoded_links_in_every_row(sqlite_demo):
    rows = rows_behind(sqlite_demo, "/stages/all?metric=wip&days=30")["rowData"]
    assert rows and all(r["order_href"] == "/orders/" + quote(r["order_number"], safe="") for r in rows)
    defs = {d["colId"]: d for d in ui.column_defs("wip", parse(""))}
    assert defs["order_number"]["cellRenderer"] == "OrderLink"   # assets/dashAgGridComponentFunctions.js
    # the grid-only fields are not exported
    assert "order_href" not in cb.fetch(sqlite_demo, ui.list_spec("all", parse("?metric=wip"), sqlite_demo.settings.pipeline),
                                        parse("?metric=wip"), 0, 5, END)[0].columns


def test_only_late_orders_have_hours_late(sqlite_demo):
    for link in ("/stages/all?metric=wip&days=30", "/stages/all?metric=cycle_time_median&days=30"):
        rows = rows_behind(sqlite_demo, link, endRow=1000)["rowData"]
        late = [r["hours_late"] for r in rows if r["hours_late"] is not None]
        assert late and all(h > 0 for h in late), link
        assert any(r["hours_late"] is None for r in rows), link   # orders before their deadline: blank
    promised = [r for r in rows if r["promised_at"] is not None]
    assert promised and all(r["promised_at"].endswith("23:59") for r in promised)   # demo: end of day


def test_rows_over_sla_are_flagged_for_the_highlight(sqlite_demo):
    rows = rows_behind(sqlite_demo, "/stages/produced?view=wip&days=30", endRow=1000)["rowData"]
    over = [r for r in rows if r["over_sla"]]
    assert over and len(over) < len(rows)
    assert all((r["time_in_stage_h"] > r["sla_h"]) == r["over_sla"] for r in rows)
    grid = ui.grid("k", "stage_wip", parse(""))
    assert grid.dashGridOptions["rowClassRules"] == {"ob-row--over-sla": "params.data && params.data.over_sla"}
    delayed = rows_behind(sqlite_demo, "/stages/produced?view=delayed&days=30", endRow=1000)["rowData"]
    assert delayed and all(r["over_sla"] == (r["contribution_h"] > 0) for r in delayed)


def test_headers_say_each_word_once_and_wrap_instead_of_being_cut():
    assert ui.header_name("sla_h") == "SLA (h)"
    assert ui.header_name("time_in_stage_h") == "环节用时 h"
    assert ui.header_name("time_in_stage_h", "en") == "Time in stage (h)"
    assert ui.header_name("open_exceptions", "en") == "Open exceptions"  # the catalog's label
    grid = ui.grid("k", "stage_wip", parse(""))
    assert grid.defaultColDef["wrapHeaderText"] and grid.defaultColDef["autoHeaderHeight"]


def test_xlsx_export_carries_number_formats(sqlite_demo):
    import base64

    xlsx = cb.export_list(sqlite_demo, "/stages/produced", "?view=wip&days=30", "xlsx", now=END)
    sheet = load_workbook(io.BytesIO(base64.b64decode(xlsx["content"]))).active
    header = [c.value for c in sheet[1]]
    row = {h: sheet.cell(row=2, column=i + 1) for i, h in enumerate(header)}
    assert row["环节用时 h"].number_format == "#,##0.0"
    assert row["SLA (h)"].number_format == "#,##0.0"
    assert row["未关闭异常"].number_format == "#,##0"
    assert row["进入环节"].is_date
    assert row["进入环节"].number_format == "yyyy-mm-dd hh:mm"
    english = cb.export_list(sqlite_demo, "/stages/produced", "?view=wip&days=30&lang=en", "xlsx", now=END)
    sheet = load_workbook(io.BytesIO(base64.b64decode(english["content"]))).active
    assert [c.value for c in sheet[1]][:5] == ["Order", "Customer", "Owner", "Stage", "Entered stage"]


def test_the_stage_list_states_the_stages_time_in_stage(sqlite_demo):
    # visits, mean, median, p90 and total of the stage over the window: the summary's row
    row = summary_for(sqlite_demo, parse("?days=30"), END).value.stages.set_index("code").loc["produced"]
    assert row["visits"] > 0
    scope = cb.render_body(sqlite_demo, "/stages/produced", "?days=30", None, None, now=END)[3]
    assert scope == (f"近30天 · {int(row['visits']):,} 次 · 平均 "
                     f"{row['mean_h']:,.1f} h · 中位 {row['median_h']:,.1f} h · P90 "
                     f"{row['p90_h']:,.1f} h · 合计 {row['total_h']:,.1f} h")
    english = cb.render_body(sqlite_demo, "/stages/produced", "?days=30&lang=en", None, None, now=END)[3]
    assert english == (f"last 30 days · {int(row['visits']):,} visits · mean "
                       f"{row['mean_h']:,.1f} h · median {row['median_h']:,.1f} h · P90 "
                       f"{row['p90_h']:,.1f} h · total {row['total_h']:,.1f} h")
    assert row["mean_h"] * row["visits"] == pytest.approx(row["total_h"])
    # a metric list (not a stage) has no stage figures
    assert cb.render_body(sqlite_demo, "/stages/all", "?metric=wip", None, None, now=END)[3] == \
        "近7天"

"""Row-level data scopes on every screen (DESIGN.md section 5a), SQLite and PostgreSQL.

A "Line A" manager and a salesperson (owner scope) read the same shared cache, in
turns, as the admin: every summary, list, export, review, wall and order page shows only
the orders of their scope. The independent check is the same computation with the scope
written as an explicit filter by the admin, and plain SQL for which orders a list may hold.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from dashboard import access
from dashboard.access import Principal
from dashboard.app import create_app
from dashboard.callbacks import order as order_cb
from dashboard.callbacks import overview as overview_cb
from dashboard.callbacks import review as review_cb
from dashboard.callbacks import stage as stage_cb
from dashboard.filter_check import filter_values
from dashboard.layouts import stage as stage_ui
from dashboard.layouts.review import selection_from
from dashboard.url_state import parse, parse_wall_settings
from dashboard.wall_frame import current_frame
from datasource.demo import generate, seed_store
from datasource.schema import Order
from datasource.scope import Scope, parse_scope_terms
from datasource.settings import Settings
from metrics.review import build_weekly_report
from metrics.summary import compute_summary
from metrics.window import Filters, Window

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def scoped(store, tmp_path):
    seed_store(store.engine, store.pipeline, generate(seed=4, n_orders=400, end=END))
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    ctx = create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: END
    with store.engine.connect() as conn:
        rows = conn.execute(select(Order.order_number, Order.production_line, Order.owner)).all()
    orders = pd.DataFrame(rows, columns=["order_number", "production_line", "owner"])
    line = sorted(orders["production_line"].dropna().unique())[0]
    owner = orders["owner"].value_counts().index[0]
    return ctx, orders, line, owner


def as_(principal: Principal):
    """Run the following calls as ``principal`` (the gate's job in a request)."""
    return access.set_current(principal)


def manager(line: str) -> Principal:
    return Principal("line-manager", "manager", parse_scope_terms([f"line={line}"]), "user", user_id=2)


def salesperson(owner: str) -> Principal:
    return Principal("sales", "viewer", parse_scope_terms([f"owner={owner}"]), "user", user_id=3)


ADMIN = Principal("boss", "admin", Scope.everything(), "user", user_id=1)
NOBODY = Principal("new", "viewer", Scope(), "user", user_id=4)


def test_summaries_equal_the_explicit_filter_and_the_cache_never_mixes_viewers(scoped):
    ctx, _, line, owner = scoped
    state = parse("?days=30")
    window = state.window(END, ctx.settings.timezone)
    expected = {
        "admin": compute_summary(ctx.engine, ctx.settings.pipeline, window, Filters(), END),
        "line": compute_summary(ctx.engine, ctx.settings.pipeline, window, Filters(production_line=line), END),
        "owner": compute_summary(ctx.engine, ctx.settings.pipeline, window, Filters(owner=owner), END),
    }
    assert expected["line"].wip < expected["admin"].wip and expected["owner"].wip < expected["admin"].wip
    viewers = {"admin": ADMIN, "line": manager(line), "owner": salesperson(owner)}
    for _round in range(2):  # the second round is served from the cache
        for name in ("admin", "line", "owner", "line", "admin", "owner"):
            token = as_(viewers[name])
            try:
                got = overview_cb.summary_for(ctx, state, END).value
            finally:
                access.reset(token)
            assert got.to_dict() == expected[name].to_dict(), name
    token = as_(NOBODY)
    try:
        assert overview_cb.summary_for(ctx, state, END).value.wip == 0
    finally:
        access.reset(token)


def test_breakdowns_and_filter_values_list_only_the_scope(scoped):
    ctx, orders, line, owner = scoped
    state = parse("?days=30")
    token = as_(manager(line))
    try:
        assert set(overview_cb.breakdown_for(ctx, state, "production_line", END)) <= {line}
        assert filter_values(ctx)["production_line"] == [line]
        # a filter outside the scope shows nothing, never that line's orders
        other = parse(f"?days=30&line={sorted(set(orders['production_line'].dropna()) - {line})[0]}")
        assert overview_cb.summary_for(ctx, other, END).value.wip == 0
    finally:
        access.reset(token)
    token = as_(salesperson(owner))
    try:
        assert filter_values(ctx)["owner"] == [owner]
    finally:
        access.reset(token)
    token = as_(ADMIN)
    try:
        assert len(filter_values(ctx)["production_line"]) == orders["production_line"].nunique()
    finally:
        access.reset(token)


def _listed(ctx, search: str) -> list[str]:
    state = parse(search)
    spec = stage_ui.list_spec("all", state, ctx.settings.pipeline)
    frame, total = stage_cb.fetch(ctx, spec, state, 0, None, END)
    assert len(frame) == total
    return frame["order_number"].tolist()


def test_stage_lists_and_exports_hold_only_the_scope(scoped):
    ctx, orders, line, owner = scoped
    in_line = set(orders.loc[orders["production_line"] == line, "order_number"])
    of_owner = set(orders.loc[orders["owner"] == owner, "order_number"])
    search = "?days=90&metric=wip"
    token = as_(ADMIN)
    try:
        everything = set(_listed(ctx, search))
    finally:
        access.reset(token)
    assert everything - in_line and everything & in_line
    token = as_(manager(line))
    try:
        listed = set(_listed(ctx, search))
        assert listed == everything & in_line
        sent = stage_cb.export_list(ctx, "/stages/all", search, "xlsx", now=END)
        sheet = load_workbook(io.BytesIO(base64.b64decode(sent["content"]))).active
        values = list(sheet.values)
        exported = {row[values[0].index(stage_ui.header_name("order_number", "zh"))] for row in values[1:]}
        assert exported == listed
    finally:
        access.reset(token)
    token = as_(salesperson(owner))
    try:
        assert set(_listed(ctx, search)) == everything & of_owner
        with pytest.raises(Forbidden):  # a viewer may not export
            stage_cb.export_list(ctx, "/stages/all", search, "csv", now=END)
    finally:
        access.reset(token)


def test_an_order_outside_the_scope_is_not_found(scoped):
    ctx, orders, line, _ = scoped
    inside = orders.loc[orders["production_line"] == line, "order_number"].iloc[0]
    outside = orders.loc[orders["production_line"] != line, "order_number"].iloc[0]
    token = as_(manager(line))
    try:
        hidden = str(order_cb.order_content(ctx, outside, now=END))
        assert hidden == str(order_cb.order_content(ctx, "NO-SUCH", now=END)).replace("NO-SUCH", outside)
        assert "ob-fact" not in hidden and "ob-fact" in str(order_cb.order_content(ctx, inside, now=END))
        assert order_cb.export_events(ctx, outside) is None
        assert order_cb.export_events(ctx, inside) is not None
    finally:
        access.reset(token)


def test_the_review_report_is_the_scope_s(scoped):
    ctx, _, line, _ = scoped
    selection = selection_from({}, END, ctx.settings.timezone)
    token = as_(manager(line))
    try:
        report = review_cb.load_report(ctx, selection)
    finally:
        access.reset(token)
    window = Window(report.window.start, report.window.end)
    direct = build_weekly_report(ctx.engine, ctx.settings.pipeline, window, report.now, Filters(production_line=line))
    assert report.summary.to_dict() == direct.summary.to_dict()
    assert report.late_orders.equals(direct.late_orders)


def test_walls_show_only_the_scope(scoped):
    ctx, orders, line, _ = scoped
    in_line = set(orders.loc[orders["production_line"] == line, "order_number"])
    config = parse_wall_settings({"views": "main"})
    from dashboard.wall_frame import compute_wall, wall_data

    token = as_(manager(line))
    try:
        data = wall_data(ctx, access.scoped(config.filters), END, 15)
        frame = current_frame(ctx, config, [], [], 1080, now=lambda: END)
        assert frame.value is not None
    finally:
        access.reset(token)
    direct = compute_wall(ctx.engine, ctx.settings.pipeline, Filters(production_line=line), END)
    assert data.summary.wip == direct.summary.wip
    assert set(data.overdue["order_number"]) <= in_line
    assert data.overdue_total == direct.overdue_total

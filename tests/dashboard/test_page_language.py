"""Every desktop page in one language: ``?lang=en`` shows no Chinese but the data's own
values, ``?lang=zh`` (the default) no English words but data values and units; the
language switch is the one place that names both languages."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import plotly.graph_objects as go
import pytest
from screens import demo_context
from sqlalchemy import text

from dashboard.app import render_page
from dashboard.callbacks import order as order_cb
from dashboard.callbacks import overview as overview_cb
from dashboard.callbacks import stage as stage_cb
from dashboard.pages import default_pages

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{3,}")
# English in a Chinese page that is not a word of the page: units, acronyms, the product's name
ALLOWED_IN_ZH = {"SLA", "OrderBoard", "Asia", "Shanghai", "CSV", "XLSX", "PDF", "log"}
TEXT_PROPS = ("title", "placeholder", "headerName", "headerTooltip", "aria-label")


def texts_of(value) -> list[str]:
    """The texts a reader meets in a component tree or a figure (the switch left out)."""
    if value is None or value is False or value is True:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in texts_of(v)]
    if isinstance(value, go.Figure):
        return figure_texts(value)
    if isinstance(value, dict):  # an option of a dropdown; other dicts are data, not text
        return [value["label"]] if isinstance(value.get("label"), str) else []
    if hasattr(value, "to_plotly_json"):
        props = value.to_plotly_json()["props"]
        if "ob-lang-switch" in str(props.get("className", "")):
            return []
        out = texts_of(props.get("children"))
        out += [props[p] for p in TEXT_PROPS if isinstance(props.get(p), str)]
        out += [o["label"] for o in props.get("options") or [] if isinstance(o, dict)]
        for col in props.get("columnDefs") or []:
            out += [col[p] for p in TEXT_PROPS if isinstance(col.get(p), str)]
        if isinstance(props.get("figure"), (go.Figure, dict)):
            out += figure_texts(go.Figure(props["figure"]))
        return out
    return []


def figure_texts(fig: go.Figure) -> list[str]:
    out = [a.text for a in fig.layout.annotations or [] if a.text]
    layout = fig.layout.to_plotly_json()
    for name in ("xaxis", "yaxis", "yaxis2", "yaxis3"):
        title = (layout.get(name) or {}).get("title") or {}
        if title.get("text"):
            out.append(title["text"])
    for trace in fig.data:
        if trace.name:
            out.append(trace.name)
        for part in (getattr(trace, "y", None), getattr(trace, "text", None)):
            if part is not None and not isinstance(part, str):
                out += [v for v in part if isinstance(v, str)]
    return out


@pytest.fixture
def ctx(sqlite_store, tmp_path):
    return demo_context(sqlite_store, tmp_path, 400, END)


@pytest.fixture
def data_values(ctx) -> list[str]:
    """Values the store holds (names, notes, codes such as a priority), shown as they are,
    and the catalog's metric descriptions (exact definitions, written once, in English)."""
    queries = ["SELECT customer, owner, channel, production_line, product_line, priority FROM orders",
               "SELECT operator, note FROM order_events", "SELECT owner, note, severity FROM exceptions"]
    values: set[str] = {m.description for m in ctx.catalog.values()}
    with ctx.engine.connect() as conn:
        for q in queries:
            for row in conn.execute(text(q)):
                values.update(str(v) for v in row if v)
    return sorted(values, key=len, reverse=True)


def without(texts: list[str], values: list[str]) -> list[str]:
    out = []
    for t in texts:
        for v in values:
            t = t.replace(v, "")
        out.append(t)
    return out


def check_english(texts: list[str], values: list[str]) -> None:
    chinese = [t for t in without(texts, values) if CJK.search(t)]
    assert chinese == []


def check_chinese(texts: list[str], values: list[str]) -> None:
    english = sorted({(w, t) for t in without(texts, values) for w in WORD.findall(t) if w not in ALLOWED_IN_ZH})
    assert english == []


def overview_texts(ctx, search: str) -> list[str]:
    layout = render_page(ctx, default_pages(), "/", search)
    return texts_of(layout) + texts_of(list(overview_cb.overview_view(ctx, search, now=END)))


def stage_texts(ctx, path: str, search: str) -> list[str]:
    layout = render_page(ctx, default_pages(), path, search)
    body = stage_cb.render_body(ctx, path, search, None, None, now=END)
    grid, title, scope, total, options = body[0], body[2], body[3], body[4], body[5]
    rows = stage_cb.get_rows(ctx, path, search, {"startRow": 0, "endRow": 50}, now=END)["rowData"]
    return (texts_of(layout) + texts_of([grid, title, scope, total, options])
            + [r["stage"] for r in rows if r.get("stage")])


def order_texts(ctx, number: str, lang: str | None) -> list[str]:
    search = f"?lang={lang}" if lang else ""
    layout = render_page(ctx, default_pages(), f"/orders/{number}", search)
    return texts_of(layout) + texts_of(order_cb.order_content(ctx, number, now=END, lang=lang))


def an_order_with_everything(ctx) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(text(
            "SELECT o.order_number FROM orders o JOIN exceptions x ON x.order_id = o.id "
            "WHERE o.status = 'completed' ORDER BY o.order_number LIMIT 1")).scalar_one()


def test_the_overview_speaks_one_language(ctx, data_values):
    english = overview_texts(ctx, "?days=30&stage=produced&lang=en")
    assert "Order fulfilment overview" in english and "Delay contribution by stage" in english
    check_english(english, data_values)
    chinese = overview_texts(ctx, "?days=30&stage=produced")
    assert "订单履约管理概览" in chinese
    check_chinese(chinese, data_values)


@pytest.mark.parametrize("path, search", [
    ("/stages/produced", "?days=30"), ("/stages/produced", "?days=30&view=delayed"),
    ("/stages/all", "?days=30&metric=open_exceptions"),
])
def test_the_stage_list_speaks_one_language(ctx, data_values, path, search):
    english = stage_texts(ctx, path, search + "&lang=en")
    check_english(english, data_values)
    assert "Order" in english and "Customer" in english
    chinese = stage_texts(ctx, path, search)
    check_chinese(chinese, data_values)
    assert "订单" in chinese


def test_the_order_page_speaks_one_language(ctx, data_values):
    number = an_order_with_everything(ctx)
    english = order_texts(ctx, number, "en")
    assert f"Order {number}" in english and "Stage timeline" in english
    check_english(english, data_values)
    chinese = order_texts(ctx, number, None)
    assert f"订单 {number}" in chinese
    check_chinese(chinese, data_values)


def test_the_not_found_pages_speak_one_language(ctx, data_values):
    english = texts_of(render_page(ctx, default_pages(), "/nowhere", "?lang=en"))
    assert english == ["404", "No page at /nowhere", "Back to the overview"]
    stage = texts_of(render_page(ctx, default_pages(), "/stages/nosuch", "?lang=en"))
    check_english(stage, data_values)
    assert "No stage “nosuch”" in stage[1]
    assert texts_of(render_page(ctx, default_pages(), "/nowhere", "")) == ["404", "没有这个页面：/nowhere", "返回概览"]


def test_the_default_language_comes_from_the_setting(ctx, data_values):
    english_ctx = replace(ctx, settings=replace(ctx.settings, lang="en"))
    check_english(overview_texts(english_ctx, "?days=30"), data_values)
    check_chinese(overview_texts(english_ctx, "?days=30&lang=zh"), data_values)  # the URL wins


def hrefs_of(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [h for v in value for h in hrefs_of(v)]
    if not hasattr(value, "to_plotly_json"):
        return []
    props = value.to_plotly_json()["props"]
    own = [props["href"]] if isinstance(props.get("href"), str) else []
    return own + hrefs_of(props.get("children"))


def test_every_desktop_page_has_the_switch_and_links_keep_the_language(ctx):
    number = an_order_with_everything(ctx)
    for path, search in (("/", "?days=30&line=Line+A&lang=en"), ("/stages/produced", "?view=wip&lang=en"),
                         (f"/orders/{number}", "?lang=en"), ("/review", "?week=2026-W46&lang=en")):
        found = hrefs_of(render_page(ctx, default_pages(), path, search))
        switch = [h for h in found if h.endswith("lang=zh")]
        assert len(switch) == 1, (path, found)  # the link to the other language
        assert all("lang=en" in h for h in found if h not in switch), (path, found)
    overview = hrefs_of(render_page(ctx, default_pages(), "/", "?days=30&line=Line+A&lang=en"))
    assert "/?days=30&line=Line+A&lang=zh" in overview
    tiles = hrefs_of(overview_cb.overview_view(ctx, "?days=30&lang=en", now=END)[0])
    assert "/stages/all?days=30&metric=wip&lang=en" in tiles

"""The order page without a browser: a hand-built order with rework, its Gantt, events
with operators, exceptions and the audit trail (exports recorded as "anonymous")."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from screens import texts as _texts

from dashboard.app import create_app
from dashboard.callbacks.order import export_events, order_content
from dashboard.figures.timeline import timeline_figure, visit_bars
from datasource.audit import record_audit
from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord, ingest
from datasource.order_detail import audit_trail, order_detail
from datasource.settings import Settings

T = datetime(2026, 11, 16, 0, 0, tzinfo=timezone.utc)  # 08:00 in Shanghai
NOW = T + timedelta(hours=200)


def at(h: float) -> datetime:
    return T + timedelta(hours=h)




@pytest.fixture
def ctx(store, tmp_path):
    path = [("placed", 0, "吴霞"), ("reviewed", 1, "孙丽"), ("paid", 3, "冯涛"), ("prepared", 4, "何斌"),
            ("produced", 10, "郭亮"), ("inspected", 100, "质检员甲"),
            ("produced", 104, "郭亮"),  # failed inspection: rework
            ("inspected", 120, "质检员乙")]
    events = [EventRecord("SO-1", code, "enter", at(h), operator=who) for code, h, who in path]
    events.append(EventRecord("SO-1", "inspected", "note", at(101), operator="质检员甲", note="焊缝不合格"))
    ingest(store.engine, store.pipeline,
           [OrderRecord("SO-1", customer="上海申江化工", owner="李娜", channel="direct",
                        production_line="Line A", promised_at=at(150)),
            OrderRecord("SO_2", customer="other")],
           events + [EventRecord("SO_2", "placed", "enter", at(5))],
           [ExceptionRecord("X1", "SO-1", "inspected", "quality_failure", at(101), acknowledged_at=at(102),
                            owner="质检员甲")],
           actor="test", target="fixture")
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    return create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]


def test_order_detail_reads_everything(ctx):
    d = order_detail(ctx.engine, "SO-1")
    assert d.order["customer"] == "上海申江化工" and d.order["status"] == "open"
    assert d.visits[["stage_code", "visit_no", "is_rework"]].values.tolist()[-3:] == [
        ["inspected", 1, False], ["produced", 2, True], ["inspected", 2, True]]
    assert d.events["operator"].tolist()[:2] == ["吴霞", "孙丽"]
    assert str(d.events["occurred_at"].dtype) == "datetime64[us, UTC]"
    assert d.exceptions["kind"].tolist() == ["quality_failure"]
    assert order_detail(ctx.engine, "nope") is None


def test_gantt_has_one_bar_per_visit_sla_markers_and_distinct_rework(ctx):
    d = order_detail(ctx.engine, "SO-1")
    bars = visit_bars(d.visits, ctx.settings.pipeline, NOW, ctx.settings.timezone)
    assert len(bars) == len(d.visits) == 8
    produced = bars.loc[bars["stage_code"] == "produced"]
    assert produced["hours"].tolist() == pytest.approx([90, 16])  # 10 -> 100, 104 -> 120
    assert produced["over_sla"].tolist() == [True, False]  # SLA 72 h
    assert bars["rework"].sum() == 2
    last = bars.iloc[-1]
    assert bool(last["open"]) and last["hours"] == pytest.approx(80)  # open: runs to now
    assert last["start"] == pd.Timestamp("2026-11-21 08:00")  # local, Asia/Shanghai
    fig = timeline_figure(d.visits, ctx.settings.pipeline, NOW, ctx.settings.timezone,
                          promised_at=d.order["promised_at"])
    names = [t.name for t in fig.data]
    assert names == ["SLA内", "超SLA", "返工", "SLA到期"]
    rework = fig.data[2]
    assert rework.marker.pattern.shape == "/" and len(rework.y) == 2
    assert sum(len(t.y) for t in fig.data[:3]) == 8 and len(fig.data[3].x) == 8
    assert len(fig.layout.shapes) == 2  # promised, now


def test_order_content_lists_events_exceptions_and_audit(ctx):
    texts = _texts(order_content(ctx, "SO-1", now=NOW))
    assert "郭亮" in texts and "焊缝不合格" in texts and "质检员甲" in texts
    assert "质量问题" in texts  # the kind quality_failure, in the page's language
    assert "没有审计记录" in texts
    assert "没有数据质量问题" in texts
    assert "没有订单 nope" in _texts(order_content(ctx, "nope", now=NOW))
    english = _texts(order_content(ctx, "SO-1", now=NOW, lang="en"))
    assert "Quality failure" in english and "No audit entries" in english and "Events" in english
    assert "No order nope" in _texts(order_content(ctx, "nope", now=NOW, lang="en"))


def test_export_is_recorded_and_shown_in_the_audit_trail(ctx):
    sent = export_events(ctx, "SO-1")
    csv = base64.b64decode(sent["content"]).decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("2026-11-16 08:00,placed,enter,吴霞")
    record_audit(ctx.engine, "someone", "export", "/stages/all?q=SO_2", "csv")  # mentions SO_2 only
    trail = audit_trail(ctx.engine, "SO-1")
    assert trail[["actor", "action", "target"]].values.tolist() == [["local", "export", "/orders/SO-1"]]
    assert trail["detail"].tolist() == ["csv, 9 events"]
    # "_" is matched literally: SO_2's entry does not leak into SO-2-like numbers
    assert audit_trail(ctx.engine, "SO-2").empty and len(audit_trail(ctx.engine, "SO_2")) == 1
    texts = _texts(order_content(ctx, "SO-1", now=NOW))
    assert "local" in texts and "/orders/SO-1" in texts
    assert export_events(ctx, "nope") is None


# -- delivery against the promise, promised dates, links ------------------------------

FLOW = ("placed", "reviewed", "paid", "prepared", "produced", "inspected", "shipped", "in_transit", "received")


def _fact(component, dd_id: str) -> str:
    """The text of the fact whose <dd> has ``dd_id``, with its <dt> label."""
    for item in component.children:
        dt, dd = item.children
        if getattr(dd, "id", None) == dd_id:
            return f"{dt.children}: {dd.children}"
    raise KeyError(dd_id)


@pytest.fixture
def closed_ctx(store, tmp_path):
    from zoneinfo import ZoneInfo

    from datasource.importers.timestamps import end_of_day

    shanghai = ZoneInfo("Asia/Shanghai")
    done = [EventRecord(n, code, "enter", at(i * 5)) for n in ("EARLY", "LATE") for i, code in enumerate(FLOW)]
    ingest(store.engine, store.pipeline, [
        OrderRecord("EARLY", promised_at=at(40 + 177.2)),   # received at 40 h: 177.2 h early
        OrderRecord("LATE", promised_at=at(30)),             # received at 40 h: 10 h late
        OrderRecord("GONE", promised_at=at(300), cancelled=True),
        # the same promised day, 11-09, as an import stores it (the next local midnight)
        # and as the demo stores it (23:59:59)
        OrderRecord("IMPORTED", promised_at=end_of_day(datetime(2026, 11, 9).date(), shanghai)),
        OrderRecord("DEMO", promised_at=datetime(2026, 11, 9, 23, 59, 59, tzinfo=shanghai)),
        OrderRecord("TIMED", promised_at=datetime(2026, 11, 9, 14, 30, tzinfo=shanghai)),
        OrderRecord("PO 2024/001 #订单", promised_at=at(300)),
    ], done + [EventRecord(n, "placed", "enter", at(1))
               for n in ("GONE", "IMPORTED", "DEMO", "TIMED", "PO 2024/001 #订单")],
        actor="test", target="fixture")
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    return create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]


def test_a_closed_order_has_no_time_left(closed_ctx):
    facts = {n: order_content(closed_ctx, n, now=NOW)[0] for n in ("EARLY", "LATE", "GONE")}
    assert order_detail(closed_ctx.engine, "EARLY").order["status"] == "completed"
    assert _fact(facts["EARLY"], "order-delivery") == "交付: 按时 · 提前 177.2 h"
    assert _fact(facts["LATE"], "order-delivery") == "交付: 延误 10.0 h"
    assert "ob-fact--late" in facts["LATE"].children[-1].className
    assert _fact(facts["GONE"], "order-delivery") == "交付: —"
    texts = _texts([facts["EARLY"], facts["GONE"]])
    assert not any("余量" in t for t in texts)
    english = order_content(closed_ctx, "EARLY", now=NOW, lang="en")[0]
    assert _fact(english, "order-delivery") == "Delivery: on time · 177.2 h early"


def test_an_open_order_has_time_left_or_is_late(closed_ctx):
    ahead = order_content(closed_ctx, "PO 2024/001 #订单", now=NOW)[0]
    assert _fact(ahead, "order-delivery") == "余量: 100.0 h"   # now = 200 h
    late = order_content(closed_ctx, "PO 2024/001 #订单", now=at(305))[0]
    assert _fact(late, "order-delivery") == "延误: 5.0 h"


def test_a_promised_date_shows_as_that_day_whichever_way_it_was_stored(closed_ctx):
    def promised(number: str) -> str:
        return _fact(order_content(closed_ctx, number, now=NOW)[0], "order-promised")

    assert promised("IMPORTED") == promised("DEMO") == "承诺交期: 2026-11-09 23:59"
    assert promised("TIMED") == "承诺交期: 2026-11-09 14:30"   # a real time of day is kept
    # the stored instants are not touched
    stored = order_detail(closed_ctx.engine, "IMPORTED").order["promised_at"]
    assert pd.Timestamp(stored) == pd.Timestamp("2026-11-09 16:00", tz="UTC")


def test_a_closed_order_has_no_now_line_even_with_an_unended_visit(closed_ctx):
    d = order_detail(closed_ctx.engine, "EARLY")
    visits = d.visits.copy()
    visits.loc[visits.index[-1], "left_at"] = pd.NaT   # the terminal visit, however it is stored
    closed = timeline_figure(visits, closed_ctx.settings.pipeline, NOW, closed_ctx.settings.timezone,
                             promised_at=d.order["promised_at"], running=False,
                             closed_at=d.order["completed_at"])
    assert [a.text for a in closed.layout.annotations] == ["承诺交期"]
    bars = visit_bars(visits, closed_ctx.settings.pipeline, NOW, closed_ctx.settings.timezone,
                      closed_at=d.order["completed_at"])
    assert not bars["open"].any() and bars["hours"].iloc[-1] == 0   # not "running" to now
    page = order_content(closed_ctx, "EARLY", now=NOW)
    graph = page[1].children[1]
    assert [a.text for a in graph.figure.layout.annotations] == ["承诺交期"]


def test_the_now_and_promised_labels_sit_inside_the_plot_clear_of_the_legend(ctx):
    d = order_detail(ctx.engine, "SO-1")
    fig = timeline_figure(d.visits, ctx.settings.pipeline, NOW, ctx.settings.timezone,
                          promised_at=d.order["promised_at"])
    legend_bottom = fig.layout.legend.y   # the legend sits above the plot (y >= 1)
    assert legend_bottom > 1
    labels = {a.text: (a.y, a.yanchor) for a in fig.layout.annotations}
    assert labels == {"承诺交期": (1, "top"), "现在": (0, "bottom")}


def test_order_links_are_encoded_and_the_page_decodes_them(closed_ctx):
    from dashboard.pages import default_pages, resolve
    from dashboard.url_state import order_href

    number = "PO 2024/001 #订单"
    link = order_href(number)
    assert link == "/orders/PO%202024%2F001%20%23%E8%AE%A2%E5%8D%95"
    page, params = resolve(default_pages(), link)
    assert page.pattern == "/orders/<number>" and params == {"number": number}
    assert resolve(default_pages(), "/orders/PO%202024%20001")[1] == {"number": "PO 2024 001"}
    assert order_href("100%") == "/orders/100%25"
    assert resolve(default_pages(), order_href("100%"))[1] == {"number": "100%"}
    texts = _texts(order_content(closed_ctx, params["number"], now=NOW))
    assert not any("no order" in t for t in texts)


def test_out_of_pipeline_order_findings_are_on_the_order_page(store, tmp_path):
    ingest(store.engine, store.pipeline, events=[
        EventRecord("OO-1", "placed", "enter", at(0)),
        EventRecord("OO-1", "shipped", "enter", at(3)),
        EventRecord("OO-1", "reviewed", "enter", at(5)),  # approval recorded after the carrier
    ])
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    ctx = create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]
    texts = _texts(order_content(ctx, "OO-1", now=NOW))
    assert "顺序异常" in texts
    assert ("reviewed entered 2026-11-16 13:00:00 after shipped 2026-11-16 11:00:00, which follows "
            "it in the pipeline (Asia/Shanghai)") in texts
    # visits follow the clock: shipped 3-5 h, reviewed from 5 h, nothing negative
    visits = order_detail(store.engine, "OO-1").visits
    assert visits["stage_code"].tolist() == ["placed", "shipped", "reviewed"]
    assert visits["duration_s"].dropna().tolist() == [3 * 3600.0, 2 * 3600.0]


def test_the_history_shows_what_later_imports_changed(ctx):
    from datasource.ingest import MilestoneMove

    ingest(ctx.engine, ctx.settings.pipeline,
           [OrderRecord("SO-1", customer="上海申江化工集团", promised_at=at(150) + timedelta(days=2))],
           origins={"SO-1": ("台账.xlsx", 12)}, update=frozenset({"customer", "promised_at"}),
           moves=[MilestoneMove("SO-1", "placed", at(0), at(-1), 12)])
    d = order_detail(ctx.engine, "SO-1")
    assert d.history[["field", "source", "line"]].values.tolist() == [
        ["enter:placed", "台账.xlsx", 12], ["promised_at", "台账.xlsx", 12], ["customer", "台账.xlsx", 12]]
    body = order_content(ctx, "SO-1", now=NOW)
    history = next(s for s in body if "变更记录" in _texts(s))
    rows = [_texts(r) for r in history.children[1].children[1].children]
    # promised at(150) is 2026-11-22 14:00 Shanghai; two days later; times in the zone
    assert sorted(r[1:] for r in rows) == [
        ["下单 时间", "2026-11-16 08:00", "2026-11-16 07:00", "台账.xlsx · 12"],
        ["客户", "上海申江化工", "上海申江化工集团", "台账.xlsx · 12"],
        ["承诺交期", "2026-11-22 14:00", "2026-11-24 14:00", "台账.xlsx · 12"],
    ]
    english = order_content(ctx, "SO-1", now=NOW, lang="en")
    history = next(s for s in english if "History" in _texts(s))
    assert sorted(_texts(r)[1] for r in history.children[1].children[1].children) == [
        "Customer", "Placed time", "Promised"]
    assert "没有变更" in _texts(order_content(ctx, "SO_2", now=NOW))

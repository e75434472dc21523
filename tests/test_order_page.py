"""The order page without a browser: a hand-built order with rework, its Gantt, events
with operators, exceptions and the audit trail (exports recorded as "anonymous")."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.callbacks.order import export_events, order_content
from dashboard.figures.timeline import timeline_figure, visit_bars
from datasource.ingest import EventRecord, ExceptionRecord, OrderRecord, ingest
from datasource.order_detail import audit_trail, order_detail, record_audit
from datasource.settings import Settings

T = datetime(2026, 11, 16, 0, 0, tzinfo=timezone.utc)  # 08:00 in Shanghai
NOW = T + timedelta(hours=200)


def at(h: float) -> datetime:
    return T + timedelta(hours=h)


def _texts(component) -> list[str]:
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in _texts(c)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


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
    assert any("quality_failure" in t for t in texts)
    assert "没有审计记录 · no audit entries" in texts
    assert "没有订单 nope · no order nope" in _texts(order_content(ctx, "nope", now=NOW))


def test_export_is_recorded_and_shown_in_the_audit_trail(ctx):
    sent = export_events(ctx, "SO-1")
    csv = base64.b64decode(sent["content"]).decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("2026-11-16 08:00,placed,enter,吴霞")
    record_audit(ctx.engine, "someone", "export", "/stages/all?q=SO_2", "csv")  # mentions SO_2 only
    trail = audit_trail(ctx.engine, "SO-1")
    assert trail[["actor", "action", "target"]].values.tolist() == [["anonymous", "export", "/orders/SO-1"]]
    assert trail["detail"].tolist() == ["csv, 9 events"]
    # "_" is matched literally: SO_2's entry does not leak into SO-2-like numbers
    assert audit_trail(ctx.engine, "SO-2").empty and len(audit_trail(ctx.engine, "SO_2")) == 1
    texts = _texts(order_content(ctx, "SO-1", now=NOW))
    assert "anonymous" in texts and "/orders/SO-1" in texts
    assert export_events(ctx, "nope") is None

"""Invariants on small generated stores (hypothesis, SQLite)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_fixture import PIPELINE, T

from datasource.ingest import EventRecord, OrderRecord, ingest
from datasource.store import open_store
from metrics.drilldown import orders_behind
from metrics.summary import compute_summary
from metrics.window import Window

PATHS = [
    ["placed"], ["placed", "pick"], ["placed", "pick", "ship"],
    ["placed", "pick", "ship", "received"],
    ["placed", "pick", "ship", "pick", "ship", "received"],  # rework
    ["placed", "pick", "ship", "received", "after_sales"],
]

order_strategy = st.fixed_dictionaries({
    "start_h": st.floats(0, 200),
    "path": st.sampled_from(PATHS),
    "gaps": st.lists(st.floats(0, 60), min_size=6, max_size=6),
    "promised_h": st.none() | st.floats(-10, 300),
    "cancel": st.sampled_from([None, None, "event", "flag"]),
    "cancel_after_h": st.floats(0, 80),
    "customer": st.sampled_from(["a", "b"]),
})


def build(orders: list[dict], folder: Path):
    engine = open_store(f"sqlite:///{folder / 'p.db'}", PIPELINE)
    records, events = [], []
    for i, o in enumerate(orders):
        number = f"O{i}"
        t = T + timedelta(hours=o["start_h"])
        promised = None if o["promised_h"] is None else t + timedelta(hours=o["promised_h"])
        records.append(OrderRecord(number, customer=o["customer"], promised_at=promised,
                                   cancelled=o["cancel"] == "flag"))
        for code, gap in zip(o["path"], [0.0] + o["gaps"]):
            t += timedelta(hours=gap)
            events.append(EventRecord(number, code, "enter", t))
        if o["cancel"] == "event":
            when = T + timedelta(hours=o["start_h"] + o["cancel_after_h"])
            events.append(EventRecord(number, None, "cancel", when))
    ingest(engine, PIPELINE, records, events)
    return engine


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=st.lists(order_strategy, min_size=1, max_size=12),
       start_h=st.floats(-20, 250), length_h=st.floats(1, 200))
def test_invariants(orders, start_h, length_h):
    with tempfile.TemporaryDirectory() as folder:
        engine = build(orders, Path(folder))
        try:
            now = T + timedelta(hours=600)  # after every event
            window = Window(T + timedelta(hours=start_h), T + timedelta(hours=start_h + length_h))
            s = compute_summary(engine, PIPELINE, window, None, now)
            # late <= completed; the rate has no value without completions
            assert 0 <= s.delay.late <= s.delay.completed
            assert (s.delay.rate is None) == (s.delay.completed == 0)
            # WIP at the end = WIP at the start + placed - completed - cancelled
            f = s.flow
            assert f.wip_end == f.wip_start + f.placed - f.completed - f.cancelled
            assert f.completed == s.delay.completed
            # the daily trend adds up to the window's counts
            assert s.trend["placed"].sum() == f.placed
            assert s.trend["completed"].sum() == f.completed
            # per-stage WIP adds up to the total WIP; overdue and at risk are part of it
            assert s.stages["wip"].sum() == s.wip
            assert s.delay.overdue_now + s.delay.at_risk <= s.wip
            # after every event, WIP by status equals WIP by time
            later = compute_summary(engine, PIPELINE, Window(now - timedelta(hours=1), now), None, now)
            assert later.flow.wip_end == later.wip
            assert len(orders_behind(engine, PIPELINE, "late", window, None, now)) == s.delay.late
        finally:
            engine.dispose()

"""The wall summary on the hand-worked store of tests/metrics_fixture.py, on SQLite and
PostgreSQL. Every expected number is worked out below (hours after T)."""

from __future__ import annotations

import json
import math
import re

import pytest
from metrics_fixture import NOW, PIPELINE, WINDOW, load

from metrics.summary import compute_summary, render_text
from metrics.window import Filters


@pytest.fixture
def summary(store):
    load(store.engine)
    return compute_summary(store.engine, PIPELINE, WINDOW, None, NOW)


def test_cycle_time_and_delay(summary):
    # Completed in W = [0, 168), not cancelled: A(20) B(60) C(30) D(9) E(40) F(50) G(60) = 7.
    # P entered received at 70 but was cancelled at 80 (cancel wins); L completed at -10.
    # Cycle times: A 20-0=20, B 60-2=58, C 30+50=80, D 9-3=6, E 40-10=30, F 50-20=30, G 60-30=30
    # sorted 6 20 30 30 30 58 80: median 30; mean 254/7; p90 at rank 0.9*6=5.4: 58+0.4*22=66.8
    ct = summary.cycle_time
    assert ct.count == 7
    assert ct.median_h == pytest.approx(30)
    assert ct.mean_h == pytest.approx(254 / 7)
    assert ct.p90_h == pytest.approx(66.8)
    assert ct.median_d == pytest.approx(30 / 24)
    # Late: B 60>40, C 30>20, F 50>45; A 20<=30, E 40<=50, G 60<=100; D has no promise.
    d = summary.delay
    assert (d.completed, d.late, d.without_promise) == (7, 3, 1)
    assert d.rate == pytest.approx(3 / 7)
    # WIP now: H (pick), I (ship), J (placed), M (ship). Overdue: I (100 < 108); M has no promise.
    assert summary.wip == 4
    assert d.overdue_now == 1
    # At risk, typical h = stage medians (placed 1, pick 11.5, ship 8):
    # H in pick since 92, age 16 -> max(0, 11.5-16)=0, + ship 8 -> 116 > promised 110: at risk.
    # J in placed, age 1 -> 0 + 11.5 + 8 -> 127.5 <= 200: not at risk.
    assert d.at_risk == 1
    # Placed today (local 2026-11-06 starts at 96): J at 107.
    assert summary.placed_today == 1


def test_stage_table(summary):
    s = summary.stages.set_index("code")
    assert list(s.index) == ["placed", "pick", "ship"]  # flow stages only
    # G's ship (35) came before its pick (40): visits follow the clock, placed 30-35,
    # ship 35-40, pick 40-60 (an out-of-pipeline-order finding, no negative duration).
    # placed visits ended in W: A1 B4 D1 E2 F1 G5 H2 I1 K1 N1 P1 (C, M, L ended before T)
    # sorted 1x7, 2, 2, 4, 5: median 1, p90 at rank 9 = 4; mean 20/11; breaches (>2 h): B, G
    # pick: A4 B14 C50 D4 E18 F4 F15(rework) G20 I9 P1; H, K, N still in
    # sorted 1 4 4 4 9 14 15 18 20 50: median 11.5, p90 rank 8.1: 20+0.1*30=23; mean 13.9
    # breaches (>10): B C E F2 G
    # ship: A15 B40 C20 D1 E10 F5 F5(rework) G5 P8: sorted 1 5 5 5 8 10 15 20 40
    # median 8, p90 rank 7.2: 20+0.2*20=24; mean 109/9; breaches (>24): B40
    assert s["visits"].tolist() == [11, 10, 9]
    assert s["mean_h"].tolist() == pytest.approx([20 / 11, 13.9, 109 / 9])
    assert s["median_h"].tolist() == pytest.approx([1, 11.5, 8])
    assert s["p90_h"].tolist() == pytest.approx([4, 23, 24])
    assert s["total_h"].tolist() == pytest.approx([20, 139, 109])
    assert s["breaches"].tolist() == [2, 5, 1]
    assert s["breach_rate"].tolist() == pytest.approx([2 / 11, 5 / 10, 1 / 9])
    assert s["rework_visits"].tolist() == [0, 1, 1]
    assert s["anomalies"].tolist() == [0, 0, 0]
    # elapsed days of W at now = 108 h = 4.5 d
    assert s["throughput_per_day"].tolist() == pytest.approx([11 / 4.5, 10 / 4.5, 2])
    assert s["wip"].tolist() == [1, 1, 2]
    # open visits older than SLA: H pick 16>10; I ship 48>24, M ship 128>24; J placed 1<=2
    assert s["open_breaches_now"].tolist() == [0, 1, 2]
    # Delay contribution, late orders B, C, F, every visit: max(0, duration - SLA)
    # B: placed 4-2=2, pick 14-10=4, ship 40-24=16; C: placed 10-2=8, pick 50-10=40, ship 0
    # F: pick visit 2 15-10=5, others within SLA
    assert s["delay_contribution_h"].tolist() == pytest.approx([10, 49, 16])
    assert s["delayed_orders"].tolist() == [2, 3, 1]
    assert summary.bottleneck == "pick"
    assert s["is_bottleneck"].tolist() == [False, True, False]
    assert summary.anomalies == {}


def test_exceptions(summary):
    x = summary.exceptions
    # opened in W: X1 (7), X2 (70), X4 (100), X5 (20); X3 opened at -45
    assert x.opened_in_window == 4
    assert x.by_kind == {"shortage": 2, "logistics_delay": 1, "quality_failure": 1}
    assert x.by_stage == {"pick": 3, "ship": 1}
    assert x.matrix.loc["shortage", "pick"] == 2
    # open now: X2 (never resolved), X3 (never resolved), X4 (resolved at 150 > now)
    assert x.open_now == 3
    # ack: X1 1 h, X2 4 h, X5 2 h -> median 2; resolved by now: X1 12 h, X5 6 h -> median 9
    assert (x.acknowledged, x.resolved) == (3, 2)
    assert x.ack_median_h == pytest.approx(2)
    assert x.resolve_median_h == pytest.approx(9)


def test_trend_and_flow(summary):
    t = summary.trend
    assert [d.isoformat() for d in t["date"]] == [f"2026-11-0{d}" for d in range(2, 9)]
    # placed: day1 [0,24) A B D K E N F; day2 G30; day3 I50 P60; day4 H90; day5 J107
    assert t["placed"].tolist() == [7, 1, 2, 1, 1, 0, 0]
    # completed: D9 A20 | C30 E40 | F50 B60 G60
    assert t["completed"].tolist() == [2, 2, 3, 0, 0, 0, 0]
    assert t["late"].tolist() == [0, 1, 2, 0, 0, 0, 0]
    # cancelled: K at 8, N (unknown time -> at placement, 15) | P at 80 on day 4
    assert t["cancelled"].tolist() == [2, 0, 0, 1, 0, 0, 0]
    rates = t["delay_rate"].tolist()
    assert rates[:3] == pytest.approx([0, 0.5, 2 / 3])
    assert all(r is None or math.isnan(r) for r in rates[3:])
    # WIP at 0: C, M (L done at -10); at 24: B C E F M; at 48: B F G M; at 72: I P M;
    # at 96: H I M; at now (108): H I J M; days 6-7 have not begun
    assert t["wip_end_of_day"].tolist()[:5] == [5, 4, 3, 3, 4]
    assert all(v is None or math.isnan(v) for v in t["wip_end_of_day"].tolist()[5:])
    f = summary.flow
    # 2 + 12 - 7 - 3 = 4
    assert (f.wip_start, f.placed, f.completed, f.cancelled, f.wip_end) == (2, 12, 7, 3, 4)


def test_filters_apply_to_every_number(store):
    load(store.engine)
    s = compute_summary(store.engine, PIPELINE, WINDOW, Filters(customer="acme"), NOW)
    # acme: A B C D E. Cycle 20 58 80 6 30 -> median 30; late B, C
    assert (s.delay.completed, s.delay.late, s.cycle_time.median_h) == (5, 2, 30)
    assert (s.wip, s.delay.overdue_now, s.placed_today) == (0, 0, 0)
    # exceptions of acme orders: opened X1, X5; open now X3
    assert (s.exceptions.opened_in_window, s.exceptions.open_now) == (2, 1)
    # pick visits of acme ended in W: A4 B14 C50 D4 E18
    assert s.stages.set_index("code").loc["pick", "visits"] == 5
    both = compute_summary(store.engine, PIPELINE, WINDOW, Filters(customer=("acme", "zenith")), NOW)
    assert both.delay.completed == 7
    line = compute_summary(store.engine, PIPELINE, WINDOW, Filters(production_line="L2", channel="web"), NOW)
    assert line.wip == 4  # H I J M are L2 / web


def test_empty_window_has_no_rates(store):
    load(store.engine)
    from datetime import timedelta

    from metrics.window import Window

    empty = Window(WINDOW.start - timedelta(days=30), WINDOW.start - timedelta(days=29))
    s = compute_summary(store.engine, PIPELINE, empty, None, NOW)
    assert s.delay.completed == 0 and s.delay.rate is None
    assert s.cycle_time.median_h is None and s.cycle_time.p90_h is None
    assert s.bottleneck is None
    assert s.stages["breach_rate"].isna().all()


def test_to_dict_is_json_and_text_renders(summary):
    data = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert data["delay"]["late"] == 3
    assert data["trend"][5]["delay_rate"] is None
    assert data["stages"][1]["code"] == "pick"
    assert data["anomalies"] == {"negative_durations": {}, "total": 0}
    assert data["stages"][1]["mean_h"] == pytest.approx(13.9)
    text = render_text(summary)
    assert re.search(r"^Delay rate +42\.86 %$", text, re.M), text
    assert re.search(r"^Bottleneck +pick$", text, re.M)
    # visits, mean, median, p90 of pick
    assert "      10    13.9    11.5    23.0" in next(t for t in text.splitlines() if t.startswith("Pick"))

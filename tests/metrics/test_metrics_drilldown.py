"""Every number of the summary equals the count of the rows behind it (both backends)."""

from __future__ import annotations

import pytest
from metrics_fixture import NOW, PIPELINE, WINDOW, load

from metrics.drilldown import orders_behind, orders_behind_page
from metrics.summary import compute_summary
from metrics.window import Filters


@pytest.fixture
def loaded(store):
    load(store.engine)
    return store


def _counts(summary) -> list[tuple[str, str | None, int]]:
    """(what, stage, expected count) for every aggregate of the summary."""
    s = summary.stages.set_index("code")
    out = [
        ("placed_today", None, summary.placed_today),
        ("completed", None, summary.delay.completed),
        ("completed", None, summary.cycle_time.count),
        ("late", None, summary.delay.late),
        ("no_promise", None, summary.delay.without_promise),
        ("wip", None, summary.wip),
        ("overdue_now", None, summary.delay.overdue_now),
        ("at_risk", None, summary.delay.at_risk),
        ("open_exceptions", None, summary.exceptions.open_now),
        ("exceptions_opened", None, summary.exceptions.opened_in_window),
        ("anomalies", None, sum(summary.anomalies.values())),
    ]
    for code, row in s.iterrows():
        out += [
            ("stage_wip", code, row["wip"]),
            ("stage_open_breaches", code, row["open_breaches_now"]),
            ("stage_delayed", code, row["delayed_orders"]),
            ("stage_visits", code, row["visits"]),
            ("stage_breaches", code, row["breaches"]),
            ("stage_rework", code, row["rework_visits"]),
            ("anomalies", code, row["anomalies"]),
            ("exceptions_opened", code, summary.exceptions.by_stage.get(code, 0)),
        ]
    return out


@pytest.mark.parametrize("filters", [None, Filters(customer="acme")])
def test_counts_equal_summary(loaded, filters):
    summary = compute_summary(loaded.engine, PIPELINE, WINDOW, filters, NOW)
    for what, stage, expected in _counts(summary):
        rows = orders_behind(loaded.engine, PIPELINE, what, WINDOW, filters, NOW, stage)
        assert len(rows) == expected, (what, stage)
        _, total = orders_behind_page(loaded.engine, PIPELINE, what, WINDOW, filters, NOW, stage, limit=2)
        assert total == expected, (what, stage)


def test_rows_are_the_right_orders(loaded):
    e = loaded.engine
    late = orders_behind(e, PIPELINE, "late", WINDOW, None, NOW)
    # default order: promised_at ascending -> C (20), B (40), F (45)
    assert late["order_number"].tolist() == ["C", "B", "F"]
    assert late["late_by_h"].tolist() == pytest.approx([10, 20, 5])
    assert late["cycle_time_h"].tolist() == pytest.approx([80, 58, 30])
    delayed = orders_behind(e, PIPELINE, "stage_delayed", WINDOW, None, NOW, "pick")
    assert delayed["order_number"].tolist() == ["C", "F", "B"]  # by contribution, largest first
    assert delayed["contribution_h"].tolist() == pytest.approx([40, 5, 4])
    s = compute_summary(e, PIPELINE, WINDOW, None, NOW).stages.set_index("code")
    assert delayed["contribution_h"].sum() == pytest.approx(s.loc["pick", "delay_contribution_h"])
    wip = orders_behind(e, PIPELINE, "wip", WINDOW, None, NOW)
    assert wip["order_number"].tolist() == ["M", "I", "H", "J"]  # longest in stage first
    assert wip["age_in_stage_h"].tolist() == pytest.approx([128, 48, 16, 1])
    assert orders_behind(e, PIPELINE, "at_risk", WINDOW, None, NOW)["order_number"].tolist() == ["H"]
    anomalies = orders_behind(e, PIPELINE, "anomalies", WINDOW, None, NOW)
    # visits follow the clock: no negative duration is derived (G's order is a finding)
    assert anomalies.empty
    rework = orders_behind(e, PIPELINE, "stage_rework", WINDOW, None, NOW, "pick")
    assert rework[["order_number", "visit_no", "time_in_stage_h"]].values.tolist() == [["F", 2, 15.0]]


def test_paging_is_sorted_and_stable(loaded):
    e = loaded.engine
    first, total = orders_behind_page(e, PIPELINE, "stage_visits", WINDOW, None, NOW, "pick",
                                      sort="-time_in_stage_h", offset=0, limit=4)
    second, _ = orders_behind_page(e, PIPELINE, "stage_visits", WINDOW, None, NOW, "pick",
                                   sort="-time_in_stage_h", offset=4, limit=4)
    assert total == 10
    assert first["time_in_stage_h"].tolist() == [50, 20, 18, 15]
    # ties (4 h: A, D, F visit 1) break by order number
    assert second[["order_number", "time_in_stage_h"]].values.tolist() == [
        ["B", 14.0], ["I", 9.0], ["A", 4.0], ["D", 4.0]]
    by_age, _ = orders_behind_page(e, PIPELINE, "wip", WINDOW, None, NOW, sort="age_in_stage_h", limit=2)
    assert by_age["order_number"].tolist() == ["J", "H"]
    risky, total = orders_behind_page(e, PIPELINE, "at_risk", WINDOW, None, NOW, offset=0, limit=10)
    assert (total, risky["order_number"].tolist()) == (1, ["H"])


def test_bad_requests_are_refused(loaded):
    with pytest.raises(ValueError, match="unknown drill-down"):
        orders_behind(loaded.engine, PIPELINE, "everything", WINDOW, None, NOW)
    with pytest.raises(ValueError, match="needs a stage"):
        orders_behind(loaded.engine, PIPELINE, "stage_wip", WINDOW, None, NOW)
    with pytest.raises(ValueError, match="cannot sort"):
        orders_behind_page(loaded.engine, PIPELINE, "wip", WINDOW, None, NOW, sort="price")

"""The engine against an independent plain-SQL oracle on a 10,000-order demo store,
on SQLite and PostgreSQL.

The oracle is hand-written SQL over the tables (it does not use datasource.queries);
percentiles come from percentile_cont on PostgreSQL and, on SQLite, from the ordered
values fetched by SQL and interpolated by ``interpolate`` below. Counts must be equal;
hours agree to 1e-6 h (SQLite julianday arithmetic is exact to well under a second).
The store is built once per backend for the module.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from conftest import PG_URL, pg_schema_url, require_postgres
from sqlalchemy import create_engine, text

from datasource.demo import generate, seed_store
from datasource.pipeline import default_pipeline
from datasource.store import open_store
from metrics.drilldown import orders_behind
from metrics.summary import compute_summary
from metrics.window import Filters, Window

PIPELINE = default_pipeline()
END = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
NOW = END
FLOW = [s.code for s in PIPELINE.flow_stages]
SLA_S = {s.code: s.sla_hours * 3600 for s in PIPELINE.flow_stages}
CASES = [
    (Window.last_days(7, NOW, PIPELINE.timezone), Filters()),
    (Window.last_days(30, NOW, PIPELINE.timezone), Filters(production_line="Line B")),
]


@pytest.fixture(scope="module")
def data():
    return generate(seed=7, n_orders=10_000, end=END, pipeline=PIPELINE)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def big_store(request, data, tmp_path_factory):
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('oracle') / 'store.db'}"
    else:
        require_postgres()
        schema = f"ob_oracle_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = pg_schema_url(schema)
    engine = open_store(url, PIPELINE)
    seed_store(engine, PIPELINE, data, batch_orders=2500)
    yield request.param, engine
    engine.dispose()
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def interpolate(values: list[float], q: float) -> float | None:
    """Percentile q (0-1) of sorted values, linear between closest ranks."""
    if not values:
        return None
    rank = q * (len(values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (rank - low) * (values[high] - values[low])


class Oracle:
    def __init__(self, backend: str, engine, window: Window, filters: Filters, now: datetime):
        self.backend, self.engine = backend, engine
        self.params = {"s": self.ts(window.start), "e": self.ts(window.end), "now": self.ts(now)}
        self.where_f = "".join(f" AND o.{k} = :f_{k}" for k in filters.active())
        self.params.update({f"f_{k}": v for k, v in filters.active().items()})

    def ts(self, t: datetime):
        naive = t.astimezone(timezone.utc).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.backend == "sqlite" else naive

    def rows(self, sql: str, **extra):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), {**self.params, **extra}).all()

    def one(self, sql: str, **extra):
        return self.rows(sql, **extra)[0][0]

    def hours(self, a: str, b: str) -> str:
        if self.backend == "sqlite":
            return f"((julianday({a}) - julianday({b})) * 24.0)"
        return f"(EXTRACT(EPOCH FROM ({a} - {b})) / 3600.0)"

    def percentiles(self, expr: str, source: str, qs=(0.5, 0.9)) -> list[float | None]:
        if self.backend == "postgres":
            cols = ", ".join(f"percentile_cont({q}) WITHIN GROUP (ORDER BY {expr})" for q in qs)
            return [None if v is None else float(v) for v in self.rows(f"SELECT {cols} {source}")[0]]
        values = [float(r[0]) for r in self.rows(f"SELECT {expr} AS x {source} ORDER BY x")]
        return [interpolate(values, q) for q in qs]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_engine_matches_plain_sql(big_store, case):
    backend, engine = big_store
    window, filters = CASES[case]
    s = compute_summary(engine, PIPELINE, window, filters, NOW)
    o = Oracle(backend, engine, window, filters, NOW)
    flow_in = ", ".join(f"'{c}'" for c in FLOW)

    completed = (" FROM orders o WHERE o.status <> 'cancelled' AND o.completed_at >= :s"
                 " AND o.completed_at < :e" + o.where_f)
    assert s.delay.completed == o.one("SELECT count(*)" + completed) > 100
    assert s.delay.late == o.one("SELECT count(*)" + completed + " AND o.completed_at > o.promised_at") > 5
    cycle = o.hours("o.completed_at", "o.placed_at")
    median, p90 = o.percentiles(cycle, completed)
    assert s.cycle_time.median_h == pytest.approx(median, abs=1e-6)
    assert s.cycle_time.p90_h == pytest.approx(p90, abs=1e-6)
    assert s.cycle_time.mean_h == pytest.approx(float(o.one(f"SELECT avg({cycle})" + completed)), abs=1e-6)

    wip = f" FROM orders o WHERE o.status = 'open' AND o.placed_at <= :now AND o.current_stage IN ({flow_in})" + o.where_f
    assert s.wip == o.one("SELECT count(*)" + wip) > 50
    assert s.delay.overdue_now == o.one("SELECT count(*)" + wip + " AND o.promised_at < :now")
    by_stage = dict(o.rows("SELECT o.current_stage, count(*)" + wip + " GROUP BY o.current_stage"))
    assert dict(zip(s.stages["code"], s.stages["wip"])) == {c: by_stage.get(c, 0) for c in FLOW}

    table = s.stages.set_index("code")
    for code in FLOW:
        ended = (" FROM stage_visits v JOIN orders o ON o.id = v.order_id WHERE v.stage_code = :st"
                 " AND v.left_at >= :s AND v.left_at < :e AND v.duration_s >= 0" + o.where_f)
        n, breaches, rework, mean_h, total_h = o.rows(
            "SELECT count(*), sum(CASE WHEN v.duration_s > :sla THEN 1 ELSE 0 END),"
            " sum(CASE WHEN v.is_rework THEN 1 ELSE 0 END), avg(v.duration_s) / 3600.0,"
            " sum(v.duration_s) / 3600.0" + ended, st=code, sla=SLA_S[code])[0]
        assert (table.loc[code, "visits"], table.loc[code, "breaches"], table.loc[code, "rework_visits"]) \
            == (n, breaches or 0, rework or 0), code
        # Mean and total time in stage (the stage list, the review and the report show them).
        assert table.loc[code, "mean_h"] == pytest.approx(float(mean_h), rel=1e-9), code
        assert table.loc[code, "total_h"] == pytest.approx(float(total_h), rel=1e-9), code
        # The wall's stage tiles: the 7-day breach rate (their colour) and "late now".
        assert table.loc[code, "breach_rate"] == pytest.approx((breaches or 0) / n), code
        late_now = o.one("SELECT count(*)" + wip + " AND o.current_stage = :st AND "
                         + o.hours(":now", "o.current_since") + " > :sla_h",
                         st=code, sla_h=SLA_S[code] / 3600)
        assert table.loc[code, "open_breaches_now"] == late_now, code
        if backend == "postgres":
            med, p90 = [float(v) if v is not None else None for v in o.rows(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v.duration_s / 3600.0),"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY v.duration_s / 3600.0)" + ended, st=code)[0]]
        else:
            values = [r[0] / 3600.0 for r in o.rows("SELECT v.duration_s" + ended + " ORDER BY v.duration_s", st=code)]
            med, p90 = interpolate(values, 0.5), interpolate(values, 0.9)
        assert table.loc[code, "median_h"] == pytest.approx(med, abs=1e-9), code
        assert table.loc[code, "p90_h"] == pytest.approx(p90, abs=1e-9), code
        contribution = o.one(
            "SELECT sum(CASE WHEN v.duration_s > :sla THEN v.duration_s - :sla ELSE 0 END) / 3600.0"
            " FROM stage_visits v JOIN orders o ON o.id = v.order_id WHERE v.stage_code = :st"
            " AND o.status <> 'cancelled' AND o.completed_at >= :s AND o.completed_at < :e"
            " AND o.completed_at > o.promised_at AND v.duration_s >= 0" + o.where_f, st=code, sla=SLA_S[code])
        assert table.loc[code, "delay_contribution_h"] == pytest.approx(float(contribution or 0), abs=1e-6), code
    assert table["breaches"].sum() > 0 and table["rework_visits"].sum() > 0
    assert table["open_breaches_now"].sum() > 0

    opened = " FROM exceptions x JOIN orders o ON o.id = x.order_id WHERE x.opened_at >= :s AND x.opened_at < :e" + o.where_f
    assert s.exceptions.opened_in_window == o.one("SELECT count(*)" + opened) > 10
    assert s.exceptions.by_kind == dict(o.rows("SELECT x.kind, count(*)" + opened + " GROUP BY x.kind"))
    assert s.exceptions.open_now == o.one(
        "SELECT count(*) FROM exceptions x JOIN orders o ON o.id = x.order_id WHERE x.opened_at <= :now"
        " AND (x.resolved_at IS NULL OR x.resolved_at > :now)" + o.where_f)
    ack = o.hours("x.acknowledged_at", "x.opened_at")
    (ack_median,) = o.percentiles(ack, opened + " AND x.acknowledged_at <= :now", qs=(0.5,))
    assert s.exceptions.ack_median_h == pytest.approx(ack_median, abs=1e-6)

    # time-based WIP at the end of the window (= now here): placed before t, neither
    # completed nor cancelled before t
    wip_t = o.one(
        "SELECT count(*) FROM orders o WHERE o.placed_at < :now"
        " AND NOT (o.status <> 'cancelled' AND o.completed_at IS NOT NULL AND o.completed_at < :now)"
        " AND NOT (o.status = 'cancelled' AND (o.cancelled_at IS NULL OR o.cancelled_at < :now))" + o.where_f)
    assert s.trend["wip_end_of_day"].iloc[-1] == wip_t
    local_day = ("date(o.placed_at, '+8 hours')" if backend == "sqlite"
                 else "CAST(o.placed_at + INTERVAL '8 hours' AS date)")
    placed = {str(d): n for d, n in o.rows(
        f"SELECT {local_day} AS d, count(*) FROM orders o WHERE o.placed_at >= :s AND o.placed_at < :e"
        + o.where_f + " GROUP BY d")}
    assert {str(d): n for d, n in zip(s.trend["date"], s.trend["placed"]) if n} == placed

    # at risk, recomputed row by row from plain SQL and the oracle's stage medians
    typical = {c: table.loc[c, "median_h"] for c in FLOW}
    remaining = {c: sum(typical[d] for d in FLOW[i + 1:]) for i, c in enumerate(FLOW)}
    risky = 0
    for stage, since, promised in o.rows("SELECT o.current_stage, o.current_since, o.promised_at" + wip):
        since, promised = (datetime.fromisoformat(str(v)).replace(tzinfo=timezone.utc) for v in (since, promised))
        age_h = (NOW - since).total_seconds() / 3600
        expected = NOW + timedelta(hours=max(0.0, typical[stage] - age_h) + remaining[stage])
        risky += promised >= NOW and expected > promised
    assert s.delay.at_risk == risky

    for what, expected in (("late", s.delay.late), ("wip", s.wip), ("at_risk", s.delay.at_risk)):
        assert len(orders_behind(engine, PIPELINE, what, window, filters, NOW)) == expected

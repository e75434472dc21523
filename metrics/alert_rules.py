"""Alert conditions, evaluated through the metric populations and the catalog (DESIGN.md
section 5a). No rule keeps its own copy of a metric's definition: each condition is a
population of ``metrics.populations`` (or the catalog's at-risk drill-down), narrowed,
or a catalog metric read from the summary by name.

A ``Condition`` says what must hold; ``evaluate`` returns one ``Finding`` per thing it
holds for now (an order, an exception, a stage or the whole scope). Kinds:

``stage_sla``       an open order whose age in its current stage exceeds the stage SLA
                    (population ``stage_open_breaches``), critical; with
                    ``warning_share`` s, those past s x SLA but not past it, warning.
                    Key ``order:<number>@<stage>``: leaving the stage ends it.
``overdue``         an order of ``overdue_now`` (WIP, promised_at < now), critical.
``due_soon``        an order of WIP with now <= promised_at < now + ``within_s``, whose
                    current stage is not one of ``near_end`` (default: the last flow
                    stage, where an order is nearly done), warning.
``at_risk``         an order of the catalog's ``at_risk`` drill-down (typical stage
                    times of the last ``window_days`` local days), warning.
``exception_open``  an open exception (``open_exception_conditions``) not acknowledged,
                    opened at least ``after_s`` ago; critical for severity high or
                    critical, else warning. Key ``exception:<id>``.
``metric``          a catalog metric (``metric``) of the last ``window_days`` days, whole
                    flow or per stage (``per_stage``), above ``above``, below ``below``,
                    or at the catalog level ``level`` (warning: warning or critical).
                    Key ``scope:<scope>`` or ``stage:<code>|<scope>``.

``stages`` keeps findings of those stages only; ``scope`` ({orders column: value})
restricts the orders, like the dashboard's filters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from datasource import queries
from datasource.alert_firing import scope_text
from datasource.pipeline import Pipeline
from datasource.queries import exceptions, order_columns, orders, raw, visits
from metrics import populations
from metrics.catalog import Catalog
from metrics.drilldown import orders_behind
from metrics.stages import flow_codes
from metrics.summary import Summary, compute_summary
from metrics.window import Filters, Window, as_utc

KINDS = ("stage_sla", "overdue", "due_soon", "at_risk", "exception_open", "metric")
OPERATOR_CHUNK = 500  # order ids per lookup of their operators
LEVELS = ("warning", "critical")
SEVERE_EXCEPTIONS = ("high", "critical")


@dataclass(frozen=True)
class Condition:
    kind: str
    stages: tuple[str, ...] = ()
    scope: Mapping[str, str] = field(default_factory=dict)
    warning_share: float | None = None
    within_s: float = 24 * 3600.0
    near_end: tuple[str, ...] | None = None
    after_s: float = 30 * 60.0
    metric: str | None = None
    above: float | None = None
    below: float | None = None
    level: str | None = None
    per_stage: bool = False
    window_days: int = 7
    severity: str | None = None  # overrides the kind's severity

    @property
    def filters(self) -> Filters:
        return Filters(**dict(self.scope))

    @property
    def scope_text(self) -> str:
        return scope_text(self.scope)


@dataclass(frozen=True)
class Finding:
    """The condition holds for one thing now. ``since``: when it began to hold, when the
    data says (an order over its SLA since entered + SLA); ``labels``: what it is about."""

    key: str
    severity: str
    value: float | None
    summary: str
    labels: dict[str, str]
    since: datetime | None = None


@dataclass
class Evaluation:
    """Shared reads of one evaluation (one summary per window and scope)."""

    engine: Engine
    pipeline: Pipeline
    catalog: Catalog
    now: datetime
    summaries: dict[tuple, Summary] = field(default_factory=dict)

    def summary(self, days: int, scope: Filters) -> Summary:
        key = (days, tuple(sorted(scope.active().items())))
        if key not in self.summaries:
            window = Window.last_days(days, self.now, self.pipeline.timezone)
            self.summaries[key] = compute_summary(self.engine, self.pipeline, window, scope, self.now)
        return self.summaries[key]


def evaluate(ev: Evaluation, condition: Condition) -> list[Finding]:
    """Every finding of ``condition`` as of ``ev.now`` (reads only)."""
    reader = {
        "stage_sla": _stage_sla, "overdue": _overdue, "due_soon": _due_soon,
        "at_risk": _at_risk, "exception_open": _exception_open, "metric": _metric,
    }[condition.kind]
    return reader(ev, condition)


def _statement(ev: Evaluation, what: str, c: Condition, **extra):
    pipeline = ev.pipeline
    return populations.drill_statement(
        what, start=ev.now, end=ev.now + timedelta(seconds=1), now=ev.now,
        filters=c.filters.active(), flow_codes=flow_codes(pipeline),
        sla_seconds=extra.pop("sla_seconds", {s.code: s.sla_hours * 3600 for s in pipeline.stages}),
        today_start=ev.now, **extra)


def _wanted_stages(ev: Evaluation, c: Condition) -> list[str]:
    codes = flow_codes(ev.pipeline)
    return [s for s in codes if not c.stages or s in c.stages]


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def _order_labels(ev: Evaluation, row, operators: Mapping[int, str]) -> dict[str, str]:
    stage = "" if pd.isna(row.current_stage) else str(row.current_stage)
    try:
        department = ev.pipeline.stage(stage).department
    except KeyError:
        department = ""
    return {
        "order": str(row.order_number), "owner": _text(row.owner), "stage": stage,
        "department": department, "operator": operators.get(int(row.order_id), ""),
        "customer": _text(row.customer), "line": _text(row.production_line),
    }


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


class likely(FunctionElement):
    """A condition most rows meet, said so to SQLite (``likely(X)``; elsewhere just X).

    SQLite's statistics average over every visit, so open visits (left_at NULL) look few
    to it: it would skip-scan the stages' index for them and read the table for each
    (0.06 s per lookup on 8 M visits). Told the condition is likely, it reads the open
    visits' own covering index (``ix_visits_open``, whose WHERE is that very condition)."""

    inherit_cache = True  # no Boolean type: SQLite would compare the call with 1


@compiles(likely)
def _likely(element: likely, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(likely, "sqlite")
def _likely_sqlite(element: likely, compiler, **kw) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def current_operators(engine: Engine, order_ids: Sequence[int]) -> dict[int, str]:
    """The operator of each order's open visit (the person at its current stage), read
    from the open visits' covering index ``ix_visits_open``."""
    v = visits.c
    out: dict[int, str] = {}
    ids = [int(i) for i in order_ids]
    with engine.connect() as conn:
        for i in range(0, len(ids), OPERATOR_CHUNK):
            stmt = select(v.order_id, v.operator).where(
                v.order_id.in_(ids[i: i + OPERATOR_CHUNK]), likely(v.left_at.is_(None)), v.operator.is_not(None))
            out.update({int(k): str(name) for k, name in conn.execute(stmt).all() if name})
    return out


def _stage_sla(ev: Evaluation, c: Condition) -> list[Finding]:
    out: list[Finding] = []
    share = c.warning_share or 1.0
    for code in _wanted_stages(ev, c):
        sla_s = ev.pipeline.stage(code).sla_hours * 3600
        if sla_s <= 0:
            continue
        rows = queries.read_frame(ev.engine, _statement(
            ev, "stage_open_breaches", c, stage=code, sla_seconds={code: sla_s * share}))
        if rows.empty:
            continue
        operators = current_operators(ev.engine, rows["order_id"].tolist())
        ages = (ev.now - rows["current_since"]).dt.total_seconds()
        for row, age in zip(rows.itertuples(), ages, strict=True):
            over = age > sla_s
            severity = c.severity or ("critical" if over else "warning")
            out.append(Finding(
                key=f"order:{row.order_number}@{code}", severity=severity, value=age / 3600,
                summary=(f"in {code} for {_hours(age)}, SLA {_hours(sla_s)}" if over else
                         f"in {code} for {_hours(age)}, {age / sla_s:.0%} of SLA {_hours(sla_s)}"),
                labels=_order_labels(ev, row, operators),
                since=row.current_since + timedelta(seconds=sla_s * (1 if over else share)),
            ))
    return out


def _order_findings(ev: Evaluation, c: Condition, rows: pd.DataFrame, severity: str,
                    describe) -> list[Finding]:
    wanted = set(_wanted_stages(ev, c))
    rows = rows.loc[rows["current_stage"].isin(wanted)]
    operators = current_operators(ev.engine, rows["order_id"].tolist()) if len(rows) else {}
    out = []
    for row in rows.itertuples():
        value, summary, since = describe(row)
        out.append(Finding(key=f"order:{row.order_number}", severity=c.severity or severity,
                           value=value, summary=summary, labels=_order_labels(ev, row, operators),
                           since=since))
    return out


def _overdue(ev: Evaluation, c: Condition) -> list[Finding]:
    rows = queries.read_frame(ev.engine, _statement(ev, "overdue_now", c))

    def describe(row):
        late_s = (ev.now - row.promised_at).total_seconds()
        text = f"overdue by {_hours(late_s)} (promised {row.promised_at:%Y-%m-%d %H:%M} UTC)"
        return late_s / 3600, text, row.promised_at

    return _order_findings(ev, c, rows, "critical", describe)


def _due_soon(ev: Evaluation, c: Condition) -> list[Finding]:
    o = orders.c
    codes = flow_codes(ev.pipeline)
    near_end = c.near_end if c.near_end is not None else tuple(codes[-1:])
    stmt = select(*order_columns()).where(
        *populations.wip_conditions(ev.now, codes), *queries.filter_conditions(c.filters.active()),
        o.promised_at >= ev.now, o.promised_at < ev.now + timedelta(seconds=c.within_s),
        o.current_stage.not_in(list(near_end) or [""]),
    )
    rows = queries.read_frame(ev.engine, stmt)

    def describe(row):
        left_s = (row.promised_at - ev.now).total_seconds()
        return left_s / 3600, f"due in {_hours(left_s)}, still in {row.current_stage}", \
            row.promised_at - timedelta(seconds=c.within_s)

    return _order_findings(ev, c, rows, "warning", describe)


def _at_risk(ev: Evaluation, c: Condition) -> list[Finding]:
    window = Window.last_days(c.window_days, ev.now, ev.pipeline.timezone)
    rows = orders_behind(ev.engine, ev.pipeline, "at_risk", window, c.filters, ev.now)

    def describe(row):
        left_s = (row.promised_at - ev.now).total_seconds()
        return left_s / 3600, (f"at risk: promised in {_hours(left_s)}, typical remaining time "
                               f"from {row.current_stage} is longer"), None

    return _order_findings(ev, c, rows, "warning", describe)


def _exception_open(ev: Evaluation, c: Condition) -> list[Finding]:
    x = exceptions.c
    stmt = (
        select(*order_columns(), x.id.label("exception_id"), x.stage_code.label("exception_stage"),
               x.kind, x.severity.label("exception_severity"), raw(x.opened_at),
               x.owner.label("exception_owner"))
        .select_from(exceptions).join(orders, orders.c.id == x.order_id)
        .where(*populations.open_exception_conditions(ev.now), x.acknowledged_at.is_(None),
               x.opened_at <= ev.now - timedelta(seconds=c.after_s),
               *queries.filter_conditions(c.filters.active()))
    )
    rows = queries.read_frame(ev.engine, stmt)
    if c.stages:
        rows = rows.loc[rows["exception_stage"].isin(list(c.stages))]
    operators = current_operators(ev.engine, rows["order_id"].tolist()) if len(rows) else {}
    out = []
    for row in rows.itertuples():
        open_s = (ev.now - row.opened_at).total_seconds()
        labels = _order_labels(ev, row, operators)
        stage = _text(row.exception_stage)
        labels.update(exception=str(row.exception_id), exception_owner=_text(row.exception_owner),
                      kind=str(row.kind), stage=stage or labels["stage"])
        if stage:
            labels["department"] = _department(ev.pipeline, stage)
        severity = "critical" if str(row.exception_severity).lower() in SEVERE_EXCEPTIONS else "warning"
        out.append(Finding(
            key=f"exception:{row.exception_id}", severity=c.severity or severity, value=open_s / 3600,
            summary=f"{row.kind} ({row.exception_severity}) open {_hours(open_s)}, not acknowledged",
            labels=labels, since=row.opened_at + timedelta(seconds=c.after_s)))
    return out


def _department(pipeline: Pipeline, stage: str) -> str:
    try:
        return pipeline.stage(stage).department
    except KeyError:
        return ""


def breaches(value: float | None, c: Condition, catalog: Catalog) -> bool:
    """Whether a metric value breaks the condition's threshold (a missing value never does)."""
    if value is None or pd.isna(value):
        return False
    if c.above is not None:
        return value > c.above
    if c.below is not None:
        return value < c.below
    level = catalog.level(str(c.metric), value)
    return level == "critical" or (c.level == "warning" and level == "warning")


def _metric(ev: Evaluation, c: Condition) -> list[Finding]:
    metric = ev.catalog[str(c.metric)]
    summary = ev.summary(c.window_days, c.filters)
    threshold = (f"> {c.above:g}" if c.above is not None else f"< {c.below:g}" if c.below is not None
                 else f"at {c.level} level")
    out = []
    if not c.per_stage:
        value = metric.read(summary)
        if value is not None and breaches(value, c, ev.catalog):
            out.append(Finding(
                key=f"scope:{c.scope_text}", severity=c.severity or _level_severity(ev, c, value),
                value=float(value), summary=f"{metric.label_en} {value:.4g} {threshold}",
                labels={"metric": metric.name, "scope": c.scope_text}))
        return out
    for row in summary.stages.itertuples():
        if c.stages and row.code not in c.stages:
            continue
        value = metric.read_stage(row)
        if value is not None and breaches(value, c, ev.catalog):
            out.append(Finding(
                key=f"stage:{row.code}|{c.scope_text}", severity=c.severity or _level_severity(ev, c, value),
                value=float(value), summary=f"{metric.label_en} of {row.code} {value:.4g} {threshold}",
                labels={"metric": metric.name, "scope": c.scope_text, "stage": str(row.code),
                        "department": _department(ev.pipeline, str(row.code))}))
    return out


def _level_severity(ev: Evaluation, c: Condition, value: float) -> str:
    level = ev.catalog.level(str(c.metric), value)
    return "critical" if level == "critical" else "warning"


def evaluate_at(engine: Engine, pipeline: Pipeline, catalog: Catalog, conditions: Mapping[str, Condition],
                now: datetime) -> dict[str, list[Finding]]:
    """The findings of every named condition as of ``now``, reading the store once per
    population (a metric summary once per window and scope)."""
    ev = Evaluation(engine, pipeline, catalog, as_utc(now))
    return {name: evaluate(ev, c) for name, c in conditions.items()}

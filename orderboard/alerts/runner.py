"""One alert evaluation: read every rule's findings (``metrics.alert_rules``), move the
instances' states (``states.plan``, written in one transaction), then tell what is due
(``dispatch``). The worker runs it every ``[alerts] interval`` (default a minute);
``orderboard alerts check --once`` runs it now.

A store that cannot be read or written is one "data unavailable" notice per channel,
and no state changes at all: all reads happen before any write, and the writes are one
transaction. When it answers again, each channel told is told once that the data is
available again. Which channels were told is kept with the store (``outage``), not in
the process: another evaluator, or this one restarted, tells nobody twice. A restart
keeps everything else too: states, who was told and the group timers live in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from datasource import alert_store
from datasource.settings import Settings
from metrics.alert_rules import evaluate_at
from metrics.catalog import CATALOG, Catalog
from orderboard.alerts.config import AlertConfig
from orderboard.alerts.dispatch import Dispatcher, Outcome
from orderboard.alerts.messages import Message
from orderboard.alerts.outage import ledger_for
from orderboard.alerts.states import plan

log = logging.getLogger(__name__)
STORE_ERRORS = (DBAPIError, PoolTimeout)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RuleCount:
    rule: str
    findings: int = 0
    new_pending: int = 0
    new_firing: int = 0
    resolved: int = 0
    firing: int = 0


@dataclass
class RunReport:
    at: datetime
    rules: list[RuleCount] = field(default_factory=list)
    due: list[Message] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    unavailable: str | None = None  # why the store could not be used
    dry_run: bool = False

    def lines(self) -> list[str]:
        if self.unavailable:
            return [f"data unavailable: {self.unavailable}"]
        out = [f"{r.rule}: {r.findings} holding, {r.new_firing} new firing, {r.new_pending} new pending, "
               f"{r.resolved} resolved" for r in self.rules]
        verb = "would send" if self.dry_run else "sent"
        sent = self.due if self.dry_run else self.outcome.sent
        for m in sent:
            out.append(f"{verb} to {m.channel}: {m.title}")
        for m, why in self.outcome.failed:
            out.append(f"failed to {m.channel}: {m.title} ({why})")
        for m in self.outcome.deferred:
            out.append(f"waiting (limit of {m.channel}): {m.title}")
        if not sent and not self.outcome.failed and not self.outcome.deferred:
            out.append("nothing to send")
        return out


class AlertRunner:
    """Evaluates and notifies. Holds nothing between runs but the dispatcher; whether an
    outage was announced is in the store's outage record (``outage.ledger_for``)."""

    def __init__(self, engine: Engine, settings: Settings, config: AlertConfig, catalog: Catalog | None = None,
                 session: requests.Session | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.config = config
        self.catalog = catalog or CATALOG.with_thresholds(settings.metric_thresholds)
        self.session = session or requests.Session()
        self.clock = clock
        self.outage = ledger_for(engine)
        self._dispatcher: Dispatcher | None = None

    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            secret = alert_store.link_secret(self.engine, self.settings.alert_secret)
            self._dispatcher = Dispatcher(self.engine, self.config, secret, self.settings.public_url, self.session)
        return self._dispatcher

    def run(self, dry_run: bool = False, now: datetime | None = None) -> RunReport:
        now = now or self.clock()
        report = RunReport(now, dry_run=dry_run)
        try:
            self._evaluate(report, now, dry_run)
        except STORE_ERRORS as exc:
            report.unavailable = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            log.warning("alerts: store unavailable: %s", report.unavailable)
            if not dry_run:
                self._tell_unavailable(report.unavailable, now)
            return report
        if not dry_run:
            self._tell_available(now)
        return report

    def _evaluate(self, report: RunReport, now: datetime, dry_run: bool) -> None:
        rules = self.config.rules
        conditions = {r.name: r.condition for r in rules}
        findings = evaluate_at(self.engine, self.settings.pipeline, self.catalog, conditions, now)
        active = alert_store.active_instances(self.engine, list(conditions))
        plans = []
        for rule in rules:
            p = plan(rule.name, rule.kind, active[rule.name], findings[rule.name], rule.for_s, now)
            plans.append(p)
            report.rules.append(RuleCount(
                rule.name, findings=len(findings[rule.name]),
                new_pending=sum(1 for r in p.inserts if r["state"] == "pending"),
                new_firing=sum(1 for r in p.inserts if r["state"] == "firing")
                + sum(1 for r in p.updates if r.get("state") == "firing"),
                resolved=len(p.resolve)))
        dispatcher = self.dispatcher()
        if dry_run:
            with self.engine.connect() as conn:
                trans = conn.begin()
                try:
                    alert_store.apply_plans(conn, plans, now)
                    report.due = dispatcher.due(now, bind=conn)
                finally:
                    trans.rollback()
            return
        alert_store.apply_plans(self.engine, plans, now)
        report.due = dispatcher.due(now)
        report.outcome = dispatcher.deliver(report.due, now)

    def _tell_unavailable(self, why: str, now: datetime) -> None:
        """Tell each channel of the rules, once per outage, that the data is unavailable
        (the delivery cannot be logged in the store now: it is, when it answers again)."""
        used = dict.fromkeys(c for r in self.config.rules for c in r.channels)
        dispatcher = Dispatcher(self.engine, self.config, "", self.settings.public_url, self.session)
        for name in used:
            try:
                if not self.outage.claim(name, now):
                    continue  # told already, by this process or another
            except Exception:  # no record, no notice: telling twice is worse
                log.exception("alerts: the outage record is out of reach; %s not told", name)
                continue
            message = Message(channel=name, kind="data_unavailable",
                              title="OrderBoard 数据不可用 · data unavailable",
                              note=(f"预警暂停: 无法读取订单库 · alerts paused: the order store cannot be read "
                                    f"({why}). No alert fires or resolves until it answers again."))
            try:
                sent = dispatcher.send_direct(name, message, now, log_it=False).ok
            except Exception:
                log.exception("alerts: could not tell %s that data is unavailable", name)
                sent = False
            if not sent:
                self.outage.release(name)  # told on a later run

    def _tell_available(self, now: datetime) -> None:
        """After an outage, tell each channel that was told of it, once, that the data is
        available again; log both notices (the first could not be logged in the outage)."""
        told = self.outage.take_all()
        if not told:
            return
        log.info("alerts: the store answers again; evaluation resumed")
        dispatcher = Dispatcher(self.engine, self.config, "", self.settings.public_url, self.session)
        for name, told_at in sorted(told.items()):
            if name not in self.config.channels:
                continue  # a channel since removed from the configuration
            alert_store.record_delivery(self.engine, alert_store.Delivery(
                channel=name, kind="data_unavailable", group_keys=(), alerts=0, status="sent", attempts=1,
                http_status=None, error_code=None, error=None, recipients="", at=told_at))
            since = told_at.astimezone(ZoneInfo(self.settings.timezone)).strftime("%Y-%m-%d %H:%M")
            message = Message(channel=name, kind="data_available",
                              title="OrderBoard 数据已恢复 · data available again",
                              note=(f"预警恢复: 订单库自 {since} 起无法读取, 现已恢复 · alerts resumed: the order "
                                    f"store could not be read from {since} ({self.settings.timezone}) "
                                    "and answers again."))
            try:
                sent = dispatcher.send_direct(name, message, now).ok
            except Exception:
                log.exception("alerts: could not tell %s that data is available again", name)
                sent = False
            if not sent:
                self.outage.restore(name, told_at)  # told on a later run

    def job_run(self) -> None:
        """The scheduled job: never raises (the scheduler must keep running)."""
        try:
            report = self.run()
        except Exception:
            log.exception("alert evaluation failed")
            return
        for line in report.lines():
            log.info("alerts: %s", line)


def alerts_job(settings: Settings, engine: Engine, config: AlertConfig):
    """The ``Job`` that evaluates the alert rules every ``config.interval_s``."""
    from orderboard.jobs import Job

    runner = AlertRunner(engine, settings, config)
    return Job("alerts", runner.job_run, config.interval_s, "alert evaluation and notification")

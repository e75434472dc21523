"""Who is told what, when: routing, grouping, timers, silences, escalation, and delivery
under each channel's limit (Alertmanager's model, kept in the store).

For each rule and channel, alerts are grouped by the rule's ``group_by`` labels (none:
one group per rule and channel). A group is due:

- with alerts never told (or that turned critical since): at once when the group has
  never sent (after ``group_wait`` from the oldest of them), else ``group_interval``
  after its last message;
- with alerts still firing, unacknowledged, told more than ``repeat_interval`` ago, or
  alerts resolved since they were told: ``group_interval`` after its last message.

A due group's message lists all of them (new, still firing, resolved: one grouped
notice). Silenced alerts are not told (they are when the silence ends, if still firing).
Acknowledged alerts are neither repeated nor escalated. Escalation step n goes to its own
channels once an alert has fired ``after`` without acknowledgement.

Messages routed to a channel beyond its limit are merged into digests
(``ratelimit.fit``); a channel with no room left sends nothing now, and the due groups
stay due. A failed delivery is logged and its group retried with backoff (1, 2, 4 ...
up to 60 minutes); nothing is marked told until a delivery succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

import requests

from datasource import alert_silences, alert_store
from datasource.alert_links import ack_url
from orderboard.alerts import channels as channel_io
from orderboard.alerts.config import AlertConfig, AlertRule
from orderboard.alerts.messages import Item, Message
from orderboard.alerts.ratelimit import capacity, fit

log = logging.getLogger(__name__)

TARGET_LABEL = {"order_owner": "owner", "stage_department": "department",
                "stage_operator": "operator", "exception_owner": "exception_owner"}
IN_TICK_RETRIES = 2  # attempts within one run for a network error or 5xx; then backoff
BACKOFF_START_S, BACKOFF_MAX_S = 60.0, 3600.0


def responsible(rule_to: Sequence[str], mention: Sequence[str], labels: Mapping[str, str]) -> tuple[str, ...]:
    """The names an alert is for: the labels its targets name, then fixed mentions."""
    names = [labels.get(TARGET_LABEL[t], "") for t in rule_to] + list(mention)
    return tuple(dict.fromkeys(n for n in names if n))


def silenced(row: Mapping, silences: Sequence[Mapping]) -> bool:
    facts = {**{k: str(v) for k, v in row["labels"].items()}, "rule": row["rule"], "severity": row["severity"]}
    return any(all(fnmatchcase(facts.get(k, ""), str(v)) for k, v in s["matchers"].items())
               for s in silences)


@dataclass
class Outcome:
    """What a run did with messages (for the command line and the tests)."""

    sent: list[Message] = field(default_factory=list)
    failed: list[tuple[Message, str]] = field(default_factory=list)
    deferred: list[Message] = field(default_factory=list)  # no room under the channel's limit


class Dispatcher:
    def __init__(self, engine, config: AlertConfig, secret: str, public_url: str,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.config = config
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.session = session or requests.Session()
        self.sleep = sleep

    # --- what is due -------------------------------------------------------------

    def due(self, now: datetime, bind=None) -> list[Message]:
        """Every message due at ``now`` (reads only)."""
        bind = bind if bind is not None else self.engine
        silences = alert_silences.active_silences(bind, now)
        out: list[Message] = []
        for rule in self.config.rules:
            firing_any: dict[int, dict] = {}
            for channel in rule.channels:
                firing = alert_store.firing_to_tell(bind, rule.name, channel)
                firing_any.update({r["id"]: r for r in firing})
                resolved = alert_store.resolved_to_tell(bind, rule.name, channel)
                out += self._group_messages(bind, rule, channel, firing, resolved, silences, now)
            out += self._escalations(rule, list(firing_any.values()), silences, now)
        return out

    def _group_messages(self, bind, rule: AlertRule, channel: str, firing: list[dict], resolved: list[dict],
                        silences, now: datetime) -> list[Message]:
        groups: dict[str, dict[str, list[Item]]] = {}
        oldest_new: dict[str, datetime] = {}
        repeat_after = timedelta(seconds=rule.repeat_interval_s)
        for row in firing:
            if row["acknowledged_at"] is not None or silenced(row, silences):
                continue
            told = row["told_at"]
            if told is None or told < row["fired_at"]:
                status = "firing"
            elif now - told >= repeat_after:
                status = "repeat"
            else:
                continue
            key = self.group_key(rule, channel, row["labels"])
            groups.setdefault(key, {}).setdefault(status, []).append(self.item(rule, row, status))
            if status == "firing":
                oldest_new[key] = min(oldest_new.get(key, row["fired_at"]), row["fired_at"])
        for row in resolved:
            key = self.group_key(rule, channel, row["labels"])
            groups.setdefault(key, {}).setdefault("resolved", []).append(self.item(rule, row, "resolved"))
        if not groups:
            return []
        timers = alert_store.group_timers(bind, list(groups))
        out = []
        for key, by_status in sorted(groups.items()):
            timer = timers.get(key, {})
            if timer.get("retry_at") is not None and now < timer["retry_at"]:
                continue
            last = timer.get("last_sent_at")
            if last is None:
                due = key in oldest_new and now - oldest_new[key] >= timedelta(seconds=rule.group_wait_s)
                due = due or ("resolved" in by_status)
            else:
                due = now - last >= timedelta(seconds=rule.group_interval_s)
            if due:
                items = [i for status in ("firing", "repeat", "resolved") for i in by_status.get(status, [])]
                out.append(self.message(channel, rule, items, (key,)))
        return out

    def _escalations(self, rule: AlertRule, firing: list[dict], silences, now: datetime) -> list[Message]:
        out = []
        for step_no, step in enumerate(rule.escalation, start=1):
            rows = [r for r in firing if r["acknowledged_at"] is None and r["escalated"] < step_no
                    and now - r["fired_at"] >= timedelta(seconds=step.after_s) and not silenced(r, silences)]
            if not rows:
                continue
            for channel in step.channels:
                items = [self.item(rule, r, "escalation", step.to or rule.to, step.mention) for r in rows]
                key = f"{rule.name}|escalate{step_no}|{channel}"
                message = self.message(channel, rule, items, (key,), kind="escalation")
                out.append(message)
        return out

    def group_key(self, rule: AlertRule, channel: str, labels: Mapping[str, str]) -> str:
        parts = [rule.name, channel] + [f"{label}={labels.get(label, '')}" for label in rule.group_by]
        return "|".join(parts)[:300]

    def item(self, rule: AlertRule, row: Mapping, status: str, to: Sequence[str] | None = None,
             mention: Sequence[str] = ()) -> Item:
        return Item(
            id=int(row["id"]), rule=rule.name, status=status, severity=row["severity"], summary=row["summary"],
            labels=dict(row["labels"]), fired_at=row["fired_at"], resolved_at=row["resolved_at"],
            ack_url=ack_url(self.public_url, self.secret, int(row["id"])),
            people=responsible(rule.to if to is None else to, (*rule.mention, *mention), row["labels"]),
            rule_kind=rule.kind,
        )

    def message(self, channel: str, rule: AlertRule, items: list[Item], keys: tuple[str, ...],
                kind: str | None = None) -> Message:
        counts = {s: sum(1 for i in items if i.status == s) for s in ("firing", "repeat", "resolved", "escalation")}
        if kind is None:
            kind = "firing" if counts["firing"] or counts["repeat"] else "resolved"
        said = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        return Message(channel=channel, kind=kind, title=f"OrderBoard 预警 {rule.name}: {said}",
                       items=tuple(items), group_keys=keys,
                       people=tuple(dict.fromkeys(p for i in items for p in i.people)),
                       alerts_url=f"{self.public_url}/alerts")

    # --- delivery ------------------------------------------------------------------

    def deliver(self, messages: Iterable[Message], now: datetime) -> Outcome:
        """Send ``messages`` within each channel's limit, log every delivery, record who
        was told."""
        outcome = Outcome()
        by_channel: dict[str, list[Message]] = {}
        for m in messages:
            by_channel.setdefault(m.channel, []).append(m)
        for name, queued in by_channel.items():
            channel = self.config.channels[name]
            longest = max(seconds for _, seconds in channel.limits)
            sent = alert_store.sent_since(self.engine, name, now - timedelta(seconds=longest))
            room = capacity(channel.limits, sent, now)
            batch = fit(queued, room)
            if not batch:
                outcome.deferred += queued
                log.warning("alerts: %s has reached its limit; %s messages wait", name, len(queued))
                continue
            for message in batch:
                self._deliver_one(channel, message, now, outcome)
        return outcome

    def _deliver_one(self, channel, message: Message, now: datetime, outcome: Outcome) -> None:
        attempts = 0
        while True:
            attempts += 1
            result = channel_io.send(self.session, channel, message, self.config.contacts, now,
                                     self.config.max_lines)
            network = result.error_code == "network" or (result.http_status or 0) >= 500
            if result.ok or not (result.retryable and network) or attempts >= IN_TICK_RETRIES:
                break
            self.sleep(0.5 * attempts)
        timer_failures = alert_store.group_timers(self.engine, list(message.group_keys))
        failures = max((t.get("failures", 0) for t in timer_failures.values()), default=0)
        backoff = result.retry_after_s or min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** failures)
        told = tuple((i.id, i.status, ", ".join(i.people)) for i in message.items) if result.ok else ()
        alert_store.record_delivery(self.engine, alert_store.Delivery(
            channel=channel.name, kind=message.kind, group_keys=message.group_keys, alerts=len(message.items),
            status="sent" if result.ok else "failed", attempts=attempts, http_status=result.http_status,
            error_code=result.error_code, error=result.error, recipients=", ".join(message.people),
            at=now, told=told, retry_after_s=backoff))
        if result.ok:
            outcome.sent.append(message)
            for step in sorted({int(k.split("|escalate", 1)[1].split("|")[0]) for k in message.group_keys
                                if "|escalate" in k}):
                alert_store.mark_escalated(self.engine, [i.id for i in message.items if i.status == "escalation"], step)
        else:
            outcome.failed.append((message, f"{result.error_code}: {result.error}"))
            log.warning("alerts: delivery to %s failed (%s %s); retry in %.0f s", channel.name,
                        result.error_code, result.error, backoff)

    def send_direct(self, channel_name: str, message: Message, now: datetime,
                    log_it: bool = True) -> channel_io.SendResult:
        """Send one message as it is (a test, or a notice while the store is down: then
        ``log_it`` is off and the delivery goes to the process log only)."""
        channel = self.config.channels[channel_name]
        result = channel_io.send(self.session, channel, message, self.config.contacts, now, self.config.max_lines)
        if log_it:
            alert_store.record_delivery(self.engine, alert_store.Delivery(
                channel=channel.name, kind=message.kind, group_keys=(), alerts=0,
                status="sent" if result.ok else "failed", attempts=1, http_status=result.http_status,
                error_code=result.error_code, error=result.error, recipients="", at=now))
        log.info("alerts: %s to %s: %s", message.kind, channel_name, "sent" if result.ok else
                 f"failed ({result.error_code} {result.error})")
        return result

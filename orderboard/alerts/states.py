"""Instance states, like Grafana's: normal -> pending (while the condition has held for
less than the rule's ``for``) -> firing -> resolved.

``plan`` is pure: the active instances of a rule and its findings now give the rows to
insert, update, resolve and drop. A pending instance whose condition stops holding is
dropped (it never fired, nobody was told); a firing one is resolved. An instance is
written again only when its state or severity changes; one that turns critical fires
anew (``fired_at`` moves), so it is told again. A resolved thing
whose condition holds again starts a new instance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from datasource.alert_store import Plan
from metrics.alert_rules import Finding


def plan(rule: str, rule_kind: str, active: Mapping[str, dict], findings: Sequence[Finding],
         for_s: float, now: datetime) -> Plan:
    out = Plan(rule, rule_kind)
    seen: set[str] = set()
    for f in findings:
        if f.key in seen:  # the same thing twice (two visits of an order): once
            continue
        seen.add(f.key)
        current = active.get(f.key)
        facts = {"severity": f.severity, "value": f.value, "summary": f.summary, "labels": f.labels,
                 "evaluated_at": now}
        if current is None:
            # The condition began to hold at ``since`` when the data says so (an order
            # over its SLA for an hour already has waited its ``for``), else now.
            started = min(f.since, now) if f.since is not None else now
            firing = now - started >= timedelta(seconds=for_s)
            out.inserts.append({"key": f.key, **facts, "state": "firing" if firing else "pending",
                                "started_at": started, "fired_at": now if firing else None,
                                "resolved_at": None, "acknowledged_at": None, "acknowledged_by": None})
            continue
        change = {"id": current["id"], **facts}
        if current["state"] == "pending" and now - current["started_at"] >= timedelta(seconds=for_s):
            change.update(state="firing", fired_at=now)
        elif f.severity != current["severity"]:
            if current["state"] == "firing" and f.severity == "critical":
                change["fired_at"] = now  # worse now: told again as a new firing
        else:
            continue  # nothing changed: no write (the summary stays as of firing)
        out.updates.append(change)
    for key, current in active.items():
        if key not in seen:
            (out.resolve if current["state"] == "firing" else out.drop).append(current["id"])
    return out

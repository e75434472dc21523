"""Silences of alerts: set, listed, ended (DESIGN.md section 5a).

A silence holds back the alerts whose labels match every matcher (``{label: value}``,
``*`` wildcards; ``rule`` and ``severity`` count as labels) from ``starts_at`` until
``ends_at``. Who set it and why are kept on the row. Setting and ending one are changes
of who is told, so each also goes to the audit log (``audit_log``: actor, action
``alert_silence`` / ``alert_unsilence``, target ``silence:<id>``), in the same
transaction: ending a silence moves its ``ends_at`` to the moment it was ended and the
audit entry says who ended it and until when it would have run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select, update

from datasource.alert_store import Bind, reading, writing
from datasource.schema import AlertSilence, AuditEntry

silences = cast(Table, AlertSilence.__table__)
audit = cast(Table, AuditEntry.__table__)
SET, ENDED = "alert_silence", "alert_unsilence"


def _json(matchers: Mapping[str, str]) -> str:
    return json.dumps(dict(matchers), ensure_ascii=False, sort_keys=True)


def _row(row: Mapping) -> dict:
    out = dict(row)
    out["matchers"] = json.loads(out["matchers"] or "{}")
    return out


def add_silence(bind: Bind, matchers: Mapping[str, str], ends_at: datetime, created_by: str,
                comment: str, now: datetime) -> int:
    """Store a silence from ``now`` until ``ends_at``; its id."""
    with writing(bind) as conn:
        silence_id = int(conn.execute(insert(silences).values(
            matchers=_json(matchers), starts_at=now, ends_at=ends_at, created_by=created_by[:64],
            comment=comment).returning(silences.c.id)).scalar_one())
        conn.execute(insert(audit).values(
            at=now, actor=created_by[:64], action=SET, target=f"silence:{silence_id}",
            detail=json.dumps({"matchers": dict(matchers), "until": ends_at.isoformat(), "why": comment},
                              ensure_ascii=False)))
    return silence_id


def active_silences(bind: Bind, now: datetime) -> list[dict]:
    """Silences in force at ``now`` (started, not ended), oldest first: id, matchers (dict),
    starts_at, ends_at, created_by, comment."""
    s = silences.c
    stmt = select(silences).where(s.starts_at <= now, s.ends_at > now).order_by(s.id)
    with reading(bind) as conn:
        return [_row(r) for r in conn.execute(stmt).mappings()]


def silence(bind: Bind, silence_id: int) -> dict | None:
    """One silence by id, whatever its state."""
    with reading(bind) as conn:
        found = conn.execute(select(silences).where(silences.c.id == silence_id)).mappings().first()
    return None if found is None else _row(found)


@dataclass(frozen=True)
class Unsilenced:
    """What ``end_silence`` did: ``ended`` (it was in force and now is not), else why not:
    ``missing`` (no such silence) or the silence as it is (already over, or not begun)."""

    ended: bool
    silence: dict | None

    @property
    def missing(self) -> bool:
        return self.silence is None


def end_silence(bind: Bind, silence_id: int, by: str, now: datetime) -> Unsilenced:
    """End a silence now: its ``ends_at`` becomes ``now`` and the audit log records who
    ended it (``by``) and until when it would have run. Only a silence in force is ended
    (one that is over stays as it was); two people ending it at once end it once."""
    s = silences.c
    with writing(bind) as conn:
        found = conn.execute(select(silences).where(s.id == silence_id)).mappings().first()
        if found is None:
            return Unsilenced(False, None)
        before = _row(found)
        changed = conn.execute(update(silences).where(s.id == silence_id, s.starts_at <= now, s.ends_at > now)
                               .values(ends_at=now)).rowcount
        if not changed:
            return Unsilenced(False, before)
        conn.execute(insert(audit).values(
            at=now, actor=(by or "—")[:64], action=ENDED, target=f"silence:{silence_id}",
            detail=json.dumps({"matchers": before["matchers"], "was_until": before["ends_at"].isoformat()},
                              ensure_ascii=False)))
    return Unsilenced(True, {**before, "ends_at": now})


def silence_endings(bind: Bind, silence_ids: list[int]) -> dict[int, dict]:
    """Who ended each of these silences and when ({id: {"by", "at"}}), from the audit log."""
    a = audit.c
    targets = [f"silence:{i}" for i in silence_ids]
    if not targets:
        return {}
    stmt = select(a.target, a.actor, a.at).where(a.action == ENDED, a.target.in_(targets)).order_by(a.at)
    with reading(bind) as conn:
        return {int(t.split(":", 1)[1]): {"by": actor, "at": at} for t, actor, at in conn.execute(stmt)}

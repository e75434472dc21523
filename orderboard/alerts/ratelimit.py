"""Per-channel sending limits, counted from the delivery log (``alert_deliveries``), so a
restart, a second process or ``orderboard alerts check --once`` all see the same count.

``capacity`` is how many messages may go now under every (messages, seconds) window of a
channel; when more are due, ``fit`` merges them into that many digests (nothing is
dropped: every alert of every message is in one of the digests).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from orderboard.alerts.messages import Message

PRIORITY = {"escalation": 0, "firing": 1, "data_unavailable": 1, "test": 1, "resolved": 2, "data_available": 2}


def capacity(limits: Sequence[tuple[int, float]], sent: Sequence[datetime], now: datetime) -> int:
    """Messages that may be sent at ``now`` without passing any window's limit."""
    room = None
    for limit, seconds in limits:
        since = now - timedelta(seconds=seconds)
        used = sum(1 for t in sent if t > since)
        room = limit - used if room is None else min(room, limit - used)
    return max(0, room if room is not None else 1_000_000)


def fit(messages: Sequence[Message], room: int) -> list[Message]:
    """``messages`` as at most ``room`` messages: as they are when they fit, else merged
    into ``room`` digests of about equal size (escalations first, resolved last)."""
    if room <= 0:
        return []
    if len(messages) <= room:
        return list(messages)
    ordered = sorted(messages, key=lambda m: PRIORITY.get(m.kind, 1))
    parts: list[list[Message]] = [[] for _ in range(room)]
    for n, message in enumerate(ordered):
        parts[n * room // len(ordered)].append(message)
    return [p[0].merged_with(p[1:]) for p in parts if p]

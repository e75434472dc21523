"""Silences as the command line shows them (``orderboard alerts silences``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

TIME_FORMAT = "%Y-%m-%d %H:%M"


def matcher_text(matchers: Mapping[str, str]) -> str:
    """``rule=sla stage=produced`` (sorted by label)."""
    return " ".join(f"{k}={v}" for k, v in sorted(matchers.items()))


def local(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime(TIME_FORMAT)


def silence_lines(rows: Sequence[Mapping], tz: ZoneInfo) -> list[str]:
    """One line per silence: id, matchers, until when (local time), who set it, why."""
    if not rows:
        return ["no active silences"]
    return [f"silence {r['id']}: {matcher_text(r['matchers'])} until {local(r['ends_at'], tz)} ({tz.key}), "
            f"by {r['created_by']}" + (f": {r['comment']}" if r["comment"] else "") for r in rows]


def silence_records(rows: Sequence[Mapping]) -> list[dict]:
    """The silences as JSON-ready records (instants in ISO 8601 UTC)."""
    return [{"id": int(r["id"]), "matchers": dict(r["matchers"]), "starts_at": r["starts_at"].isoformat(),
             "ends_at": r["ends_at"].isoformat(), "created_by": r["created_by"], "comment": r["comment"]}
            for r in rows]

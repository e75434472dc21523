"""Option values of the command line, checked before anything is opened.

Each check returns the parsed value or raises ``BadInput`` whose text is one line in the
terms the user typed (``--from 2026-13-01 is not a date (YYYY-MM-DD)``), never a Python
message or a UTC instant the user did not write.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LANGS = ("zh", "en")
REPORT_FORMATS = ("pdf", "xlsx")
# date.fromisoformat alone also takes 20261101 and 2026-W45-1.
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadInput(ValueError):
    """An option value the command cannot use; ``str()`` is one line for the user."""


def parse_day(option: str, text: str) -> date:
    """A local calendar day written ``YYYY-MM-DD``."""
    try:
        if not DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} {text} is not a date (YYYY-MM-DD)") from None


def check_days(first: date, last: date, first_text: str, last_text: str) -> None:
    """A range of days must not run backwards; reported in the days as typed (or defaulted)."""
    if first > last:
        raise BadInput(f"--from {first_text} is after --to {last_text}")


def metrics_days(date_from: str | None, date_to: str | None, now: datetime, tz: str,
                 now_given: bool = False) -> tuple[date, date]:
    """First and last local day of ``orderboard metrics``: ``--to`` defaults to the day of
    ``now`` in ``tz``, ``--from`` to six days before ``--to`` (a week)."""
    last = parse_day("--to", date_to) if date_to else now.astimezone(ZoneInfo(tz)).date()
    first = parse_day("--from", date_from) if date_from else last - timedelta(days=6)
    if date_to:
        to_text = date_to
    else:
        to_text = f"{last} (the day of --now)" if now_given else f"{last} (today)"
    check_days(first, last, date_from or str(first), to_text)
    return first, last


def report_period(week: str | None, date_from: str | None,
                  date_to: str | None) -> tuple[str | None, str | None, str | None]:
    """``(week, from, to)`` of ``orderboard report``: an ISO week, or both days of a range."""
    if week and (date_from or date_to):
        raise BadInput("give --week or --from/--to, not both")
    if bool(date_from) != bool(date_to):
        raise BadInput("give both --from and --to (or --week)")
    if date_from and date_to:
        check_days(parse_day("--from", date_from), parse_day("--to", date_to), date_from, date_to)
        return None, date_from, date_to
    return (parse_week(week) if week else None), None, None


def parse_week(text: str) -> str:
    """An ISO week ``YYYY-Www`` (``2026-W47``) that exists; returned in that spelling."""
    year, sep, week = text.upper().partition("-W")
    try:
        if not (sep and len(year) == 4 and len(week) == 2):
            raise ValueError(text)
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise BadInput(f"--week {text} is not an ISO week (YYYY-Www, e.g. 2026-W47)") from None
    return f"{year}-W{week}"


def parse_now(text: str) -> datetime:
    """An instant with its zone, e.g. ``2026-11-21T08:00:00+08:00``."""
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--now {text} is not an ISO instant (e.g. 2026-11-21T08:00:00+08:00)") from None
    if now.tzinfo is None:
        raise BadInput(f"--now {text} has no time zone (e.g. 2026-11-21T08:00:00+08:00)")
    return now


def check_lang(text: str) -> str:
    if text not in LANGS:
        raise BadInput(f"--lang {text} is not a language of OrderBoard: choose {' or '.join(LANGS)}")
    return text


def report_format(out: Path, fmt: str | None) -> str:
    """The report format: the suffix of ``--out`` decides; ``--format``, when given, must agree."""
    suffix = out.suffix.lower().lstrip(".")
    if fmt is not None and fmt.lower() not in REPORT_FORMATS:
        raise BadInput(f"--format {fmt} is not a report format: choose {' or '.join(REPORT_FORMATS)}")
    if suffix not in REPORT_FORMATS:
        raise BadInput(f"--out {out}: the file name must end in "
                       f"{' or '.join('.' + f for f in REPORT_FORMATS)}")
    if fmt is not None and fmt.lower() != suffix:
        raise BadInput(f"--format {fmt} does not match --out {out}; drop --format or change the suffix")
    return suffix

"""Bounds on the work one web request can ask for, declared as data.

Anyone who can open a page can send any request: a grid block of ten million rows, a
review of thirty years, a body of gigabytes, NUL bytes in a filter. Each is refused (or
cut, with a message on screen) before it costs more than a normal page does. Longer
periods and whole lists are the command line's work (``orderboard report --from --to``,
``orderboard metrics --from --to``), where nobody else waits behind them. README's
"Limits" section lists each of these (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from werkzeug.exceptions import BadRequest

from dashboard.url_state import MAX_DAYS

MAX_GRID_BLOCK_ROWS = 500          # rows in one grid block request (the grid asks for 50)
MAX_GRID_START_ROW = 10_000_000    # the first row a grid block may start at
MAX_EXPORT_ROWS = 50_000           # rows in one stage-list export (CSV or XLSX)
MAX_REVIEW_DAYS = 92               # a review page's period (a quarter); its trend covers 8 periods
MAX_LIST_DAYS = MAX_DAYS           # a stage list's date range (the same bound as ?days=)
MAX_REQUEST_BYTES = 2 * 1024 * 1024  # request body (Flask MAX_CONTENT_LENGTH)


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    help: str


LIMITS: tuple[Limit, ...] = (
    Limit("MAX_GRID_BLOCK_ROWS", MAX_GRID_BLOCK_ROWS, "rows per grid block request; more is a 400"),
    Limit("MAX_GRID_START_ROW", MAX_GRID_START_ROW, "first row of a grid block; further is a 400"),
    Limit("MAX_EXPORT_ROWS", MAX_EXPORT_ROWS,
          "rows per stage-list export; a longer list exports its first rows and says so on screen"),
    Limit("MAX_REVIEW_DAYS", MAX_REVIEW_DAYS,
          "days in a review page's period; longer periods: orderboard report --from --to"),
    Limit("MAX_LIST_DAYS", MAX_LIST_DAYS,
          "days in a stage list's from..to range; longer ranges: orderboard metrics --from --to"),
    Limit("MAX_REQUEST_BYTES", MAX_REQUEST_BYTES, "bytes in a request body; more is a 413"),
)


class RangeTooLong(ValueError):
    """A page was asked for a longer period than it computes; the message says where to
    get it instead, and the parts are kept for a page to say it in its own language."""

    def __init__(self, first: date, last: date, days: int, max_days: int, instead: str) -> None:
        super().__init__(f"{first.isoformat()}..{last.isoformat()} is {days} days, longer than the "
                         f"{max_days} days a page computes; for longer periods use `{instead}`")
        self.parts = {"first": first.isoformat(), "last": last.isoformat(), "days": days,
                      "max_days": max_days, "instead": instead}


def check_range(first: date, last: date, max_days: int, instead: str) -> None:
    """Raise ``RangeTooLong`` when ``first..last`` (both included) spans more than
    ``max_days`` days."""
    days = (last - first).days + 1
    if days > max_days:
        raise RangeTooLong(first, last, days, max_days, instead)


def bad_request(message: str) -> BadRequest:
    """A 400 with a short message (no stack trace, no internals)."""
    return BadRequest(message)

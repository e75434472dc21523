"""The words of the weekly review shared by the page, the PDF and the workbook: titles,
the period in words, and the note for a period without completed orders."""

from __future__ import annotations

from datetime import datetime

from dashboard import words
from metrics.review import WeeklyReport


def word(key: str, lang: str) -> str:
    """A word of the review (``dashboard.words.review``)."""
    return words.word("review", key, lang)


def period_text(report: WeeklyReport) -> str:
    """"2026-W47 · 2026-11-16 – 2026-11-22" (or just the dates for a range)."""
    days = f"{report.first_day:%Y-%m-%d} – {report.last_day:%Y-%m-%d}"
    return days if ".." in report.label else f"{report.label} · {days}"


def previous_text(report: WeeklyReport) -> str:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(report.timezone)
    w = report.previous_window
    first = w.start.astimezone(zone).date()
    last = (w.end - timedelta(microseconds=1)).astimezone(zone).date()
    return f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"


def empty_note(report: WeeklyReport, lang: str) -> str | None:
    """The note shown instead of rates when nothing was completed in the period."""
    if report.has_orders:
        return None
    return word("no_orders" if "-W" in report.label else "no_orders_range", lang)


def generated_text(report: WeeklyReport, moment: datetime | None = None) -> str:
    from zoneinfo import ZoneInfo

    when = (moment or report.now).astimezone(ZoneInfo(report.timezone))
    return f"{when:%Y-%m-%d %H:%M} ({report.timezone})"


def bottleneck_text(report: WeeklyReport, lang: str) -> str:
    code = report.summary.bottleneck
    if not code:
        return word("none", lang)
    row = report.stages.loc[report.stages["code"] == code].iloc[0]
    return str(row["label_en" if lang == "en" else "label_zh"])


def cover_lines(report: WeeklyReport, lang: str) -> list[tuple[str, str]]:
    """(item, value) lines describing the report, for covers and the workbook's first sheet."""
    lines = [
        (word("title", lang), period_text(report)),
        (word("previous", lang), previous_text(report)),
        (word("timezone", lang), report.timezone),
        (word("generated", lang), generated_text(report)),
        (word("bottleneck", lang), bottleneck_text(report, lang)),
    ]
    if report.summary.filters:
        active = report.summary.filters.active()
        lines.append((word("filters", lang), ", ".join(f"{k}={v}" for k, v in active.items())))
    note = empty_note(report, lang)
    if note:
        lines.append(("!", note))
    return lines

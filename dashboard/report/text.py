"""The words of the weekly review shared by the page, the PDF and the workbook: titles,
the period in words, and the note for a period without completed orders."""

from __future__ import annotations

from datetime import datetime

from dashboard.i18n import pick
from metrics.review import WeeklyReport

WORDS: dict[str, tuple[str, str]] = {
    "title": ("每周履约复盘", "Weekly fulfilment review"),
    "period": ("时段", "Period"),
    "previous": ("对比上期", "Compared with"),
    "timezone": ("时区", "Time zone"),
    "generated": ("生成时间", "Generated"),
    "filters": ("筛选", "Filters"),
    "no_orders": ("本周没有签收的订单，因此没有延误率和履约周期。",
                  "No orders completed in this week: delay rate and cycle time have no value."),
    "no_orders_range": ("本期没有签收的订单，因此没有延误率和履约周期。",
                        "No orders completed in this period: delay rate and cycle time have no value."),
    "no_late": ("本期没有延误订单。", "No late orders in this period."),
    "no_exceptions": ("本期没有新增异常。", "No exceptions opened in this period."),
    "definitions": ("指标定义", "Metric definitions"),
    "charts_unavailable": ("图表无法生成", "Charts could not be rendered"),
    "bottleneck": ("瓶颈工序", "Bottleneck stage"),
    "none": ("无", "none"),
}


def word(key: str, lang: str) -> str:
    return pick(WORDS[key], lang)


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

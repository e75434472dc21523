"""The weekly report: written to a folder every Monday and, when configured, emailed.

``write_report`` renders one period to a file (the ``orderboard report`` command and the
job share it). ``run_weekly_report`` writes last week's PDF and XLSX into
``settings.report_dir`` and emails them through ``settings.smtp_url`` to
``settings.report_to`` when both are set. ``weekly_report_job`` wraps it as a cron
``Job`` (default Monday 08:00 in the store's time zone) for ``orderboard.jobs``, which runs
jobs in exactly one process.

SMTP URL: ``smtp://[user[:password]@]host[:port]`` (STARTTLS when the server offers it)
or ``smtps://...`` (TLS from the start); ``?from=address`` sets the sender.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine

from datasource.masking import masked_url
from datasource.settings import Settings
from orderboard.mail import send_mail, sender_of

log = logging.getLogger(__name__)

FORMATS = ("pdf", "xlsx")
DEFAULT_CRON = {"day_of_week": "mon", "hour": 8, "minute": 0}


def render_report(engine: Engine, settings: Settings, week: str | None, fmt: str,
                  now: datetime, lang: str = "en", date_from: str | None = None,
                  date_to: str | None = None) -> tuple[str, bytes]:
    """(period label, bytes) of the report of ISO ``week`` (or the local days
    ``date_from``..``date_to``) in ``fmt`` ("pdf" or "xlsx")."""
    from datetime import date

    from metrics.review import build_weekly_report
    from metrics.window import Window

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    tz = settings.pipeline.timezone
    if date_from or date_to:
        if not (date_from and date_to):
            raise ValueError("give both --from and --to")
        window = Window.between_dates(date.fromisoformat(date_from), date.fromisoformat(date_to), tz)
    else:
        window = Window.iso_week(week or _last_week(now, tz), tz)
    report = build_weekly_report(engine, settings.pipeline, window, now)
    if fmt == "pdf":
        from dashboard.report.pdf import report_pdf

        return report.label, report_pdf(report, lang)
    from dashboard.report.xlsx import report_workbook

    return report.label, report_workbook(report, lang)


def _last_week(now: datetime, tz: str) -> str:
    from metrics.review import last_week

    return last_week(now, tz)


def write_report(engine: Engine, settings: Settings, week: str | None, fmt: str, out: Path,
                 now: datetime, lang: str = "en", **period: str | None) -> str:
    """Render and write atomically (a reader never sees half a file); returns the label."""
    label, data = render_report(engine, settings, week, fmt, now, lang, **period)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(data)
    partial.replace(out)
    return label


@dataclass(frozen=True)
class WeeklyRun:
    week: str
    files: tuple[Path, ...]
    emailed_to: tuple[str, ...]


def run_weekly_report(settings: Settings, engine: Engine, now: datetime | None = None,
                      lang: str = "en") -> WeeklyRun:
    """Write last week's report (PDF and XLSX) into ``settings.report_dir`` and email
    them when ``smtp_url`` and ``report_to`` are both set."""
    now = now or datetime.now(timezone.utc)
    week = _last_week(now, settings.pipeline.timezone)
    folder = Path(settings.report_dir)
    files = []
    for fmt in FORMATS:
        path = folder / f"orderboard-weekly-{week}.{fmt}"
        write_report(engine, settings, week, fmt, path, now, lang)
        files.append(path)
    recipients = tuple(a.strip() for a in (settings.report_to or "").split(",") if a.strip())
    if settings.smtp_url and recipients:
        send_report(settings.smtp_url, recipients, week, files)
    elif settings.smtp_url or recipients:
        log.warning("weekly report not emailed: set both ORDERBOARD_SMTP_URL and ORDERBOARD_REPORT_TO")
    log.info("weekly report %s written to %s", week, folder)
    return WeeklyRun(week, tuple(files), recipients if settings.smtp_url else ())


def report_message(sender: str, recipients: tuple[str, ...], week: str, files: list[Path]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"OrderBoard weekly fulfilment review {week}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(f"The weekly fulfilment review for {week} is attached (PDF and XLSX).\n\n"
                        "-- OrderBoard")
    subtypes = {".pdf": ("application", "pdf"),
                ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    for path in files:
        maintype, subtype = subtypes.get(path.suffix, ("application", "octet-stream"))
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def send_report(smtp_url: str, recipients: tuple[str, ...], week: str, files: list[Path],
                timeout: float = 30) -> None:
    """Email ``files`` to ``recipients`` through the server of ``smtp_url``."""
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://, not {masked_url(smtp_url)!r}")
    send_mail(smtp_url, report_message(sender_of(smtp_url), recipients, week, files), timeout)


def weekly_report_job(settings: Settings, engine: Engine, cron: dict | None = None):
    """The cron ``Job`` (default Monday 08:00, store time zone) that runs the weekly report."""
    from orderboard.jobs import Job

    def run() -> None:
        try:
            run_weekly_report(settings, engine)
        except Exception:
            log.exception("weekly report failed")

    return Job("weekly-report", run, 0, "weekly report (PDF + XLSX, emailed if configured)",
               cron=dict(cron or DEFAULT_CRON), timezone=settings.pipeline.timezone)

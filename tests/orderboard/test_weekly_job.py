"""The scheduled weekly report: last week's PDF and XLSX land in the report folder and are
emailed through SMTP (a local aiosmtpd server started here); the cron job is due on
Monday 08:00 in the store's time zone and runs only in the process holding the job lock."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from datasource.demo import generate, seed_store
from datasource.settings import Settings
from datasource.store_lock import FileJobLock
from orderboard.jobs import registered_jobs, start_scheduler
from orderboard.weekly_job import run_weekly_report, send_report

NOW = datetime(2026, 11, 23, 0, 5, tzinfo=timezone.utc)  # Monday 08:05 in Shanghai


def test_weekly_report_is_written_and_emailed(sqlite_store, tmp_path, smtp_server):
    inbox, port = smtp_server
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=300, end=NOW))
    settings = Settings(database_url=sqlite_store.url, report_dir=str(tmp_path / "reports"),
                        smtp_url=f"smtp://127.0.0.1:{port}?from=board@example.com",
                        report_to="ops@example.com, boss@example.com")
    run = run_weekly_report(settings, sqlite_store.engine, now=NOW)
    assert run.week == "2026-W47"  # the week before Monday 2026-11-23 (local)
    assert [p.name for p in run.files] == ["orderboard-weekly-2026-W47.pdf", "orderboard-weekly-2026-W47.xlsx"]
    assert run.files[0].read_bytes().startswith(b"%PDF")
    assert not list((tmp_path / "reports").glob("*.part"))
    ((sender, recipients, raw),) = inbox.messages
    assert sender == "board@example.com" and recipients == ["ops@example.com", "boss@example.com"]
    message = email.message_from_bytes(raw)
    assert "2026-W47" in message["Subject"]
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.walk()
                   if part.get_filename()}
    assert attachments["orderboard-weekly-2026-W47.pdf"] == run.files[0].read_bytes()
    assert attachments["orderboard-weekly-2026-W47.xlsx"] == run.files[1].read_bytes()


def test_no_email_without_recipients(sqlite_store, tmp_path, smtp_server):
    inbox, port = smtp_server
    settings = Settings(database_url=sqlite_store.url, report_dir=str(tmp_path / "r"),
                        smtp_url=f"smtp://127.0.0.1:{port}")
    run = run_weekly_report(settings, sqlite_store.engine, now=NOW)
    assert run.emailed_to == () and inbox.messages == []
    assert all(p.exists() for p in run.files)  # an empty store still gets its report


def test_bad_smtp_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match="smtp://"):
        send_report("http://mail", ("a@b",), "2026-W47", [])


def test_cron_job_is_due_monday_0800_local_in_one_process(sqlite_store, tmp_path):
    settings = Settings(database_url=sqlite_store.url, report_dir=str(tmp_path / "r"))
    jobs = [j for j in registered_jobs(settings, sqlite_store.engine) if j.id == "weekly-report"]
    assert jobs and jobs[0].cron == {"day_of_week": "mon", "hour": 8, "minute": 0}
    lock = tmp_path / "jobs.lock"
    running = start_scheduler(settings, jobs, lock=FileJobLock(lock))
    assert running is not None
    try:
        due = running.scheduler.get_job("weekly-report").next_run_time.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (due.isoweekday(), due.hour, due.minute) == (1, 8, 0)
        assert start_scheduler(settings, jobs, lock=FileJobLock(lock)) is None  # a second process runs none
    finally:
        running.shutdown()

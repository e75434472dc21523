"""The ``orderboard`` command. Each subcommand parses options and calls one function of
``datasource``, ``metrics``, ``dashboard`` or ``orderboard.jobs``; no logic lives here.

Every error a user can cause is one line on stderr, ``error: ...``, and an exit status
from ``EXIT_STATUS``; a traceback means a bug. Help is click's plain layout: typer's
rich layout shows a flag such as ``--json`` as ``--json <bool>``, as if it took a value.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from datasource.masking import masked_url
from datasource.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from datasource.store import NoStore

T = TypeVar("T")

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_STATUS = ("Exit status: 0 done; 1 refused (no store there, or the file, data or store "
               "could not be used); 2 usage error (unknown option, bad or missing value); "
               "130 interrupted.")


class OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing value) as one line, ``error: ... (see:
    orderboard CMD --help)``, instead of click's usage block."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except typer.TyperException as exc:  # click's errors: all carry an exit code
            ctx = getattr(exc, "ctx", None)
            hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
            message = " ".join(exc.format_message().split())
            typer.echo(f"error: {message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(EXIT_REFUSED)
        # Not standalone, click returns a command's value or the code of typer.Exit.
        sys.exit(code if isinstance(code, int) else EXIT_OK)


app = typer.Typer(
    cls=OneLineErrors,
    help=f"OrderBoard: order-fulfillment operations dashboard.\n\n{EXIT_STATUS}",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def command(name: str | None = None):
    """``app.command`` with the exit statuses at the end of the command's help."""
    return app.command(name, epilog=EXIT_STATUS)


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default sqlite:///orderboard.db or $ORDERBOARD_DATABASE_URL)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML file: pipeline, stages, SLAs, screens.", exists=True, dir_okay=False),
]
LangOption = Annotated[str, typer.Option("--lang", help="Labels: zh or en.")]


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """OrderBoard: order-fulfillment operations dashboard."""
    if ctx.invoked_subcommand is None:  # bare ``orderboard``: the help, not an error
        typer.echo(ctx.get_help())


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_for(db: str | None, config: Path | None) -> Settings:
    """The settings, or one line when the store URL or the configuration cannot be used."""
    import tomllib

    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    from datasource.pipeline import PipelineError
    from datasource.settings import SettingError

    try:
        settings = load_settings(database_url=db, config_file=str(config) if config else None)
    except SettingError as exc:
        fail(str(exc), EXIT_USAGE)
    except (OSError, tomllib.TOMLDecodeError, PipelineError) as exc:
        source = config or os.environ.get("ORDERBOARD_CONFIG")
        fail(f"configuration file {source}: {getattr(exc, 'strerror', None) or exc}")
    if settings.alert_tables:
        from orderboard.alerts.config import AlertConfigError, alert_config

        try:
            alert_config(settings)
        except AlertConfigError as exc:
            fail(f"configuration file {settings.config_file}: {exc}")
    try:
        backend = make_url(settings.database_url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql"):
        fail(f"{masked_url(settings.database_url)} is not a store URL: OrderBoard stores are SQLite or PostgreSQL "
             "(e.g. sqlite:///orderboard.db or postgresql+psycopg://user@host/db)", EXIT_USAGE)
    return settings


def existing_store(settings: Settings) -> Engine:
    """An engine on the configured store for a command that only reads, or one line
    saying there is none and how to make it."""
    from datasource.store import NoStore, open_existing_store

    try:
        return open_existing_store(settings.database_url)
    except NoStore as exc:
        refuse_store(exc)


def read_store(settings: Settings, read: Callable[[Engine], T]) -> T:
    """``read`` on an engine of the configured store (``existing_store``), disposed after."""
    engine = existing_store(settings)
    try:
        return read(engine)
    finally:
        engine.dispose()


def opened_store(settings: Settings, create: bool) -> Engine:
    """``open_store`` on the configured store, or the one line of ``refuse_store``."""
    from datasource.store import NoStore, open_store

    try:
        return open_store(settings.database_url, settings.pipeline, create=create)
    except NoStore as exc:
        refuse_store(exc)


def refuse_store(exc: NoStore) -> NoReturn:
    """One line for a store that cannot be used: unreachable, missing or outdated."""
    from datasource.store import StoreUnreachable

    if isinstance(exc, StoreUnreachable):
        fail(str(exc))
    if exc.outdated:
        fail(f"{exc}; bring it up to date with 'orderboard init' (with the same --db)")
    fail(f"{exc}; create it with 'orderboard init' (then 'orderboard import FILE'), "
         "or run 'orderboard demo' and pass --db sqlite:///orderboard-demo.db")


def checked(check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``, an option value, or a usage error in the terms typed."""
    from orderboard.cli_input import BadInput

    try:
        return check(*args)
    except BadInput as exc:
        fail(str(exc), EXIT_USAGE)


@command()
def init(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create the schema and the stage pipeline (safe to run again)."""
    settings = settings_for(db, config)
    opened_store(settings, create=True).dispose()
    typer.echo(f"initialised {masked_url(settings.database_url)} with stages {', '.join(settings.pipeline.codes)}")


@command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file to import.", metavar="FILE")],
    mapping: Annotated[Path, typer.Option(
            "--mapping",
            help="Mapping TOML: shape, columns, stages (orderboard mapping suggest FILE writes one).")],
    db: DbOption = None,
    config: ConfigOption = None,
    tz: Annotated[str | None, typer.Option(
            "--tz",
            help="Zone of naive timestamps (overrides the mapping's).")] = None,
    rejects: Annotated[Path | None, typer.Option(
            "--rejects",
            help=("Rejects CSV (default ./FILE.rejects.csv); the warnings, when there are any, go beside it "
                  "(FILE.warnings.csv)."))] = None,
    max_rejects: Annotated[int | None, typer.Option(
            "--max-rejects", min=0,
            help="Exit 1 when more rows than this are rejected (default: only when every row is).")] = None,
    wait: Annotated[float, typer.Option(
            "--wait", min=0,
            help="Seconds to wait for another import into the same store to finish.")] = 600.0,
) -> None:
    """Import a CSV/XLSX file (event log or milestones, as the mapping says)."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from datasource.importers import ImportSetupError
    from datasource.importers.run import run_import
    from datasource.store import StoreUnreachable, unreachable

    settings = settings_for(db, config)
    again = "(run the same import again when it is back: rows already stored change nothing)"
    try:
        with import_progress() as (on_start, on_progress):
            report = run_import(settings.database_url, settings.pipeline, file, mapping, tz, rejects,
                                wait_s=wait, on_start=on_start, on_progress=on_progress)
    except ImportSetupError as exc:
        fail(str(exc))
    except StoreUnreachable as exc:  # refused when opening: nothing was written
        fail(f"{exc} {again}")
    except OperationalError as exc:  # batches already stored stay; the same import finishes the job
        fail(f"{unreachable(settings.database_url, exc)} {again}")
    except IntegrityError:  # never the driver's text: it holds the rows (customer data)
        fail("another writer stored the same orders at the same moment; run the same import "
             "again: rows already stored change nothing")
    for line in import_lines(report):
        typer.echo(line)
    rejected = len(report.rejects)
    if report.stored == 0:
        fail(f"nothing imported from {file.name}: " + (
            f"all {rejected} rows were rejected (see {report.rejects_path})" if rejected
            else "it has no data rows"))
    if max_rejects is not None and rejected > max_rejects:
        fail(f"{rejected} rows rejected, more than --max-rejects {max_rejects} (see "
             f"{report.rejects_path}); the other {report.stored} rows are stored")


@contextmanager
def import_progress():
    """A progress bar on stderr while an import runs, when stderr is a terminal: the
    (on_start, on_progress) callbacks ``run_import`` reports to."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
    tasks: list = []

    def on_start(name: str, rows: int) -> None:
        tasks.append(bar.add_task(name, total=rows))

    def on_progress(rows: int) -> None:
        if tasks:
            bar.advance(tasks[0], rows)

    with bar:
        yield on_start, on_progress


def import_lines(report) -> list[str]:
    """What ``orderboard import`` prints after an import (the summary line first)."""
    lines = [report.summary()]
    store = f"store: {report.orders_created} new orders, {report.events_added} new events"
    if report.changes:
        store += (f", {report.orders_changed} orders changed ({report.changes} values; "
                  "see: orderboard history)")
    elif report.stored and not (report.orders_created or report.events_added
                                or report.findings_added or report.orders_changed):
        store += "; everything was already stored, nothing changed"
    lines.append(store)
    lines += [f"totals row: line {n} ({label}) is not imported" for n, label in report.totals]
    if report.event_types["complete"] and not report.event_types["enter"]:
        lines.append(f"note: {report.event_types['complete']} rows are complete events and none enters a "
                     "stage, so they add no time in stage; if a lifecycle column's complete is the "
                     "activity's own event (a process-mining log), map it under [event_types] with "
                     "complete = \"enter\" (orderboard mapping suggest writes this)")
    if report.skipped:
        kinds = ", ".join(f"{n} {value!r}" for value, n in sorted(report.skipped.items()))
        lines.append(f"skipped by [event_types]: {sum(report.skipped.values())} rows ({kinds})")
    lines.append(f"rejects: {report.rejects_path}")
    lines.append(f"warnings: {report.warnings_path or 'none (no file written)'}")
    if report.findings:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.findings.items()))
        lines.append(f"data-quality findings: {kinds} (see: orderboard quality)")
    return lines


mapping_app = typer.Typer(help="Mapping files of imports.", add_completion=False,
                          rich_markup_mode=None, no_args_is_help=True, epilog=EXIT_STATUS)
app.add_typer(mapping_app, name="mapping", epilog=EXIT_STATUS)


@mapping_app.command("suggest", epilog=EXIT_STATUS)
def mapping_suggest(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX ledger.", metavar="FILE")],
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first).")] = None,
    config: ConfigOption = None,
) -> None:
    """Print a mapping TOML for a ledger (placed by its Chinese or English column names),
    to review and pass to 'orderboard import FILE --mapping'."""
    from datasource.importers import ImportSetupError
    from datasource.importers.suggest import suggest_mapping

    settings = settings_for(None, config)
    try:
        typer.echo(suggest_mapping(file, settings.pipeline, sheet), nl=False)
    except ImportSetupError as exc:
        fail(str(exc))


@command()
def history(
    order: Annotated[str | None, typer.Option("--order", help="Only the changes of this order.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, newest first.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Values later imports changed (promised dates moved, customers corrected...), with
    the file and line that said so."""
    from zoneinfo import ZoneInfo

    from datasource.importers.history import render_history

    settings = settings_for(db, config)
    engine = existing_store(settings)
    try:
        typer.echo(render_history(engine, ZoneInfo(settings.pipeline.timezone), order, json_, limit))
    finally:
        engine.dispose()


@command()
def quality(
    db: DbOption = None,
    config: ConfigOption = None,
    kind: Annotated[str | None, typer.Option("--kind", help="List the findings of this kind.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Data-quality findings of imports: counts by kind, or the findings of one kind."""
    from datasource.importers.quality import render_quality

    engine = existing_store(settings_for(db, config))
    try:
        typer.echo(render_quality(engine, kind, json_))
    finally:
        engine.dispose()


@command()
def metrics(
    date_from: Annotated[str | None, typer.Option(
            "--from",
            help="First local day YYYY-MM-DD (default: 6 days before --to).")] = None,
    date_to: Annotated[str | None, typer.Option(
            "--to",
            help="Last local day YYYY-MM-DD, included (default: today).")] = None,
    line: Annotated[str | None, typer.Option("--line", help="Production line.")] = None,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    product_line: Annotated[str | None, typer.Option("--product-line")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    now_text: Annotated[str | None, typer.Option(
            "--now",
            help="Evaluate as of this ISO instant (default: the clock).")] = None,
    lang: LangOption = "en",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the metrics summary for a window (dates are local days in the pipeline's zone)."""
    import json
    from datetime import datetime, timezone

    from metrics.summary import compute_summary, render_text
    from metrics.window import Filters, Window
    from orderboard.cli_input import check_lang, metrics_days, parse_now

    settings = settings_for(db, config)
    tz = settings.pipeline.timezone
    lang = checked(check_lang, lang)
    now = checked(parse_now, now_text) if now_text else datetime.now(timezone.utc)
    first, last = checked(metrics_days, date_from, date_to, now, tz, now_text is not None)
    window = Window.between_dates(first, last, tz)
    filters = Filters(production_line=line, customer=customer, channel=channel,
                      product_line=product_line, owner=owner)
    summary = read_store(settings, lambda engine: compute_summary(engine, settings.pipeline, window, filters, now))
    if json_:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(summary, lang))


@command()
def report(
    out: Annotated[Path, typer.Option(
            "--out",
            help=("File to write; its suffix, .pdf or .xlsx, is the format."), dir_okay=False)],
    week: Annotated[str | None, typer.Option("--week", help="ISO week YYYY-Www (default: last week).")] = None,
    fmt: Annotated[str | None, typer.Option(
            "--format",
            help="pdf or xlsx (default: the suffix of --out, which it must match).")] = None,
    date_from: Annotated[str | None, typer.Option(
            "--from",
            help="First local day YYYY-MM-DD (with --to, instead of --week).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last local day YYYY-MM-DD, included.")] = None,
    now_text: Annotated[str | None, typer.Option(
            "--now",
            help="Evaluate as of this ISO instant (default: the clock).")] = None,
    lang: LangOption = "en",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the weekly review report (the same PDF/XLSX as the review page's buttons)."""
    from datetime import datetime, timezone

    from orderboard.cli_input import check_lang, parse_now, report_format, report_period
    from orderboard.weekly_job import write_report

    settings = settings_for(db, config)
    fmt = checked(report_format, out, fmt)
    lang = checked(check_lang, lang)
    now = checked(parse_now, now_text) if now_text else datetime.now(timezone.utc)
    week, date_from, date_to = checked(report_period, week, date_from, date_to)
    engine = existing_store(settings)
    try:
        label = write_report(engine, settings, week, fmt, out, now, lang,
                             date_from=date_from, date_to=date_to)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    finally:
        engine.dispose()
    typer.echo(f"wrote the {fmt} report of {label} to {out}")


HostOption = Annotated[str, typer.Option(
    "--host", help="Interface to listen on (beyond 127.0.0.1 only with logins: ORDERBOARD_SECRET_KEY).")]


def refuse_exposure(settings: Settings, host: str) -> None:
    """One line and exit status 1 for a server other computers reach without logins."""
    from orderboard.serving import NoLoginBeyondThisComputer, check_exposure

    try:
        check_exposure(settings, host)
    except NoLoginBeyondThisComputer as exc:
        fail(str(exc))
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.")]


@command()
def demo(
    db: Annotated[str | None, typer.Option(
        "--db", help="Demo store URL (default sqlite:///orderboard-demo.db; "
                     "$ORDERBOARD_DATABASE_URL is ignored so a demo never lands in a real store).")] = None,
    config: ConfigOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8050,
    orders: Annotated[int, typer.Option("--orders", help="Orders in the 90-day history.", min=1)] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the history and the feed.")] = 7,
    no_feed: Annotated[bool, typer.Option("--no-feed", help="Do not keep new events arriving.")] = False,
    with_users: Annotated[bool, typer.Option(
        "--with-users",
        help=("Also create an admin (demo), a line manager and a salesperson with random passwords, "
              "shown once, and turn logins on."))] = False,
) -> None:
    """Create a demo store (seeded once), keep events flowing and serve the dashboard."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from datasource.store import NoStore
    from orderboard.jobs import registered_jobs
    from orderboard.serving import DEMO_DATABASE_URL, NotADemoStore, prepare_demo_store, serve_app

    settings = settings_for(db or DEMO_DATABASE_URL, config)
    if with_users:
        from orderboard.cli_access import with_logins

        settings = with_logins(settings)
    refuse_exposure(settings, host)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("seeding demo orders", total=orders, start=False)
        try:
            engine, seeded = prepare_demo_store(
                settings, orders, seed,
                on_generate=lambda n: (bar.update(task, description=f"generating {n:,} orders"),
                                       bar.start_task(task)),
                progress=lambda k: bar.update(task, advance=k, description="seeding demo orders"),
            )
        except NotADemoStore as exc:
            fail(str(exc))
        except NoStore as exc:
            refuse_store(exc)
        if not seeded:
            bar.remove_task(task)
    typer.echo(f"demo store: {masked_url(settings.database_url)} ({'seeded' if seeded else 'reused'})")
    if with_users:
        from orderboard.cli_access import demo_users

        demo_users(engine, settings.database_url)
    jobs = [] if no_feed else registered_jobs(settings, engine, demo=True, seed=seed)
    feed = "off" if no_feed else "on (new orders and events at the pace of the seeded history)"
    typer.echo(f"live feed: {feed}")
    typer.echo(f"dashboard: http://{host}:{port}/  (Ctrl-C to stop)")
    serve_app(settings, host, port, engine, jobs)


@command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8050,
    db: DbOption = None,
    config: ConfigOption = None,
    no_jobs: Annotated[bool, typer.Option("--no-jobs", help="Do not run scheduled jobs in this process.")] = False,
) -> None:
    """Serve the dashboard (embedded server; see the README for gunicorn)."""
    from orderboard import serving

    settings = settings_for(db, config)
    refuse_exposure(settings, host)
    engine = opened_store(settings, create=False)  # never serve an empty new file
    cache = f"  cache: {masked_url(settings.cache_url)}" if settings.cache_url else ""
    typer.echo(f"dashboard: http://{host}:{port}/  store: {masked_url(settings.database_url)}{cache}")
    serving.serve(settings, host, port, engine, with_jobs=not no_jobs)


@command()
def worker(
    db: DbOption = None,
    config: ConfigOption = None,
    demo_feed: Annotated[bool, typer.Option("--demo", help="Also run the demo feed (demo stores only).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the demo feed.")] = 7,
) -> None:
    """Run the scheduled jobs in the foreground (one worker per deployment)."""
    from datasource.store import NoStore
    from orderboard.serving import JobsRunElsewhere, NotADemoStore, run_worker

    settings = settings_for(db, config)

    def started(ids: list[str]) -> None:
        running = ", ".join(ids) if ids else "no jobs yet"
        typer.echo(f"worker: running {running} for {masked_url(settings.database_url)}")

    try:
        run_worker(settings, demo=demo_feed, seed=seed, on_start=started)
    except (JobsRunElsewhere, NotADemoStore) as exc:
        fail(str(exc))
    except NoStore as exc:
        refuse_store(exc)


alerts_app = typer.Typer(cls=OneLineErrors,
                         help="Alert rules: evaluate now, test a channel, silence alerts, list and end silences.",
                         epilog=EXIT_STATUS,
                         rich_markup_mode=None, no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


def alert_setup(db: str | None, config: Path | None):
    """(settings, checked alert configuration, engine on the store) for the alerts commands."""
    from orderboard.alerts.config import alert_config

    settings = settings_for(db, config)
    alerts = alert_config(settings)
    if not alerts.channels:
        fail("the configuration has no [[alert_channels]] (see README, Alerts)")
    return settings, alerts, opened_store(settings, create=False)


@alerts_app.command("check", epilog=EXIT_STATUS)
def alerts_check(
    once: Annotated[bool, typer.Option(
            "--once",
            help="Evaluate once, now (the worker runs it every interval).")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what is due; send and change nothing.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Evaluate every alert rule now and send (or, with --dry-run, print) what is due."""
    from orderboard.alerts.runner import AlertRunner

    settings, alerts, engine = alert_setup(db, config)
    try:
        report = AlertRunner(engine, settings, alerts).run(dry_run=dry_run)
    finally:
        engine.dispose()
    for line in report.lines():
        typer.echo(line)
    if report.unavailable:
        raise typer.Exit(EXIT_REFUSED)


@alerts_app.command("test", epilog=EXIT_STATUS)
def alerts_test(
    channel: Annotated[str, typer.Argument(help="Name of an [[alert_channels]] entry.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Send a test message to one channel (logged like every delivery)."""
    from datetime import datetime, timezone

    from orderboard.alerts.dispatch import Dispatcher
    from orderboard.alerts.messages import Message

    settings, alerts, engine = alert_setup(db, config)
    if channel not in alerts.channels:
        engine.dispose()
        fail(f"no [[alert_channels]] named {channel!r} (one of {', '.join(alerts.channels)})", EXIT_USAGE)
    people = tuple(alerts.contacts)[:5]
    message = Message(channel=channel, kind="test", title="OrderBoard 测试消息 · test message",
                      note=f"channel {channel} ({alerts.channels[channel].kind}) works.", people=people,
                      alerts_url=settings.public_url.rstrip("/") + "/alerts")
    try:
        result = Dispatcher(engine, alerts, "", settings.public_url).send_direct(
            channel, message, datetime.now(timezone.utc))
    finally:
        engine.dispose()
    if not result.ok:
        fail(f"{channel}: not delivered ({result.http_status or '-'} {result.error_code}: {result.error})")
    typer.echo(f"sent a test message to {channel}")


@alerts_app.command("silence", epilog=EXIT_STATUS)
def alerts_silence(
    match: Annotated[list[str], typer.Option(
            "--match",
            help=("LABEL=VALUE (rule, severity, order, owner, stage, department, ...; * wildcards); repeat for "
                  "several."))],
    duration_text: Annotated[str, typer.Option("--for", help="How long, e.g. 30m, 2h, 1d.")],
    by: Annotated[str, typer.Option("--by", help="Who sets it.")],
    why: Annotated[str, typer.Option("--why", help="Why.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Silence the alerts matching every --match until the time given by --for."""
    from datetime import datetime, timedelta, timezone

    from datasource.alert_silences import add_silence
    from orderboard.alerts.config import AlertConfigError, duration

    matchers = {}
    for text_ in match:
        label, sep, value = text_.partition("=")
        if not sep or not label.strip():
            fail(f"--match {text_!r}: write LABEL=VALUE", EXIT_USAGE)
        matchers[label.strip()] = value.strip()
    try:
        seconds = duration(duration_text, "--for")
    except AlertConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    engine = opened_store(settings_for(db, config), create=False)
    now = datetime.now(timezone.utc)
    try:
        silence_id = add_silence(engine, matchers, now + timedelta(seconds=seconds), by, why, now)
    finally:
        engine.dispose()
    typer.echo(f"silence {silence_id}: {matchers} until {(now + timedelta(seconds=seconds)):%Y-%m-%d %H:%M} UTC")



@alerts_app.command("silences", epilog=EXIT_STATUS)
def alerts_silences(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """List the silences in force now: matchers, until when, who set them and why."""
    import json
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from datasource.alert_silences import active_silences
    from orderboard.alerts.silences import silence_lines, silence_records

    settings = settings_for(db, config)
    rows = read_store(settings, lambda engine: active_silences(engine, datetime.now(timezone.utc)))
    if json_:
        typer.echo(json.dumps(silence_records(rows), ensure_ascii=False, indent=2))
        return
    for line in silence_lines(rows, ZoneInfo(settings.pipeline.timezone)):
        typer.echo(line)


@alerts_app.command("unsilence", epilog=EXIT_STATUS)
def alerts_unsilence(
    silence_id: Annotated[int, typer.Argument(help="The silence's id (see 'orderboard alerts silences').",
                                              metavar="ID")],
    by: Annotated[str, typer.Option("--by", help="Who ends it.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """End a silence now (who ended it and when go to the audit log)."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from datasource.alert_silences import end_silence
    from orderboard.alerts.silences import local, matcher_text

    settings = settings_for(db, config)
    engine = opened_store(settings, create=False)
    now = datetime.now(timezone.utc)
    try:
        done = end_silence(engine, silence_id, by, now)
    finally:
        engine.dispose()
    tz = ZoneInfo(settings.pipeline.timezone)
    if done.silence is None:
        fail(f"no silence {silence_id} (see 'orderboard alerts silences')")
    if not done.ended:
        ends_at = done.silence["ends_at"]
        fail(f"silence {silence_id} is not in force: it {'ended' if ends_at <= now else 'ends'} "
             f"{local(ends_at, tz)} ({tz.key})")
    typer.echo(f"silence {silence_id} ({matcher_text(done.silence['matchers'])}) ended "
               f"{local(now, tz)} ({tz.key}) by {by}")


# The access commands (user, token, audit) live in their own module and register on ``app``.
from orderboard import cli_access  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

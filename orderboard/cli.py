"""The ``orderboard`` command. Each subcommand parses options and calls one function of
``datasource``, ``metrics``, ``dashboard`` or ``orderboard.jobs``; no logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from datasource.settings import Settings, load_settings

app = typer.Typer(
    help="OrderBoard: order-fulfillment operations dashboard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    Optional[str],
    typer.Option("--db", help="Store URL (default sqlite:///orderboard.db or $ORDERBOARD_DATABASE_URL)."),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="TOML file: pipeline, stages, SLAs, screens.", exists=True, dir_okay=False),
]


@app.callback()
def main() -> None:
    """OrderBoard: order-fulfillment operations dashboard."""


def settings_for(db: str | None, config: Path | None) -> Settings:
    return load_settings(database_url=db, config_file=str(config) if config else None)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def init(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create the schema and the stage pipeline (safe to run again)."""
    from datasource.store import init_schema, make_engine

    settings = settings_for(db, config)
    init_schema(make_engine(settings.database_url), settings.pipeline)
    typer.echo(f"initialised {settings.database_url} with stages {', '.join(settings.pipeline.codes)}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file to import.")],
    mapping: Annotated[Path, typer.Option("--mapping", help="Mapping TOML: shape, columns, stages.")],
    db: DbOption = None,
    config: ConfigOption = None,
    tz: Annotated[Optional[str], typer.Option("--tz", help="Zone of naive timestamps (overrides the mapping's).")] = None,
    rejects: Annotated[Optional[Path], typer.Option("--rejects", help="Rejects CSV (default ./<FILE>.rejects.csv).")] = None,
) -> None:
    """Import a CSV/XLSX file (event log or milestones, as the mapping says)."""
    from datasource.importers import ImportSetupError
    from datasource.importers.run import run_import

    settings = settings_for(db, config)
    try:
        report = run_import(settings.database_url, settings.pipeline, file, mapping, tz, rejects)
    except ImportSetupError as exc:
        fail(str(exc))
    typer.echo(report.summary())
    typer.echo(f"store: {report.orders_created} new orders, {report.events_added} new events"
               + ("; everything was already stored, nothing changed"
                  if report.imported and not (report.orders_created or report.events_added
                                              or report.findings_added) else ""))
    typer.echo(f"rejects: {report.rejects_path}")
    typer.echo(f"warnings: {report.warnings_path}")
    if report.findings:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.findings.items()))
        typer.echo(f"data-quality findings: {kinds} (see: orderboard quality)")


@app.command()
def quality(
    db: DbOption = None,
    config: ConfigOption = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="List the findings of this kind.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Data-quality findings of imports: counts by kind, or the findings of one kind."""
    from datasource.importers.quality import NoStore, open_findings_store, render_quality

    try:
        engine = open_findings_store(settings_for(db, config).database_url)
    except NoStore as exc:
        fail(str(exc))
    try:
        typer.echo(render_quality(engine, kind, json_))
    finally:
        engine.dispose()


@app.command()
def metrics(
    date_from: Annotated[Optional[str], typer.Option("--from", help="First local day YYYY-MM-DD (default: 6 days before --to).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last local day, included (default: today).")] = None,
    line: Annotated[Optional[str], typer.Option("--line", help="Production line.")] = None,
    customer: Annotated[Optional[str], typer.Option("--customer")] = None,
    channel: Annotated[Optional[str], typer.Option("--channel")] = None,
    product_line: Annotated[Optional[str], typer.Option("--product-line")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    now_text: Annotated[Optional[str], typer.Option("--now", help="Evaluate as of this ISO instant (default: the clock).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Stage labels: en or zh.")] = "en",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the metrics summary for a window (dates are local days in the pipeline's zone)."""
    import json
    from datetime import date, datetime, timedelta, timezone

    from datasource.store import make_engine
    from metrics.summary import compute_summary, render_text
    from metrics.window import Filters, Window

    settings = settings_for(db, config)
    tz = settings.pipeline.timezone
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(timezone.utc)
        if now.tzinfo is None:
            fail("--now needs a time zone, e.g. 2026-11-21T08:00:00+08:00")
        from zoneinfo import ZoneInfo

        last = date.fromisoformat(date_to) if date_to else now.astimezone(ZoneInfo(tz)).date()
        first = date.fromisoformat(date_from) if date_from else last - timedelta(days=6)
        window = Window.between_dates(first, last, tz)
    except ValueError as exc:
        fail(str(exc))
    filters = Filters(production_line=line, customer=customer, channel=channel,
                      product_line=product_line, owner=owner)
    engine = make_engine(settings.database_url)
    try:
        summary = compute_summary(engine, settings.pipeline, window, filters, now)
    finally:
        engine.dispose()
    if json_:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(summary, lang))


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="File to write (PDF or XLSX).", dir_okay=False)],
    week: Annotated[Optional[str], typer.Option("--week", help="ISO week YYYY-Www (default: last week).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf or xlsx.")] = "pdf",
    date_from: Annotated[Optional[str], typer.Option("--from", help="First local day YYYY-MM-DD (instead of --week).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last local day, included.")] = None,
    now_text: Annotated[Optional[str], typer.Option("--now", help="Evaluate as of this ISO instant (default: the clock).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Labels: en or zh.")] = "en",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the weekly review report (the same PDF/XLSX as the review page's buttons)."""
    from datetime import datetime, timezone

    from datasource.store import make_engine
    from orderboard.weekly_job import write_report

    settings = settings_for(db, config)
    engine = make_engine(settings.database_url)
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(timezone.utc)
        if now.tzinfo is None:
            fail("--now needs a time zone, e.g. 2026-11-23T08:00:00+08:00")
        label = write_report(engine, settings, week, fmt.lower(), out, now, lang,
                             date_from=date_from, date_to=date_to)
    except ValueError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"wrote the {fmt.lower()} report of {label} to {out}")


HostOption = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.")]


@app.command()
def demo(
    db: Annotated[Optional[str], typer.Option(
        "--db", help="Demo store URL (default sqlite:///orderboard-demo.db; "
                     "$ORDERBOARD_DATABASE_URL is ignored so a demo never lands in a real store).")] = None,
    config: ConfigOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8050,
    orders: Annotated[int, typer.Option("--orders", help="Orders in the 90-day history.", min=1)] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the history and the feed.")] = 7,
    no_feed: Annotated[bool, typer.Option("--no-feed", help="Do not keep new events arriving.")] = False,
) -> None:
    """Create a demo store (seeded once), keep events flowing and serve the dashboard."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from orderboard.jobs import registered_jobs
    from orderboard.serving import DEMO_DATABASE_URL, NotADemoStore, prepare_demo_store, serve_app

    settings = settings_for(db or DEMO_DATABASE_URL, config)
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
        if not seeded:
            bar.remove_task(task)
    typer.echo(f"demo store: {settings.database_url} ({'seeded' if seeded else 'reused'})")
    jobs = [] if no_feed else registered_jobs(settings, engine, demo=True, seed=seed)
    typer.echo(f"live feed: {'off' if no_feed else 'new events every few seconds'}")
    typer.echo(f"dashboard: http://{host}:{port}/  (Ctrl-C to stop)")
    serve_app(settings, host, port, engine, jobs)


@app.command()
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
    typer.echo(f"dashboard: http://{host}:{port}/  store: {settings.database_url}")
    serving.serve(settings, host, port, with_jobs=not no_jobs)


@app.command()
def worker(
    db: DbOption = None,
    config: ConfigOption = None,
    demo_feed: Annotated[bool, typer.Option("--demo", help="Also run the demo feed (demo stores only).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the demo feed.")] = 7,
) -> None:
    """Run the scheduled jobs in the foreground (one worker per deployment)."""
    from orderboard.serving import JobsRunElsewhere, NotADemoStore, run_worker

    settings = settings_for(db, config)

    def started(ids: list[str]) -> None:
        typer.echo(f"worker: running {', '.join(ids) if ids else 'no jobs yet'} for {settings.database_url}")

    try:
        run_worker(settings, demo=demo_feed, seed=seed, on_start=started)
    except (JobsRunElsewhere, NotADemoStore) as exc:
        fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

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
    from datasource.importers.quality import render_quality
    from datasource.store import make_engine

    engine = make_engine(settings_for(db, config).database_url)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

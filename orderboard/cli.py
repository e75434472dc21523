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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

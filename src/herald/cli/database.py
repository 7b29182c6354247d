"""``herald db``: schema management."""

from __future__ import annotations

from typing import Annotated

import typer

from herald.settings import load_settings
from herald.store.database import create_database_engine
from herald.store.migrate import upgrade_database

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = load_settings()
    engine = create_database_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine, revision)
    finally:
        engine.dispose()
    typer.echo(f"database at {revision}: {engine.url.render_as_string(hide_password=True)}")

"""``herald suppression``: import, export, inspect and edit the suppression list."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from herald.clock import SystemClock
from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope, normalize_address
from herald.errors import HeraldError
from herald.services import suppression
from herald.services.suppression_csv import export_suppressions_csv, import_suppressions_csv
from herald.settings import Settings, load_settings
from herald.store.database import create_database_engine, create_session_factory

app = typer.Typer(help="The list of addresses Herald must not message.", no_args_is_help=True)
EXIT_INVALID = 2


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    settings = load_settings()
    engine = create_database_engine(settings.resolved_database_url())
    try:
        with create_session_factory(engine)() as session:
            yield session, settings
    except HeraldError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    finally:
        engine.dispose()


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV with an 'address' column.", exists=True)],
) -> None:
    """Add the addresses of FILE; bad rows are reported and skipped, good rows kept."""
    with _session() as (session, settings), file.open(encoding="utf-8-sig", newline="") as source:
        report = import_suppressions_csv(
            session, source, clock=SystemClock(), default_region=settings.default_region
        )
        session.commit()
    typer.echo(
        f"{report.rows_read} rows read: {report.added} added, "
        f"{report.already_present} already present, {report.errors_total} rejected"
    )
    for error in report.errors:
        typer.echo(f"  {error}", err=True)
    if report.ignored_columns:
        typer.echo(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report.errors_total:
        raise typer.Exit(1)


@app.command("export")
def export_csv(
    file: Annotated[Path | None, typer.Argument(help="Output file (default: stdout).")] = None,
) -> None:
    """Write the whole list as CSV (spreadsheet formulas neutralised)."""
    with _session() as (session, _settings):
        if file is None:
            count = export_suppressions_csv(session, sys.stdout)
        else:
            with file.open("w", encoding="utf-8", newline="") as out:
                count = export_suppressions_csv(session, out)
    typer.echo(f"{count} entries exported", err=True)


@app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="Phone or email.")],
    scope: Annotated[SuppressionScope, typer.Option(help="Where it applies.")] = (
        SuppressionScope.ALL
    ),
    note: Annotated[str | None, typer.Option(help="Kept with the entry.")] = None,
) -> None:
    """Suppress ADDRESS (reason: manual)."""
    with _session() as (session, settings):
        result = suppression.suppress(
            session,
            address,
            reason=SuppressionReason.MANUAL,
            clock=SystemClock(),
            scope=scope,
            detail=note,
            default_region=settings.default_region,
        )
        session.commit()
    state = "added" if result.created else "already suppressed"
    typer.echo(f"{result.entry.address} ({result.entry.scope}): {state}")


@app.command("remove")
def remove(
    address: Annotated[str, typer.Argument(help="Phone or email.")],
    scope: Annotated[
        SuppressionScope | None, typer.Option(help="Only this scope (default: all entries).")
    ] = None,
) -> None:
    """Remove the entries of ADDRESS, whatever their reason (an operator decision)."""
    with _session() as (session, settings):
        removed = suppression.unsuppress(
            session, address, scope=scope, default_region=settings.default_region
        )
        session.commit()
    typer.echo(f"{removed} entries removed")


@app.command("check")
def check(address: Annotated[str, typer.Argument(help="Phone or email.")]) -> None:
    """Say on which channels ADDRESS is suppressed."""
    with _session() as (session, settings):
        canonical = normalize_address(address, default_region=settings.default_region)
        blocked = [c.value for c in Channel if suppression.is_suppressed(session, canonical, c)]
    typer.echo(
        f"{canonical}: suppressed on {', '.join(blocked)}"
        if blocked
        else f"{canonical}: not suppressed"
    )

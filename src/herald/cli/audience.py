"""``herald audience``: check, import, list and export audiences.

Exit codes of ``check``: 0 when the file has at least one valid contact,
1 when it has none (or is refused, e.g. no phone or email column),
2 when it cannot be read at all. The other commands exit 1 on bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine

from herald.clock import SystemClock
from herald.domain.audience.summary import AudienceSummary
from herald.errors import HeraldError, UnreadableFileError
from herald.services import audiences as service
from herald.services.audiences import ProgressCallback
from herald.settings import Settings, load_settings
from herald.store.database import create_database_engine
from herald.store.migrate import upgrade_database

app = typer.Typer(help="Check, import, list and export audiences.", no_args_is_help=True)

PROGRESS_MIN_BYTES = 4 * 1024 * 1024
"""Files at least this large get a progress bar."""
SHOWN_PROBLEMS = 200
"""Rows of the problem table printed; ``--json`` gives them all.

Everything from the file (headers, values in messages, names) is printed with
Rich markup escaped: a cell reading ``[red]`` is text, not a style."""

FileArgument = Annotated[Path, typer.Argument(help="CSV file (UTF-8, UTF-16 or Windows-1252).")]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--default-region", help="Region of numbers without country code [default: settings]."
    ),
]


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


@app.command("check")
def check(
    file: FileArgument,
    default_region: RegionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Validate FILE and report every problem, without storing anything."""
    settings = load_settings()
    region = default_region or settings.default_region
    try:
        with _progress(file) as progress:
            report = service.check_audience(
                file, region, workers=settings.import_workers, on_progress=progress
            )
    except HeraldError as exc:
        _fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_summary(report.summary, f"{file.name} ({report.encoding})")
        _print_problems([(p.row, p.column, p.code, p.severity, p.message) for p in report.problems])
    raise typer.Exit(0 if report.summary.valid_contacts > 0 else 1)


@app.command("import")
def import_(
    file: FileArgument,
    name: Annotated[str, typer.Option("--name", help="Name of the new audience.")],
    default_region: RegionOption = None,
) -> None:
    """Store FILE as a new audience (earlier imports are never changed)."""
    settings = load_settings()
    engine = _engine(settings)
    try:
        with _progress(file) as progress:
            imported = service.import_audience(
                engine,
                file,
                name=name,
                clock=SystemClock(),
                default_region=default_region or settings.default_region,
                workers=settings.import_workers,
                on_progress=progress,
            )
        audience = imported.audience
        _out().print(
            f"Imported audience {audience.id} '{escape(audience.name)}' "
            f"from {escape(audience.source_filename or '-')}."
        )
        _print_summary(imported.summary, audience.name)
        stored = service.list_problems(engine, audience.id, limit=SHOWN_PROBLEMS + 1)
        _print_problems([(p.row_number, p.column, p.code, p.severity, p.message) for p in stored])
    except HeraldError as exc:
        _fail(exc, as_json=False)
    finally:
        engine.dispose()


@app.command("list")
def list_() -> None:
    """Every audience, newest first."""
    engine = _engine(load_settings())
    try:
        audiences = service.list_audiences(engine)
    finally:
        engine.dispose()
    table = Table(
        "id", "name", "status", "file", "uploaded (UTC)", "contacts", "rejected", "duplicates"
    )
    for audience in audiences:
        summary = AudienceSummary.from_dict(audience.summary)
        table.add_row(
            str(audience.id),
            escape(audience.name),
            audience.status,
            escape(audience.source_filename or "-"),
            audience.uploaded_at.strftime("%Y-%m-%d %H:%M"),
            str(summary.valid_contacts),
            str(summary.rejected_rows),
            str(summary.duplicates),
        )
    _out().print(table)


@app.command("export")
def export(
    audience_id: Annotated[int, typer.Argument(metavar="ID", help="Audience id (see list).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write [default: stdout].")
    ] = None,
) -> None:
    """Write an audience as CSV: phone, email, custom fields; formula-safe."""
    engine = _engine(load_settings())
    try:
        chunks = service.audience_csv(engine, audience_id)
        if output is None:
            sys.stdout.buffer.writelines(chunks)
            sys.stdout.buffer.flush()
        else:
            with output.open("wb") as stream:
                stream.writelines(chunks)
    except HeraldError as exc:
        _fail(exc, as_json=False)
    finally:
        engine.dispose()
    if output is not None:
        _err().print(f"Wrote {escape(str(output))}.")


def _engine(settings: Settings) -> Engine:
    engine = create_database_engine(settings.resolved_database_url())
    upgrade_database(engine)
    return engine


def _fail(exc: HeraldError, as_json: bool) -> NoReturn:
    code = 2 if isinstance(exc, UnreadableFileError) else 1
    if as_json:
        body = {"error": {"code": exc.code, "field": exc.field, "message": exc.message}}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _err().print(f"[red]error[/red] ({exc.code}): {escape(exc.message)}")
    raise typer.Exit(code)


@contextmanager
def _progress(file: Path) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr for large files; nothing for small ones."""
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    if size < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=_err(), transient=True) as bar:
        task = bar.add_task(file.name, total=size)
        yield lambda done: bar.update(task, completed=done)


def _print_summary(summary: AudienceSummary, title: str) -> None:
    table = Table(title=escape(title), show_header=False)
    for key, value in summary.as_dict().items():
        if key != "custom_fields":
            table.add_row(key.replace("_", " "), str(value))
    _out().print(table)
    if summary.custom_fields:
        fields = Table("custom field", "variable", "filled", "samples", title="Custom fields")
        for field in summary.custom_fields:
            fields.add_row(
                escape(field.header),
                "{{" + field.variable + "}}",
                f"{field.filled} ({field.fill_rate:.0%})",
                escape(", ".join(field.samples)),
            )
        _out().print(fields)


def _print_problems(problems: list[tuple[int | None, str | None, str, str, str]]) -> None:
    """(row, column, code, severity, message) rows, cut short after ``SHOWN_PROBLEMS``."""
    if not problems:
        _out().print("No problems found.")
        return
    table = Table("row", "column", "code", "severity", "message", title="Flagged rows")
    for row, column, code, severity, message in problems[:SHOWN_PROBLEMS]:
        color = "red" if severity == "error" else "yellow"
        table.add_row(
            "-" if row is None else str(row),
            escape(column or "-"),
            code,
            f"[{color}]{severity}[/{color}]",
            escape(message),
        )
    _out().print(table)
    if len(problems) > SHOWN_PROBLEMS:
        more = len(problems) - SHOWN_PROBLEMS
        _out().print(f"... and more ({more}+): `herald audience check FILE --json` lists them all.")

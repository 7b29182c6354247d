"""``herald integration``: configure provider accounts from the command line.

Settings are given as ``--set key=value`` pairs or a YAML/JSON file. A secret
may be read from an environment variable with ``--set-env key=VARIABLE`` so
it never appears in the shell history or the process list. Secrets are stored
encrypted and printed only as a mask.

Exit codes: 0 success; 1 invalid settings or a failed connection test;
2 a file that cannot be read; 3 no such integration; 4 a conflict (a name
already taken).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from herald.channels.base import ConnectionCheck
from herald.channels.http import create_client_session
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.errors import (
    ConflictError,
    HeraldError,
    NotFoundError,
    UnreadableFileError,
    ValidationError,
)
from herald.services.container import Herald
from herald.services.integrations import IntegrationView
from herald.settings import load_settings

app = typer.Typer(help="Provider accounts Herald sends through.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="Integration name or id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="A setting; repeat for each one."),
]
SetEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set-env",
        metavar="KEY=VARIABLE",
        help="A setting read from an environment variable (for secrets); repeatable.",
    ),
]
FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="YAML or JSON mapping of settings.", dir_okay=False),
]

EXIT_INVALID = 1
EXIT_UNREADABLE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4


@contextmanager
def _herald() -> Iterator[tuple[Herald, Session]]:
    settings = load_settings()
    try:
        herald = Herald.create(settings)
    except HeraldError as exc:
        _fail(exc)
    try:
        with herald.sessions() as session:
            yield herald, session
    except HeraldError as exc:
        _fail(exc)
    finally:
        herald.close()


def _fail(exc: HeraldError) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[red]error[/red]: {escape(exc.message)}")
    if isinstance(exc, NotFoundError):
        raise typer.Exit(EXIT_NOT_FOUND)
    if isinstance(exc, ConflictError):
        raise typer.Exit(EXIT_CONFLICT)
    if isinstance(exc, UnreadableFileError):
        raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(EXIT_INVALID)


def collect_settings(
    pairs: list[str], env_pairs: list[str], file: Path | None, environ: dict[str, str]
) -> dict[str, Any]:
    """Merge the file, then ``--set``, then ``--set-env``: later sources win, so a
    file can hold the shared settings and the command line the secret."""
    settings: dict[str, Any] = {}
    if file is not None:
        settings.update(_read_settings_file(file))
    for pair in pairs:
        key, value = _split(pair, "--set")
        settings[key] = value
    for pair in env_pairs:
        key, variable = _split(pair, "--set-env")
        if variable not in environ:
            raise ValidationError(f"--set-env {key}: environment variable {variable} is not set")
        settings[key] = environ[variable]
    return settings


def _split(pair: str, option: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise ValidationError(f"{option} expects KEY=VALUE, got {pair!r}")
    return key.strip(), value


def _read_settings_file(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"cannot read {file}: {exc}") from exc
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise UnreadableFileError(f"{file} is not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{file} must hold a mapping of setting names to values")
    return {str(key): value for key, value in data.items()}


def _find(herald: Herald, session: Session, name_or_id: str) -> IntegrationView:
    found = herald.integrations.find_by_name(session, name_or_id)
    if found is not None:
        return found
    if name_or_id.isdigit():
        return herald.integrations.get(session, IntegrationId(int(name_or_id)))
    raise NotFoundError(f"no integration named {name_or_id!r}")


def _as_json(view: IntegrationView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "kind": view.kind.value,
        "channel": view.channel.value,
        "active": view.is_active,
        "rate_limit_per_second": view.rate_limit_per_second,
        "health": view.health,
        "health_reason": view.health_reason,
        "health_checked_at": view.health_checked_at.isoformat() if view.health_checked_at else None,
        "settings": view.settings,
    }


def _print_view(view: IntegrationView, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_as_json(view), indent=2))
        return
    console = Console(highlight=False)
    state = "active" if view.is_active else "inactive"
    console.print(
        f"[bold]{escape(view.name)}[/bold] (id {view.id}, {view.kind.value}, {state}, "
        f"{view.rate_limit_per_second:g} messages/s, health {view.health})"
    )
    if view.health_reason:
        console.print(f"  {escape(view.health_reason)}")
    for key, value in sorted(view.settings.items()):
        console.print(f"  {key}: {escape(str(value))}")


@app.command("add")
def add(
    kind: Annotated[IntegrationKind, typer.Argument(help="Provider kind.")],
    name: Annotated[str, typer.Argument(help="A name unique among integrations.")],
    pairs: SetOption = None,
    env_pairs: SetEnvOption = None,
    file: FileOption = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Messages per second (default: the provider's)."),
    ] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Add without activating.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add an integration; its settings are validated before anything is stored."""
    with _herald() as (herald, session):
        settings = collect_settings(pairs or [], env_pairs or [], file, dict(os.environ))
        view = herald.integrations.create(
            session,
            name=name,
            kind=kind,
            settings=settings,
            is_active=not inactive,
            rate_limit_per_second=rate,
        )
        _print_view(view, as_json)


@app.command("update")
def update(
    name: NameArgument,
    pairs: SetOption = None,
    env_pairs: SetEnvOption = None,
    file: FileOption = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Messages per second.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change some settings; those not given keep their value (secrets included)."""
    with _herald() as (herald, session):
        view = _find(herald, session, name)
        settings = collect_settings(pairs or [], env_pairs or [], file, dict(os.environ))
        view = herald.integrations.update(
            session, view.id, settings=settings or None, rate_limit_per_second=rate
        )
        _print_view(view, as_json)


@app.command("list")
def list_integrations(as_json: JsonOption = False) -> None:
    """Every integration with its state and last connection check."""
    with _herald() as (herald, session):
        views = herald.integrations.list(session)
    if as_json:
        typer.echo(json.dumps([_as_json(view) for view in views], indent=2))
        return
    if not views:
        typer.echo("No integrations. Add one with: herald integration add KIND NAME --set ...")
        return
    table = Table("id", "name", "kind", "active", "messages/s", "health", "reason")
    for view in views:
        table.add_row(
            str(view.id),
            escape(view.name),
            view.kind.value,
            "yes" if view.is_active else "no",
            f"{view.rate_limit_per_second:g}",
            view.health,
            escape(view.health_reason or ""),
        )
    Console(highlight=False).print(table)


@app.command("show")
def show(name: NameArgument, as_json: JsonOption = False) -> None:
    """One integration's settings, secrets masked."""
    with _herald() as (herald, session):
        _print_view(_find(herald, session, name), as_json)


@app.command("activate")
def activate(name: NameArgument) -> None:
    """Let campaigns send through this integration again."""
    _set_active(name, active=True)


@app.command("deactivate")
def deactivate(name: NameArgument) -> None:
    """Stop offering this integration to new journeys; existing settings are kept."""
    _set_active(name, active=False)


def _set_active(name: str, *, active: bool) -> None:
    with _herald() as (herald, session):
        view = herald.integrations.update(
            session, _find(herald, session, name).id, is_active=active
        )
    typer.echo(f"{view.name} is {'active' if view.is_active else 'inactive'}.")


@app.command("test")
def test_connection(name: NameArgument, as_json: JsonOption = False) -> None:
    """Call the provider with the stored settings and record the integration's health."""
    with _herald() as (herald, session):
        view = _find(herald, session, name)
        provider_settings = herald.integrations.provider_settings(session, view.id)
        check = asyncio.run(_check(herald, provider_settings, view.kind))
        view = herald.integrations.record_health(session, view.id, check)
    if as_json:
        typer.echo(json.dumps({"connected": check.connected, "reason": check.reason}))
    else:
        verdict = "[green]connected[/green]" if check.connected else "[red]not connected[/red]"
        Console(highlight=False).print(f"{escape(view.name)}: {verdict}: {escape(check.reason)}")
    if not check.connected:
        raise typer.Exit(EXIT_INVALID)


async def _check(herald: Herald, settings: Any, kind: IntegrationKind) -> ConnectionCheck:
    async with create_client_session() as client_session:
        return await herald.integrations.test_connection(settings, kind, client_session)


@app.command("templates")
def templates(
    name: NameArgument,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch them from Meta now, whatever their age.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A WhatsApp integration's message templates (cached; fetched again when stale)."""
    with _herald() as (herald, session):
        integration_id = _find(herald, session, name).id
        session.close()  # the fetch stores the list in sessions of its own
        service = herald.whatsapp_templates
        view = service.refresh(integration_id) if refresh else service.ensure_fresh(integration_id)
    listed = view.templates or ()
    if as_json:
        items = [dataclasses.asdict(item) for item in listed]
        fetched = view.fetched_at.isoformat() if view.fetched_at else None
        typer.echo(json.dumps({"templates": items, "fetched_at": fetched, "error": view.error}))
    else:
        table = Table("name", "language", "category", "status", "body parameters")
        for item in listed:
            table.add_row(
                item.name, item.language, item.category, item.status, str(item.body_parameters)
            )
        Console(highlight=False).print(table)
        if view.error:
            problem = f"[red]templates could not be fetched[/red]: {escape(view.error)}"
            Console(stderr=True, highlight=False).print(problem)
    if view.templates is None:
        raise typer.Exit(EXIT_INVALID)

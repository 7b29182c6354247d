"""``herald user``: create the first admin, list, deactivate and reset passwords.

Passwords are never taken as command-line arguments (they would land in the
shell history and in ``ps``): they are prompted for, read from standard
input, or read from an environment variable named with ``--password-env``.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from herald.domain.audit import Actor
from herald.domain.users import Role
from herald.errors import HeraldError
from herald.services.container import Herald
from herald.settings import load_settings

app = typer.Typer(help="People who can sign in to Herald.", no_args_is_help=True)
EXIT_INVALID = 2


@contextmanager
def open_herald() -> Iterator[Herald]:
    """Herald for one command; its errors become a message and exit code 2."""
    herald = Herald.create(load_settings())
    try:
        yield herald
    except HeraldError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    finally:
        herald.close()


def cli_actor() -> Actor:
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = None
    return Actor.cli(operator)


def read_password(password_env: str | None) -> str:
    """From the named variable, else a hidden prompt with confirmation, else stdin's first line."""
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            typer.echo(f"error: environment variable {password_env} is empty or unset", err=True)
            raise typer.Exit(EXIT_INVALID)
        return value
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


PasswordEnv = Annotated[
    str | None,
    typer.Option(
        "--password-env",
        metavar="VAR",
        help="Read the password from this environment variable instead of prompting.",
    ),
]


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The user's email (their login).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_env: PasswordEnv = None,
) -> None:
    """Create a user (a member unless --admin); the password is prompted for."""
    password = read_password(password_env)
    with open_herald() as herald, herald.sessions() as session:
        user = herald.users.create_user(
            session,
            email=email,
            password=password,
            name=name,
            role=Role.ADMIN if admin else Role.MEMBER,
            actor=cli_actor(),
        )
    typer.echo(f"created {user.role.value} {user.email} (id {user.id})")


@app.command("list")
def list_users() -> None:
    """List every user with role, state and last sign-in."""
    with open_herald() as herald, herald.sessions() as session:
        after: int | None = None
        while True:
            page = herald.users.list_users(session, after_id=after, limit=500)
            for user in page.items:
                state = "active" if user.is_active else "deactivated"
                last = user.last_login_at.isoformat() if user.last_login_at else "never"
                typer.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{state}\t{last}")
            if page.next_cursor is None:
                break
            after = page.next_cursor


@app.command("deactivate")
def deactivate(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Stop a user from signing in; their sessions and the API keys they made stop working."""
    with open_herald() as herald, herald.sessions() as session:
        user = _find(herald, session, email)
        herald.users.deactivate_user(session, user, actor=cli_actor())
    typer.echo(f"deactivated {email}")


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    password_env: PasswordEnv = None,
) -> None:
    """Set a new password (for a user who lost theirs); ends their sessions."""
    password = read_password(password_env)
    with open_herald() as herald, herald.sessions() as session:
        user = _find(herald, session, email)
        herald.users.update_user(session, user, password=password, actor=cli_actor())
    typer.echo(f"password changed for {email}")


def _find(herald: Herald, session: Session, email: str) -> int:
    user = herald.users.find_user(session, email)
    if user is None:
        typer.echo(f"error: no user with email {email}", err=True)
        raise typer.Exit(EXIT_INVALID)
    return user.id

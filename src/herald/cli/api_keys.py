"""``herald api-key``: create (the token is printed once), list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from herald.cli.users import EXIT_INVALID, cli_actor, open_herald
from herald.domain.api_keys import ApiKeyScope

app = typer.Typer(
    help="Keys for the REST API (Authorization: Bearer hk_...).", no_args_is_help=True
)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'CRM sync'.")],
    scope: Annotated[
        ApiKeyScope, typer.Option(help="read: GET only; write: also changes; admin: also users.")
    ] = ApiKeyScope.READ,
    owner: Annotated[
        str | None,
        typer.Option(help="Email of the admin it belongs to; it stops working with them."),
    ] = None,
) -> None:
    """Create a key and print its token on standard output, once."""
    with open_herald() as herald, herald.sessions() as session:
        owner_id = None
        if owner is not None:
            user = herald.users.find_user(session, owner)
            if user is None:
                typer.echo(f"error: no user with email {owner}", err=True)
                raise typer.Exit(EXIT_INVALID)
            owner_id = user.id
        created = herald.api_keys.create_key(
            session, name=name, scope=scope, actor=cli_actor(), created_by=owner_id
        )
    typer.echo(
        f"created {created.key.scope.value} key {created.key.name!r} (id {created.key.id})",
        err=True,
    )
    typer.echo("store this token now; it cannot be shown again:", err=True)
    typer.echo(created.token)


@app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List keys: id, prefix, scope, name, owner, last use (never the secret)."""
    with open_herald() as herald, herald.sessions() as session:
        keys = herald.api_keys.list_keys(session, include_revoked=all_keys)
    for key in keys:
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        last = key.last_used_at.isoformat() if key.last_used_at else "never used"
        owner = key.created_by_email or "-"
        typer.echo(
            f"{key.id}\thk_{key.prefix}_…\t{key.scope.value}\t{key.name}\t{owner}\t{state}\t{last}"
        )


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `list`).")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with open_herald() as herald, herald.sessions() as session:
        key = herald.api_keys.revoke_key(session, key_id, actor=cli_actor())
    typer.echo(f"revoked key {key.name!r} (hk_{key.prefix}_…)")

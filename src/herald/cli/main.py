"""Entry point of the ``herald`` command: assembles the sub-command groups.

Each area registers its commands in its own module; this file only wires
them together and maps :class:`~herald.errors.HeraldError` to exit codes.
"""

from __future__ import annotations

import typer

from herald import __version__
from herald.cli import (
    api_keys,
    audience,
    campaign,
    database,
    demo,
    integrations,
    sandbox,
    serve,
    suppression,
    users,
)

app = typer.Typer(
    name="herald",
    help="Multi-channel outreach campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(database.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(serve.serve_app, name="serve")
app.add_typer(serve.worker_app, name="worker")
app.add_typer(audience.app, name="audience")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(suppression.app, name="suppression")
app.add_typer(users.app, name="user")
app.add_typer(api_keys.app, name="api-key")
app.add_typer(campaign.app, name="campaign")
app.add_typer(integrations.app, name="integration")


@app.command()
def version() -> None:
    """Print Herald's version."""
    typer.echo(__version__)


def run() -> None:
    app()

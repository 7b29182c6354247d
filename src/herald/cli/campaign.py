"""``herald campaign``: campaigns as code, review, launch and the lifecycle.

Exit codes: 0 success; 1 invalid input or failed checks (every blocking
finding is printed); 2 a file that cannot be read; 3 no such campaign,
audience or agent; 4 a conflict with the campaign's state (an illegal
transition, editing a started campaign, an ambiguous name).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from herald.cli import campaign_output as output
from herald.domain.campaign import CampaignStatus
from herald.domain.modeling import ModelValidationError
from herald.domain.spec import dump_spec, parse_spec
from herald.errors import (
    ConflictError,
    HeraldError,
    NotFoundError,
    UnreadableFileError,
)
from herald.services.campaign_code import ApplyResult
from herald.services.campaign_review import LaunchBlockedError
from herald.services.campaigns import CampaignServices, Progress
from herald.services.container import Herald
from herald.settings import Settings, load_settings

app = typer.Typer(help="Apply, review, launch and follow campaigns.", no_args_is_help=True)

IdArgument = Annotated[int, typer.Argument(metavar="ID", help="Campaign id (see list).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def _campaigns() -> Iterator[tuple[CampaignServices, Session, Settings]]:
    """The services and a session on the configured database; errors become exit codes."""
    settings = load_settings()
    try:
        herald = Herald.create(settings)
    except HeraldError as exc:
        _fail(exc)
    try:
        with herald.sessions() as session:
            yield herald.campaigns, session, settings
    except HeraldError as exc:
        _fail(exc)
    finally:
        herald.close()


def _fail(exc: HeraldError) -> NoReturn:
    """One line per problem: every blocking finding, every bad key of a spec."""
    console = _err()
    if isinstance(exc, LaunchBlockedError):
        console.print(f"[red]error[/red] ({exc.code}): {escape(exc.intro)}:")
        for item in exc.findings:
            console.print(f"  - {escape(item.message)}. {escape(item.fix)}")
    elif isinstance(exc, ModelValidationError) and len(exc.problems) > 1:
        console.print(f"[red]error[/red] ({exc.code}): {len(exc.problems)} problems:")
        for problem in exc.problems:
            console.print(f"  - {escape(str(problem))}")
    else:
        console.print(f"[red]error[/red] ({exc.code}): {escape(exc.message)}")
    raise typer.Exit(_exit_code(exc))


def _exit_code(exc: HeraldError) -> int:
    if isinstance(exc, UnreadableFileError):
        return 2
    if isinstance(exc, NotFoundError):
        return 3
    if isinstance(exc, ConflictError):
        return 4
    return 1


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("list")
def list_(
    status: Annotated[
        CampaignStatus | None, typer.Option(help="Only campaigns in this status.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only campaigns with this tag.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Campaigns, newest first, drafts included."""
    with _campaigns() as (campaigns, session, _):
        views = campaigns.list(session, status=None if status is None else status.value, tag=tag)
    if as_json:
        _print_json([view.as_dict() for view in views])
    else:
        output.print_campaigns(_out(), views)


@app.command("show")
def show(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """One campaign: status, what it can do next, tags, start, counts."""
    with _campaigns() as (campaigns, session, _):
        progress = campaigns.progress(session, campaign_id)
    if as_json:
        _print_json({**progress.campaign.as_dict(), "counters": progress.counters})
    else:
        output.print_campaign(_out(), progress.campaign, progress)


@app.command("review")
def review(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """The review summary: audience, messaging flow, automation, schedule, checks, estimate.

    Exits 1 when the campaign cannot launch yet.
    """
    with _campaigns() as (campaigns, session, _):
        summary = campaigns.review(session, campaign_id)
    if as_json:
        _print_json(summary.as_dict())
    else:
        output.print_review(_out(), summary)
    raise typer.Exit(0 if summary.can_launch else 1)


@app.command("preview")
def preview(
    campaign_id: IdArgument,
    step: Annotated[
        str, typer.Option(help="primary, fallback-1, fallback-2..., or follow-up.")
    ] = "primary",
    contact: Annotated[
        int | None, typer.Option(help="Row of the contact in the audience file [default: first].")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Render one step for one contact, with SMS segments and encoding."""
    with _campaigns() as (campaigns, session, _):
        rendered = campaigns.preview(session, campaign_id, step=step, contact_row=contact)
    if as_json:
        _print_json(rendered.as_dict())
    else:
        output.print_preview(_out(), rendered)


@app.command("apply")
def apply(
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC", help="Campaign spec (YAML).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    campaign_id: Annotated[
        int | None,
        typer.Option("--id", help="Update this campaign instead of the one with the spec's name."),
    ] = None,
) -> None:
    """Create or update the campaign a spec file describes, showing what changes."""
    try:
        text = spec_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(UnreadableFileError(f"cannot read {spec_file}: {exc}", field="spec"))
    with _campaigns() as (campaigns, session, settings):
        spec = parse_spec(text)
        result = campaigns.apply_spec(
            session,
            spec,
            base_dir=spec_file.resolve().parent,
            campaign_id=campaign_id,
            default_region=settings.default_region,
            dry_run=dry_run,
            workers=settings.import_workers,
        )
        checks = None
        if result.applied and result.campaign is not None:
            checks = campaigns.review(session, result.campaign.id).checks
    _report_apply(result, dry_run)
    refusal = result.plan.refusal() if dry_run else None
    if refusal is not None:
        _fail(refusal)
    if checks is not None:
        output.print_checks(_out(), checks)


def _report_apply(result: ApplyResult, dry_run: bool) -> None:
    console = _out()
    plan = result.plan
    name = escape(plan.spec.name)
    if plan.creates:
        verb = "Would create" if dry_run else "Created"
        created = "" if result.campaign is None else f" {result.campaign.id}"
        console.print(f"{verb} campaign{created} {name}.")
    elif not plan.changes:
        assert plan.campaign is not None
        console.print(f"Campaign {plan.campaign.id} {name}: no changes.")
        return
    else:
        assert plan.campaign is not None
        verb = "Would update" if dry_run else "Updated"
        console.print(f"{verb} campaign {plan.campaign.id} {name}:")
    output.print_changes(console, plan.changes)
    if result.imported is not None:
        audience = result.imported.audience
        console.print(
            f"Imported audience {audience.id} from {escape(audience.source_filename or '-')}: "
            f"{result.imported.summary.valid_contacts} contacts."
        )
    elif dry_run and plan.imports_audience and plan.audience_file is not None:
        console.print(f"Would import {escape(plan.audience_file.written)} as a new audience.")


@app.command("export")
def export(
    campaign_id: IdArgument,
    output_file: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write [default: stdout].")
    ] = None,
) -> None:
    """Write the campaign as a spec file; applying it back changes nothing."""
    base_dir = Path.cwd() if output_file is None else output_file.resolve().parent
    with _campaigns() as (campaigns, session, _):
        text = dump_spec(campaigns.export_spec(session, campaign_id, base_dir=base_dir))
    if output_file is None:
        typer.echo(text, nl=False)
        return
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(UnreadableFileError(f"cannot write {output_file}: {exc.strerror}", field="output"))
    _err().print(f"Wrote {escape(str(output_file))}.")


@app.command("launch")
def launch(
    campaign_id: IdArgument,
    at: Annotated[
        str | None, typer.Option("--at", help='Local start, e.g. "2025-03-30 09:00".')
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="IANA timezone of --at, e.g. Europe/Berlin.")
    ] = None,
    utc_offset: Annotated[
        str | None,
        typer.Option("--utc-offset", help="+HH:MM: which of two repeated local times (DST)."),
    ] = None,
    now: Annotated[
        bool, typer.Option("--now", help="Send now, even if the campaign has a planned start.")
    ] = False,
) -> None:
    """Send now, or schedule: at --at in --tz, else at the planned start, else now."""
    if (at is None) != (tz is None) or (now and at is not None):
        _err().print("[red]error[/red]: give --at and --tz together, and not with --now")
        raise typer.Exit(1)
    with _campaigns() as (campaigns, session, _):
        if at is not None and tz is not None:
            view = campaigns.schedule(
                session, campaign_id, local=at, timezone=tz, utc_offset=utc_offset
            )
        elif now:
            view = campaigns.launch(session, campaign_id)
        else:
            view = campaigns.launch_as_planned(session, campaign_id)
    if view.status is CampaignStatus.SCHEDULED:
        _out().print(f"Campaign {view.id} scheduled: starts {escape(output.start_text(view))}.")
    else:
        _out().print(f"Campaign {view.id} is {view.status}: {view.contact_count} contacts.")


def _transition(campaign_id: int, action: str) -> None:
    with _campaigns() as (campaigns, session, _):
        view = getattr(campaigns, action)(session, campaign_id)
    _out().print(f"Campaign {view.id} is now {output.status_text(view)}.")


@app.command("unschedule")
def unschedule(campaign_id: IdArgument) -> None:
    """Back to draft before the start; the start time is dropped."""
    _transition(campaign_id, "unschedule")


@app.command("pause")
def pause(campaign_id: IdArgument) -> None:
    """Stop sending new messages; contacts keep their place."""
    _transition(campaign_id, "pause")


@app.command("resume")
def resume(campaign_id: IdArgument) -> None:
    """Continue a paused campaign (or wait again for its start)."""
    _transition(campaign_id, "resume")


@app.command("cancel")
def cancel(campaign_id: IdArgument) -> None:
    """Stop for good; contacts still in the journey complete as cancelled."""
    _transition(campaign_id, "cancel")


@app.command("delete")
def delete(campaign_id: IdArgument) -> None:
    """Delete a draft (its audience is kept)."""
    with _campaigns() as (campaigns, session, _):
        campaigns.delete_draft(session, campaign_id)
    _out().print(f"Deleted draft {campaign_id}.")


@app.command("progress")
def progress(
    campaign_id: IdArgument,
    watch: Annotated[
        bool, typer.Option("--watch", help="Redraw until the campaign is sent.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between redraws with --watch.")
    ] = 1.0,
) -> None:
    """Outcomes so far, messages per channel and provider errors."""
    with _campaigns() as (campaigns, session, _):
        if not watch:
            output.print_progress(_out(), campaigns.progress(session, campaign_id))
            return

        def read() -> Progress:
            session.expire_all()
            result = campaigns.progress(session, campaign_id)
            session.commit()  # do not hold a read transaction between redraws
            return result

        final = output.watch_progress(read, _out(), interval_seconds=interval)
    output.print_progress(_out(), final)


@app.command("agents")
def agents() -> None:
    """The agents a campaign can pin, each at its latest published version."""
    with _campaigns() as (campaigns, session, _):
        choices = campaigns.agent_choices(session)
    table = Table("agent id", "name", "kind", "version", "version id", "published")
    for choice in choices:
        table.add_row(
            str(choice.agent.id),
            escape(choice.agent.name),
            str(choice.agent.kind),
            str(choice.version.number),
            str(choice.version.id),
            output.utc_text(choice.version.published_at),
        )
    _out().print(table)

"""How ``herald campaign`` prints campaigns, reviews, previews and progress.

Every value that comes from a user (names, texts, tags) is escaped before it
reaches Rich, so ``[brackets]`` in a message print as written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBars
from rich.table import Table

from herald.domain.campaign import CampaignStatus
from herald.domain.checks import CheckReport, Severity
from herald.domain.estimate import Estimate
from herald.domain.preview import (
    EmailMessage,
    SmsMessage,
    VoiceMessage,
    WhatsAppTemplateMessage,
    WhatsAppTextMessage,
)
from herald.domain.specdiff import SpecChange
from herald.services.campaign_audiences import AudienceOverview
from herald.services.campaign_preview import ContactPreview
from herald.services.campaign_review import Review, ScheduleView
from herald.services.campaigns import CampaignView, Progress

SEVERITY_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
STATUS_COLORS = {
    "draft": "white",
    "scheduled": "cyan",
    "running": "green",
    "paused": "yellow",
    "sent": "blue",
    "cancelled": "red",
}


def print_campaigns(console: Console, campaigns: Iterable[CampaignView]) -> None:
    table = Table("id", "name", "status", "tags", "contacts", "start", "updated (UTC)")
    for view in campaigns:
        table.add_row(
            str(view.id),
            escape(view.name),
            status_text(view),
            escape(", ".join(view.tags)),
            str(view.contact_count) if view.launched_at else "-",
            escape(start_text(view)),
            utc_text(view.updated_at),
        )
    console.print(table)


def print_campaign(console: Console, view: CampaignView, progress: Progress) -> None:
    table = Table(show_header=False, title=f"Campaign {view.id}")
    rows = [
        ("name", escape(view.name)),
        ("status", status_text(view)),
        ("can", ", ".join(str(action) for action in view.allowed_actions) or "nothing (final)"),
        ("tags", escape(", ".join(view.tags))),
        ("audience", "-" if view.audience_id is None else f"audience {view.audience_id}"),
        ("agent version", "-" if view.agent_version_id is None else str(view.agent_version_id)),
        ("default region", view.default_region),
        ("start", escape(start_text(view))),
        ("created", utc_text(view.created_at)),
        ("updated", utc_text(view.updated_at)),
        ("launched", utc_text(view.launched_at)),
        ("completed", utc_text(view.completed_at)),
    ]
    if view.launched_at is not None:
        rows.append(("contacts done", f"{progress.completed} of {view.contact_count}"))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if progress.outcomes:
        print_counts(console, "outcome", progress.outcomes)


def print_review(console: Console, review: Review) -> None:
    view = review.campaign
    console.print(f"[bold]Campaign {view.id}[/bold] {escape(view.name)} ({status_text(view)})")
    _print_audience(console, review.audience_overview)
    _print_flow(console, review)
    agent = "none" if review.agent is None else escape(str(review.agent))
    if review.agent is not None and review.agent.agent.is_builtin:
        agent += " (built in)"
    console.print(f"\n[bold]Automation[/bold]: agent {agent}; tags {escape(', '.join(view.tags))}")
    console.print(f"[bold]Scheduling[/bold]: {escape(schedule_text(review.schedule))}")
    print_checks(console, review.checks)
    if review.estimate is not None:
        _print_estimate(console, review.estimate)
    if review.can_launch:
        console.print("\n[green]Ready to launch.[/green]")
    else:
        count = len(review.checks.errors)
        console.print(f"\n[red]Cannot launch: {count} blocking finding(s) to fix.[/red]")


def print_checks(console: Console, checks: CheckReport) -> None:
    if not checks.findings:
        console.print("\n[bold]Checks[/bold]: nothing to fix.")
    else:
        table = Table("severity", "step", "finding", "what to do", title="Checks")
        for item in checks.findings:
            color = SEVERITY_COLORS[item.severity]
            table.add_row(
                f"[{color}]{item.severity}[/{color}]",
                item.step or "-",
                escape(item.message),
                escape(item.fix),
            )
        console.print(table)
    if checks.coverage:
        coverage = Table("step", "channel", "needs", "reachable", "will skip", title="Coverage")
        for row in checks.coverage:
            coverage.add_row(
                row.step, str(row.channel), str(row.needs), str(row.reachable), str(row.skipped)
            )
        console.print(coverage)


def print_preview(console: Console, preview: ContactPreview) -> None:
    contact = ", ".join(value for value in (preview.phone, preview.email) if value)
    console.print(
        f"[bold]{escape(preview.label)}[/bold] via {escape(preview.integration)} "
        f"({preview.preview.channel}) for row {preview.contact_row}: {escape(contact)}\n"
    )
    for label, text in _message_lines(preview):
        console.print(f"[bold]{label}[/bold]: {escape(text)}")
    for item in preview.preview.empty:
        used = "nothing" if not item.default else repr(item.default)
        console.print(f"[yellow]empty[/yellow]: {escape(item.name)} in {item.path}; {used} used")
    if preview.preview.missing_field is not None:
        console.print(
            f"[yellow]This contact has no {preview.preview.missing_field} "
            "and would skip this step.[/yellow]"
        )


def print_changes(console: Console, changes: Iterable[SpecChange]) -> None:
    colors = {"added": "green", "removed": "red", "changed": "yellow"}
    for change in changes:
        color = colors[str(change.kind)]
        console.print(f"[{color}]{escape(str(change))}[/{color}]")


def print_counts(console: Console, title: str, counts: dict[str, int]) -> None:
    table = Table(title, "count")
    for name, count in counts.items():
        table.add_row(escape(name), str(count))
    console.print(table)


def print_progress(console: Console, progress: Progress) -> None:
    view = progress.campaign
    console.print(
        f"Campaign {view.id} {escape(view.name)} ({status_text(view)}): "
        f"{progress.completed} of {view.contact_count} contacts done"
    )
    for title, counts in (
        ("outcome", progress.outcomes),
        ("messages sent", progress.messages_by_channel),
        ("provider error", progress.error_codes),
    ):
        if counts:
            print_counts(console, title, counts)


WATCH_STOPS_AT = frozenset({CampaignStatus.SENT, CampaignStatus.CANCELLED, CampaignStatus.DRAFT})
"""Statuses after which nothing changes by itself (a draft waits for the user)."""


def watch_progress(
    read: Callable[[], Progress],
    console: Console,
    *,
    interval_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Bars of contacts done and of each outcome, redrawn until the campaign is sent.

    A scheduled campaign is watched through its start; a paused one until it
    is resumed and finishes or is cancelled.
    """
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with ProgressBars(*columns, console=console) as bars:
        overall = bars.add_task("contacts done", total=None)
        per_outcome: dict[str, TaskID] = {}
        while True:
            progress = read()
            total = progress.campaign.contact_count or None
            bars.update(overall, total=total, completed=progress.completed)
            for outcome, count in progress.outcomes.items():
                if outcome not in per_outcome:
                    per_outcome[outcome] = bars.add_task(f"  {outcome}", total=total)
                bars.update(per_outcome[outcome], total=total, completed=count)
            if progress.campaign.status in WATCH_STOPS_AT:
                return progress
            sleep(interval_seconds)


def status_text(view: CampaignView) -> str:
    color = STATUS_COLORS.get(view.status.value, "white")
    return f"[{color}]{view.status}[/{color}]"


def start_text(view: CampaignView) -> str:
    if view.schedule_local is None or view.schedule_timezone is None:
        return "when launched" if view.launched_at is None else utc_text(view.launched_at)
    text = f"{view.schedule_local} {view.schedule_timezone}"
    if view.start_at is not None:
        text += f" ({utc_text(view.start_at)})"
    return text


def schedule_text(schedule: ScheduleView | None) -> str:
    if schedule is None:
        return "send as soon as launched"
    when = f"{schedule.local} {schedule.timezone}"
    if schedule.utc_offset:
        when += f" (UTC{schedule.utc_offset})"
    if schedule.start_at is not None:
        when += f" = {utc_text(schedule.start_at)}"
    return f"scheduled for {when}" if schedule.is_active else f"planned for {when} once launched"


def utc_text(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown (an integration has no rate limit)"
    if 0 < seconds < 1:
        return "under 1 s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def _print_audience(console: Console, audience: AudienceOverview | None) -> None:
    if audience is None:
        console.print("\n[bold]Audience[/bold]: none yet")
        return
    origin = f" from {audience.source_filename}" if audience.source_filename else ""
    if audience.copied_from_id is not None:
        origin += f" (copy of audience {audience.copied_from_id})"
    console.print(
        f"\n[bold]Audience[/bold] {audience.id} {escape(audience.name)}{escape(origin)}: "
        f"{audience.total} contacts, {audience.with_phone} with a phone, "
        f"{audience.with_email} with an email, {audience.with_phone_and_email} with both"
    )
    if audience.custom_fields:
        table = Table("custom field", "variable", "filled")
        for item in audience.custom_fields:
            table.add_row(
                escape(item.column),
                escape("{{" + item.variable + "}}"),
                f"{item.filled} ({item.fill_rate:.0%})",
            )
        console.print(table)


def _print_flow(console: Console, review: Review) -> None:
    if not review.flow:
        console.print("\n[bold]Messaging flow[/bold]: none yet")
        return
    table = Table("step", "integration", "content", "waits for delivery", title="Messaging flow")
    for step in review.flow:
        label = step.label
        if step.delay_days is not None:
            label += f" after {step.delay_days} days without reply"
        table.add_row(
            escape(label),
            f"{escape(step.integration)} ({step.kind})",
            escape(f"{step.content_type}: {step.summary}"),
            duration_text(step.delivery_window_minutes * 60),
        )
    console.print(table)


def _print_estimate(console: Console, estimate: Estimate) -> None:
    table = Table("channel", "best case", "worst case", title="Messages")
    for item in estimate.channels:
        table.add_row(str(item.channel), str(item.best), str(item.worst))
    table.add_row("[bold]total[/bold]", str(estimate.best_total), str(estimate.worst_total))
    console.print(table)
    rates = Table("integration", "rate limit", "best case", "worst case", title="Sending time")
    for load in estimate.integrations:
        rate = "unknown" if load.rate_per_second is None else f"{load.rate_per_second:g}/s"
        rates.add_row(
            escape(load.name),
            rate,
            duration_text(load.best_seconds),
            duration_text(load.worst_seconds),
        )
    console.print(rates)
    console.print(
        f"Sending takes {duration_text(estimate.best_seconds)} to "
        f"{duration_text(estimate.worst_seconds)}, plus the waiting the journey does by design."
    )


def _message_lines(preview: ContactPreview) -> list[tuple[str, str]]:
    message = preview.preview.message
    if isinstance(message, WhatsAppTemplateMessage):
        lines = [("template", f"{message.name} ({message.language})")]
        if message.header_text is not None:
            lines.append(("header", message.header_text))
        lines += [(f"body {{{{{index}}}}}", value) for index, value in enumerate(message.body, 1)]
        lines += [(f"button {b.index} ({b.type})", b.value) for b in message.buttons]
        return lines
    if isinstance(message, WhatsAppTextMessage):
        return [("text", message.text)]
    if isinstance(message, SmsMessage):
        measure = message.measure
        encoding = "GSM-7" if measure.encoding == "gsm7" else "UCS-2"
        detail = f"{measure.segments} segment(s), {encoding}, {measure.units} units"
        if measure.ucs2_characters:
            detail += " (UCS-2 because of " + " ".join(measure.ucs2_characters) + ")"
        return [("text", message.text), ("sms", detail)]
    if isinstance(message, VoiceMessage):
        lines = [("speaks", message.text), ("language", message.language)]
        if message.keypress is not None:
            options = ", ".join(
                f"{key}: {value}" for key, value in message.keypress.options.items()
            )
            lines += [("then asks", message.keypress.prompt), ("keys", options)]
        return lines
    assert isinstance(message, EmailMessage)
    lines = [("subject", message.subject), ("text", message.text)]
    if message.html is not None:
        lines.append(("html", message.html))
    return lines

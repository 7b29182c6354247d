"""The review before launch: everything the user set, the checks and the estimate.

A review is computed, never stored: from the campaign row, counts over its
audience and the current state of the integrations, so it always reflects
the present (an integration switched off since, a contact added). It works
on incomplete drafts too: what is missing becomes blocking findings
(``journey_missing``, ``journey_invalid``, ``audience_missing``,
``agent_missing``, ``schedule_invalid``) next to the pre-launch checks of
:mod:`herald.domain.checks` and the WhatsApp template checks of
:mod:`herald.domain.template_checks` (against the cached template lists),
which run once both a valid journey and an audience are set. Launching and
scheduling refuse a review with any error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.domain.audience_profile import AudienceProfile
from herald.domain.campaign import (
    CampaignStatus,
    FollowUp,
    JourneyDefinition,
    StepSlot,
    parse_journey,
)
from herald.domain.channels import IntegrationKind
from herald.domain.checks import CheckReport, Finding, IntegrationState, Severity, check_journey
from herald.domain.content import (
    EmailContent,
    SmsContent,
    VoiceContent,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.domain.estimate import Estimate, estimate_messages
from herald.domain.modeling import ModelValidationError
from herald.domain.schedule import local_to_utc
from herald.domain.template_checks import with_template_checks
from herald.errors import ValidationError
from herald.services.campaign_agents import PinnedAgent, pinned_agent
from herald.services.campaign_audiences import (
    AudienceOverview,
    audience_overview,
    audience_profile,
)
from herald.services.campaign_views import CampaignView, parse_local, view_of
from herald.services.whatsapp_templates import cached_catalogues
from herald.store.campaigns import CampaignRow
from herald.store.integrations import IntegrationRow

SUMMARY_MAX_CHARACTERS = 60
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class LaunchBlockedError(ValidationError):
    """The checks found errors; ``findings`` lists every one of them."""

    code = "checks_failed"

    def __init__(self, intro: str, findings: tuple[Finding, ...]) -> None:
        listed = "; ".join(f"{item.message} ({item.fix})" for item in findings)
        super().__init__(f"{intro}: {listed}", field=findings[0].field)
        self.intro = intro
        self.findings = findings


@dataclass(frozen=True)
class ScheduleView:
    """A start as chosen: ``is_active`` once scheduled, else planned for the launch."""

    local: str
    timezone: str
    utc_offset: str | None
    start_at: datetime | None
    is_active: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "local": self.local,
            "timezone": self.timezone,
            "utc_offset": self.utc_offset,
            "start_at": None if self.start_at is None else self.start_at.isoformat(),
            "is_active": self.is_active,
        }


@dataclass(frozen=True)
class StepOutline:
    """One step of the messaging flow, in a line: where it goes and what it says."""

    key: str
    label: str
    integration: str
    kind: IntegrationKind
    content_type: str
    summary: str
    delivery_window_minutes: int
    delay_days: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "integration": self.integration,
            "kind": str(self.kind),
            "content_type": self.content_type,
            "summary": self.summary,
            "delivery_window_minutes": self.delivery_window_minutes,
            "delay_days": self.delay_days,
        }


@dataclass(frozen=True)
class Review:
    """The review summary: audience, messaging flow, automation, scheduling, checks, estimate.

    ``audience`` (the profile), ``journey`` and ``estimate`` are None while the
    draft lacks what they need; ``checks`` then says what is missing.
    """

    campaign: CampaignView
    audience: AudienceProfile | None
    journey: JourneyDefinition | None
    checks: CheckReport
    estimate: Estimate | None
    audience_overview: AudienceOverview | None
    agent: PinnedAgent | None
    schedule: ScheduleView | None

    @property
    def can_launch(self) -> bool:
        return self.checks.can_launch

    @property
    def flow(self) -> tuple[StepOutline, ...]:
        return () if self.journey is None else tuple(outline(s) for s in self.journey.slots)

    def ensure_launchable(self) -> None:
        """Raise LaunchBlockedError listing every blocking finding, if any."""
        if self.checks.errors:
            raise LaunchBlockedError(
                f"campaign {self.campaign.id} cannot launch", self.checks.errors
            )

    def as_dict(self) -> dict[str, Any]:
        campaign = self.campaign
        return {
            "campaign": {
                "id": campaign.id,
                "name": campaign.name,
                "status": str(campaign.status),
                "allowed_actions": [str(action) for action in campaign.allowed_actions],
            },
            "audience": None
            if self.audience_overview is None
            else self.audience_overview.as_dict(),
            "flow": [step.as_dict() for step in self.flow],
            "automation": {
                "agent": None if self.agent is None else self.agent.as_dict(),
                "tags": list(campaign.tags),
            },
            "schedule": None if self.schedule is None else self.schedule.as_dict(),
            "checks": checks_as_dict(self.checks),
            "estimate": None if self.estimate is None else estimate_as_dict(self.estimate),
        }


def build_review(session: Session, row: CampaignRow, *, now: datetime) -> Review:
    findings: list[Finding] = []
    journey = _journey(row, findings)
    profile, overview = _audience(session, row, findings)
    agent = pinned_agent(session, row.agent_version_id)
    if agent is None:
        findings.append(
            _missing("agent_missing", "no agent answers replies", "Pick an agent.", "agent")
        )
    schedule = _schedule(row, findings, now)
    checks, estimate = CheckReport((), ()), None
    if journey is not None and profile is not None:
        states = integration_states(session)
        checks = with_template_checks(
            check_journey(journey, profile, states), journey, cached_catalogues(session)
        )
        rates = {state.name: state.rate_per_second for state in states}
        estimate = estimate_messages(journey, profile, rates)
    merged = sorted((*findings, *checks.findings), key=lambda item: _RANK[item.severity])
    report = CheckReport(tuple(merged), checks.coverage)
    return Review(view_of(row), profile, journey, report, estimate, overview, agent, schedule)


def integration_states(session: Session) -> list[IntegrationState]:
    return [
        IntegrationState(
            row.name, IntegrationKind(row.kind), row.is_active, row.rate_limit_per_second
        )
        for row in session.scalars(select(IntegrationRow))
    ]


def outline(slot: StepSlot) -> StepOutline:
    step = slot.step
    return StepOutline(
        key=slot.key,
        label=slot.label,
        integration=step.integration.name,
        kind=step.integration.kind,
        content_type=step.content.type,
        summary=describe_content(step.content),
        delivery_window_minutes=int(step.delivery_window.total_seconds() // 60),
        delay_days=step.delay_days if isinstance(step, FollowUp) else None,
    )


def describe_content(
    content: WhatsAppTemplateContent
    | WhatsAppTextContent
    | SmsContent
    | VoiceContent
    | EmailContent,
) -> str:
    """A few words for a step's content: the template, the subject or the start of the text."""
    if isinstance(content, WhatsAppTemplateContent):
        return f"template {content.name} ({content.language}), {len(content.body)} body parameters"
    if isinstance(content, EmailContent):
        return f"subject: {_shortened(content.subject)}"
    return _shortened(content.text)


def checks_as_dict(checks: CheckReport) -> dict[str, Any]:
    return {
        "can_launch": checks.can_launch,
        "findings": [
            {
                "code": item.code,
                "severity": str(item.severity),
                "message": item.message,
                "fix": item.fix,
                "step": item.step,
                "field": item.field,
                "contacts": item.contacts,
            }
            for item in checks.findings
        ],
        "coverage": [
            {
                "step": row.step,
                "label": row.label,
                "channel": str(row.channel),
                "needs": str(row.needs),
                "reachable": row.reachable,
                "skipped": row.skipped,
            }
            for row in checks.coverage
        ],
    }


def estimate_as_dict(estimate: Estimate) -> dict[str, Any]:
    return {
        "channels": [
            {"channel": str(item.channel), "best": item.best, "worst": item.worst}
            for item in estimate.channels
        ],
        "integrations": [
            {
                "name": load.name,
                "channel": str(load.channel),
                "best": load.best,
                "worst": load.worst,
                "rate_per_second": load.rate_per_second,
                "best_seconds": load.best_seconds,
                "worst_seconds": load.worst_seconds,
            }
            for load in estimate.integrations
        ],
        "best_total": estimate.best_total,
        "worst_total": estimate.worst_total,
        "best_seconds": estimate.best_seconds,
        "worst_seconds": estimate.worst_seconds,
    }


def _journey(row: CampaignRow, findings: list[Finding]) -> JourneyDefinition | None:
    if row.journey is None:
        findings.append(
            _missing(
                "journey_missing",
                "the campaign has no message journey yet",
                "Compose at least the primary step.",
                "journey",
            )
        )
        return None
    try:
        return parse_journey(row.journey)
    except ModelValidationError as exc:
        findings.extend(
            _missing(
                "journey_invalid",
                f"{problem.field}: {problem.message}",
                "Fix it in the message journey.",
                problem.field,
            )
            for problem in exc.problems
        )
        return None


def _audience(
    session: Session, row: CampaignRow, findings: list[Finding]
) -> tuple[AudienceProfile | None, AudienceOverview | None]:
    if row.audience_id is None:
        findings.append(
            _missing(
                "audience_missing",
                "the campaign has no audience yet",
                "Upload a file, add contacts or reuse an audience.",
                "audience",
            )
        )
        return None, None
    profile = audience_profile(session, row.audience_id)
    return profile, audience_overview(session, row.audience_id, profile)


def _schedule(row: CampaignRow, findings: list[Finding], now: datetime) -> ScheduleView | None:
    """The chosen start; a planned one that no longer converts, or has passed, is reported."""
    if row.schedule_local is None or row.schedule_timezone is None:
        return None
    is_active = row.status != CampaignStatus.DRAFT
    start_at = row.start_at
    if start_at is None:
        try:
            local = parse_local(row.schedule_local)
            utc_offset = row.schedule_utc_offset
            start_at = local_to_utc(local, row.schedule_timezone, utc_offset=utc_offset)
        except ValidationError as exc:
            findings.append(
                _missing("schedule_invalid", exc.message, "Pick another start time.", "schedule")
            )
    if not is_active and start_at is not None and start_at < now:
        findings.append(
            Finding(
                "start_in_past",
                Severity.WARNING,
                f"the planned start {row.schedule_local} ({row.schedule_timezone}) has passed",
                "Pick a later time, or send it now.",
                field="schedule.at",
            )
        )
    return ScheduleView(
        row.schedule_local, row.schedule_timezone, row.schedule_utc_offset, start_at, is_active
    )


def _missing(code: str, message: str, fix: str, field: str) -> Finding:
    return Finding(code, Severity.ERROR, message, fix, field=field)


def _shortened(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= SUMMARY_MAX_CHARACTERS:
        return line
    return line[: SUMMARY_MAX_CHARACTERS - 1] + "…"

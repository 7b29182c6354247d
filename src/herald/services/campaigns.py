"""Campaign use cases: drafts, review, scheduling, launch and the lifecycle.

Shared by the API, the CLI and the UI. Drafts keep whatever the user set,
even when incomplete (the journey is stored as entered); everything is
validated when the campaign is reviewed, scheduled or launched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.audience_profile import AudienceProfile
from herald.domain.campaign import (
    CampaignAction,
    CampaignStatus,
    JourneyDefinition,
    ensure_editable,
    next_status,
    parse_journey,
)
from herald.domain.checks import CheckReport, IntegrationState, check_journey
from herald.domain.estimate import Estimate, estimate_messages
from herald.domain.ids import CampaignId
from herald.domain.journey_state import Phase
from herald.domain.schedule import resolve_start
from herald.domain.tags import derive_unique_tag, validate_extra_tags
from herald.engine.launch import start_campaign
from herald.errors import NotFoundError, ValidationError
from herald.store.audiences import AUDIENCES, CONTACTS
from herald.store.campaigns import CampaignRow, read_counters
from herald.store.integrations import IntegrationRow
from herald.store.journeys import JOURNEYS

MAX_NAME_LENGTH = 200
# Phases that wait for no timer while a campaign is paused: woken on resume.
WAITING_PHASES = [Phase.PENDING.value, Phase.HELD.value, Phase.FOLLOW_UP_HELD.value]


@dataclass(frozen=True)
class CampaignView:
    id: CampaignId
    name: str
    tag: str
    tags: tuple[str, ...]
    status: CampaignStatus
    audience_id: int | None
    agent_version_id: int | None
    journey: dict[str, Any] | None
    default_region: str
    schedule_local: str | None
    schedule_timezone: str | None
    start_at: datetime | None
    contact_count: int
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class Review:
    campaign: CampaignView
    audience: AudienceProfile
    journey: JourneyDefinition
    checks: CheckReport
    estimate: Estimate


@dataclass(frozen=True)
class Progress:
    campaign: CampaignView
    counters: dict[str, int]

    @property
    def outcomes(self) -> dict[str, int]:
        return _prefixed(self.counters, "outcome:")

    @property
    def messages_by_channel(self) -> dict[str, int]:
        return _prefixed(self.counters, "sent:")

    @property
    def error_codes(self) -> dict[str, int]:
        return _prefixed(self.counters, "error:")

    @property
    def completed(self) -> int:
        return sum(self.outcomes.values())


def _prefixed(counters: dict[str, int], prefix: str) -> dict[str, int]:
    return {
        name.removeprefix(prefix): value
        for name, value in sorted(counters.items())
        if name.startswith(prefix) and value
    }


class CampaignServices:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- drafts -------------------------------------------------------------

    def create_draft(
        self,
        session: Session,
        *,
        name: str,
        extra_tags: Sequence[str] = (),
        audience_id: int | None = None,
        agent_version_id: int | None = None,
        journey: dict[str, Any] | None = None,
        default_region: str = "US",
    ) -> CampaignView:
        name = _checked_name(name)
        now = self._clock.now()
        row = CampaignRow(
            name=name,
            tag=derive_unique_tag(name, _existing_tags(session)),
            extra_tags=list(validate_extra_tags(list(extra_tags))),
            status=CampaignStatus.DRAFT.value,
            audience_id=audience_id,
            agent_version_id=agent_version_id,
            journey=journey,
            default_region=default_region,
            contact_count=0,
            has_started=False,
            created_at=now,
            updated_at=now,
        )
        if audience_id is not None:
            _require_audience(session, audience_id)
        session.add(row)
        session.commit()
        return _view(row)

    def update_draft(self, session: Session, campaign_id: int, **changes: Any) -> CampaignView:
        """Change any of name, extra_tags, audience_id, agent_version_id, journey."""
        row = _get_row(session, campaign_id, for_update=True)
        ensure_editable(CampaignStatus(row.status))
        allowed = {
            "name",
            "extra_tags",
            "audience_id",
            "agent_version_id",
            "journey",
            "default_region",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))}", field=min(unknown))
        if "name" in changes:
            row.name = _checked_name(changes["name"])
            others = _existing_tags(session) - {row.tag}
            row.tag = derive_unique_tag(row.name, others)
        if "extra_tags" in changes:
            row.extra_tags = list(validate_extra_tags(list(changes["extra_tags"])))
        if changes.get("audience_id") is not None:
            _require_audience(session, changes["audience_id"])
        for name in ("audience_id", "agent_version_id", "journey", "default_region"):
            if name in changes:
                setattr(row, name, changes[name])
        row.updated_at = self._clock.now()
        session.commit()
        return _view(row)

    def get(self, session: Session, campaign_id: int) -> CampaignView:
        return _view(_get_row(session, campaign_id))

    def list(
        self, session: Session, *, status: str | None = None, tag: str | None = None
    ) -> list[CampaignView]:
        query = select(CampaignRow).order_by(CampaignRow.id.desc())
        if status:
            query = query.where(CampaignRow.status == status)
        rows = [_view(row) for row in session.scalars(query)]
        return [row for row in rows if tag is None or tag in row.tags]

    # -- review -------------------------------------------------------------

    def review(self, session: Session, campaign_id: int) -> Review:
        row = _get_row(session, campaign_id)
        if row.journey is None:
            raise ValidationError("the campaign has no message journey yet", field="journey")
        if row.audience_id is None:
            raise ValidationError("the campaign has no audience yet", field="audience_id")
        journey = parse_journey(row.journey)
        audience = audience_profile(session, row.audience_id)
        states = _integration_states(session)
        checks = check_journey(journey, audience, states)
        rates = {state.name: state.rate_per_second for state in states}
        return Review(
            _view(row), audience, journey, checks, estimate_messages(journey, audience, rates)
        )

    # -- lifecycle ----------------------------------------------------------

    def schedule(
        self,
        session: Session,
        campaign_id: int,
        *,
        local: str | datetime,
        timezone: str,
        utc_offset: str | None = None,
    ) -> CampaignView:
        self.review(session, campaign_id).checks.ensure_launchable()
        row = _get_row(session, campaign_id, for_update=True)
        status = next_status(CampaignStatus(row.status), CampaignAction.SCHEDULE)
        moment = local if isinstance(local, datetime) else _parse_local(local)
        row.start_at = resolve_start(moment, timezone, now=self._clock.now(), utc_offset=utc_offset)
        row.schedule_local = moment.strftime("%Y-%m-%d %H:%M")
        row.schedule_timezone = timezone
        row.schedule_utc_offset = utc_offset
        row.status = status.value
        row.updated_at = self._clock.now()
        session.commit()
        return _view(row)

    def unschedule(self, session: Session, campaign_id: int) -> CampaignView:
        row = _get_row(session, campaign_id, for_update=True)
        row.status = next_status(CampaignStatus(row.status), CampaignAction.UNSCHEDULE).value
        row.start_at = None
        row.updated_at = self._clock.now()
        session.commit()
        return _view(row)

    def launch(self, session: Session, campaign_id: int) -> CampaignView:
        """Start now: checks must pass; one journey per contact is created."""
        self.review(session, campaign_id).checks.ensure_launchable()
        start_campaign(session, campaign_id, self._clock.now())
        session.commit()
        return self.get(session, campaign_id)

    def pause(self, session: Session, campaign_id: int) -> CampaignView:
        return self._act(session, campaign_id, CampaignAction.PAUSE)

    def resume(self, session: Session, campaign_id: int) -> CampaignView:
        view = self._act(session, campaign_id, CampaignAction.RESUME)
        # Held and not-yet-launched journeys wait for no timer: wake them.
        self._wake(session, campaign_id, JOURNEYS.c.phase.in_(WAITING_PHASES))
        return view

    def cancel(self, session: Session, campaign_id: int) -> CampaignView:
        view = self._act(session, campaign_id, CampaignAction.CANCEL)
        # Every journey without an outcome completes as cancelled, now, not
        # when its next timer (possibly days away) would have fired.
        self._wake(session, campaign_id, JOURNEYS.c.phase != Phase.DONE.value)
        return view

    def progress(self, session: Session, campaign_id: int) -> Progress:
        return Progress(self.get(session, campaign_id), read_counters(session, campaign_id))

    def _act(self, session: Session, campaign_id: int, action: CampaignAction) -> CampaignView:
        row = _get_row(session, campaign_id, for_update=True)
        row.status = next_status(
            CampaignStatus(row.status), action, has_started=row.has_started
        ).value
        row.updated_at = self._clock.now()
        session.commit()
        return _view(row)

    def _wake(self, session: Session, campaign_id: int, condition: Any) -> None:
        session.execute(
            update(JOURNEYS)
            .where(JOURNEYS.c.campaign_id == campaign_id, condition)
            .values(due_at=self._clock.now())
        )
        session.commit()


def audience_profile(session: Session, audience_id: int) -> AudienceProfile:
    """Counts for checks and estimates: addresses from the contacts, fill from the summary."""
    counts = session.execute(
        select(
            func.count(),
            func.count(CONTACTS.c.phone),
            func.count(CONTACTS.c.email),
            func.count(CONTACTS.c.phone + CONTACTS.c.email),
        ).where(CONTACTS.c.audience_id == audience_id)
    ).one()
    summary = session.scalar(select(AUDIENCES.c.summary).where(AUDIENCES.c.id == audience_id))
    fields = (summary or {}).get("custom_fields", [])
    return AudienceProfile(
        columns=tuple(item["variable"] for item in fields),
        total=counts[0],
        with_phone=counts[1],
        with_email=counts[2],
        with_phone_and_email=counts[3],
        non_empty={item["variable"]: min(item["filled"], counts[0]) for item in fields},
    )


def _integration_states(session: Session) -> list[IntegrationState]:
    from herald.domain.channels import IntegrationKind

    return [
        IntegrationState(
            row.name, IntegrationKind(row.kind), row.is_active, row.rate_limit_per_second
        )
        for row in session.scalars(select(IntegrationRow))
    ]


def _parse_local(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a local date and time like 2025-03-30 09:00", field="schedule.at"
        ) from None


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"a campaign needs a name of 1 to {MAX_NAME_LENGTH} characters", field="name"
        )
    return name


def _existing_tags(session: Session) -> set[str]:
    return set(session.scalars(select(CampaignRow.tag)))


def _require_audience(session: Session, audience_id: int) -> None:
    if session.scalar(select(AUDIENCES.c.id).where(AUDIENCES.c.id == audience_id)) is None:
        raise NotFoundError(f"audience {audience_id} does not exist", field="audience_id")


def _get_row(session: Session, campaign_id: int, *, for_update: bool = False) -> CampaignRow:
    query = select(CampaignRow).where(CampaignRow.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist", field="campaign_id")
    return row


def _view(row: CampaignRow) -> CampaignView:
    return CampaignView(
        id=CampaignId(row.id),
        name=row.name,
        tag=row.tag,
        tags=(row.tag, *row.extra_tags),
        status=CampaignStatus(row.status),
        audience_id=row.audience_id,
        agent_version_id=row.agent_version_id,
        journey=row.journey,
        default_region=row.default_region,
        schedule_local=row.schedule_local,
        schedule_timezone=row.schedule_timezone,
        start_at=row.start_at,
        contact_count=row.contact_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        launched_at=row.launched_at,
        completed_at=row.completed_at,
    )

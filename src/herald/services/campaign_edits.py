"""Writing a campaign's definition: new drafts and edits, with the rules they keep.

Both the builder (:class:`~herald.services.campaigns.CampaignServices`) and
``herald campaign apply`` go through :func:`insert_draft` and
:func:`apply_changes`, so the rules hold whichever way a campaign is edited:

- a draft keeps whatever is set, even an incomplete or invalid journey;
- renaming a draft derives its tag again from the new name; once the
  campaign leaves draft the tag is fixed, because from then on it labels
  conversations and reports;
- a scheduled campaign stays scheduled through edits, and an edit that
  would make its checks fail is refused as a whole (unschedule it to save
  incomplete work); a new start time must lie in the future;
- a campaign that has started (running, paused, sent, cancelled) cannot be
  edited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.audience.pipeline import checked_region
from herald.domain.campaign import (
    CampaignStatus,
    JourneyDefinition,
    ensure_editable,
    parse_journey,
)
from herald.domain.schedule import resolve_start
from herald.domain.spec import ScheduleSpec
from herald.domain.tags import derive_unique_tag, validate_extra_tags
from herald.errors import ConflictError, ValidationError
from herald.services.campaign_review import LaunchBlockedError, build_review
from herald.services.campaign_views import (
    CampaignView,
    existing_tags,
    format_local,
    get_row,
    rollback_on_error,
    view_of,
)
from herald.store.campaigns import CampaignRow

MAX_NAME_LENGTH = 200
TAG_ATTEMPTS = 3
"""Tries to insert a draft when concurrent creations pick the same free tag."""


class Unset(Enum):
    """The type of :data:`UNSET`: "leave this as it is", distinct from None ("clear it")."""

    TOKEN = 0


UNSET: Final = Unset.TOKEN

JourneyInput = Mapping[str, Any] | JourneyDefinition


@dataclass(frozen=True)
class AudienceSource:
    """The spec file an audience was imported from: absolute path and SHA-256 of its bytes."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Changes:
    """What an edit sets; a field left UNSET keeps its value.

    ``audience_id`` attaches that audience as it is (callers copy first when
    the audience is not the campaign's own). Changing it without an
    ``audience_source`` forgets the spec file the old audience came from.
    """

    name: str | Unset = UNSET
    extra_tags: Sequence[str] | Unset = UNSET
    audience_id: int | Unset | None = UNSET
    audience_source: AudienceSource | Unset | None = UNSET
    agent_version_id: int | Unset = UNSET
    journey: JourneyInput | Unset | None = UNSET
    default_region: str | Unset = UNSET
    schedule: ScheduleSpec | Unset | None = UNSET


def insert_draft(session: Session, clock: Clock, name: str, changes: Changes) -> CampaignView:
    """A new draft named ``name`` with ``changes`` applied, committed.

    The tag is the first free one derived from the name; when a concurrent
    creation takes it first, the insert is retried with the next one.
    """
    name = checked_name(name)
    attempt = 1
    while True:
        now = clock.now()
        row = CampaignRow(
            name=name,
            tag=derive_unique_tag(name, existing_tags(session)),
            extra_tags=[],
            status=CampaignStatus.DRAFT.value,
            default_region="US",
            contact_count=0,
            has_started=False,
            created_at=now,
            updated_at=now,
        )
        try:
            with rollback_on_error(session):
                _set_fields(session, row, changes, now)
                session.add(row)
                session.commit()
            return view_of(row)
        except sa_exc.IntegrityError as exc:
            if attempt == TAG_ATTEMPTS:
                raise ConflictError(
                    f"could not store campaign {name!r}; try again", code="concurrent_edit"
                ) from exc
            attempt += 1


def apply_changes(
    session: Session, clock: Clock, campaign_id: int, changes: Changes
) -> CampaignView:
    """Edit a draft or scheduled campaign, all or nothing, and commit."""
    with rollback_on_error(session):
        row = get_row(session, campaign_id, for_update=True)
        status = CampaignStatus(row.status)
        ensure_editable(status)
        now = clock.now()
        _set_fields(session, row, changes, now)
        if status is CampaignStatus.SCHEDULED:
            _ensure_still_launchable(session, row, now)
        row.updated_at = now
        session.commit()
    return view_of(row)


def check_inputs(changes: Changes) -> None:
    """Validate what needs no database, before a caller copies or imports an audience."""
    if not isinstance(changes.name, Unset):
        checked_name(changes.name)
    if not isinstance(changes.extra_tags, Unset):
        validate_extra_tags(list(changes.extra_tags))
    if not isinstance(changes.default_region, Unset):
        checked_region(changes.default_region)
    if not isinstance(changes.schedule, Unset) and changes.schedule is not None:
        schedule_columns(changes.schedule)


def checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"a campaign needs a name of 1 to {MAX_NAME_LENGTH} characters", field="name"
        )
    return name


def journey_json(journey: JourneyInput | None) -> dict[str, Any] | None:
    """What is stored: a valid journey in its canonical form, anything else as given."""
    if journey is None:
        return None
    if not isinstance(journey, JourneyDefinition):
        if not isinstance(journey, Mapping):
            raise ValidationError(
                "the journey must be an object with a primary step", field="journey"
            )
        try:
            journey = parse_journey(journey)
        except ValidationError:
            return dict(journey)  # a draft keeps what the user has so far
    return journey.model_dump(mode="json", exclude_none=True)


def schedule_columns(schedule: ScheduleSpec) -> tuple[str, str, str | None]:
    """(local, timezone, utc_offset) as stored, after the daylight-saving checks."""
    schedule.start_utc()
    return format_local(schedule.at), schedule.timezone, schedule.utc_offset


def _set_fields(session: Session, row: CampaignRow, changes: Changes, now: datetime) -> None:
    is_draft = row.status == CampaignStatus.DRAFT.value
    if not isinstance(changes.name, Unset):
        row.name = checked_name(changes.name)
        if is_draft:
            row.tag = derive_unique_tag(row.name, existing_tags(session) - {row.tag})
    if not isinstance(changes.extra_tags, Unset):
        row.extra_tags = list(validate_extra_tags(list(changes.extra_tags)))
    if not isinstance(changes.audience_id, Unset):
        row.audience_id = changes.audience_id
        if isinstance(changes.audience_source, Unset):
            row.audience_source_path = row.audience_source_sha256 = None
    if not isinstance(changes.audience_source, Unset):
        source = changes.audience_source
        row.audience_source_path = None if source is None else source.path
        row.audience_source_sha256 = None if source is None else source.sha256
    if not isinstance(changes.agent_version_id, Unset):
        row.agent_version_id = changes.agent_version_id
    if not isinstance(changes.journey, Unset):
        row.journey = journey_json(changes.journey)
    if not isinstance(changes.default_region, Unset):
        row.default_region = checked_region(changes.default_region)
    if not isinstance(changes.schedule, Unset):
        _set_schedule(row, changes.schedule, now)


def _set_schedule(row: CampaignRow, schedule: ScheduleSpec | None, now: datetime) -> None:
    """A draft's planned start, or a scheduled campaign's new start (in the future)."""
    columns = (None, None, None) if schedule is None else schedule_columns(schedule)
    current = (row.schedule_local, row.schedule_timezone, row.schedule_utc_offset)
    if columns == current:
        return
    if row.status == CampaignStatus.SCHEDULED.value:
        if schedule is None:
            raise ConflictError(
                f"campaign {row.id} is scheduled, so it needs a start time; "
                "unschedule it to send it without one",
                code="schedule_required",
                field="schedule",
            )
        row.start_at = resolve_start(
            schedule.at, schedule.timezone, now=now, utc_offset=schedule.utc_offset
        )
    row.schedule_local, row.schedule_timezone, row.schedule_utc_offset = columns


def _ensure_still_launchable(session: Session, row: CampaignRow, now: datetime) -> None:
    session.flush()
    review = build_review(session, row, now=now)
    if review.checks.errors:
        raise LaunchBlockedError(
            f"campaign {row.id} is scheduled, so its checks must keep passing "
            "(unschedule it to save an incomplete change)",
            review.checks.errors,
        )

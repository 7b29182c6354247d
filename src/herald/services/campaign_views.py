"""What callers see of a campaign, and the row lookups the campaign services share.

:class:`CampaignView` is a frozen snapshot of a campaign row; the services
return it after every change so the API, the CLI and the UI never hold a
live ORM object. The schedule is kept as the user wrote it (local wall-clock
text, IANA zone, optional UTC offset) next to the UTC instant the scheduler
compares, so a review shows what the user chose and an export writes it back
unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from herald.domain.campaign import (
    EDITABLE_STATUSES,
    CampaignAction,
    CampaignStatus,
    allowed_actions,
)
from herald.domain.ids import CampaignId
from herald.domain.tags import campaign_tags
from herald.errors import NotFoundError, ValidationError
from herald.store.campaigns import CampaignRow


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
    schedule_utc_offset: str | None
    start_at: datetime | None
    contact_count: int
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None

    @property
    def extra_tags(self) -> tuple[str, ...]:
        return self.tags[1:]

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def allowed_actions(self) -> tuple[CampaignAction, ...]:
        """What the lifecycle accepts now (``complete`` is the engine's, not the user's)."""
        return tuple(
            action
            for action in allowed_actions(self.status)
            if action is not CampaignAction.COMPLETE
        )

    @property
    def has_schedule(self) -> bool:
        """True when a start time is set: planned (draft) or active (scheduled)."""
        return self.schedule_local is not None and self.schedule_timezone is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as their values, datetimes in ISO 8601 (UTC)."""
        moments = ("start_at", "created_at", "updated_at", "launched_at", "completed_at")
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "tag": self.tag,
            "tags": list(self.tags),
            "status": self.status.value,
            "allowed_actions": [action.value for action in self.allowed_actions],
            "audience_id": self.audience_id,
            "agent_version_id": self.agent_version_id,
            "journey": self.journey,
            "default_region": self.default_region,
            "schedule_local": self.schedule_local,
            "schedule_timezone": self.schedule_timezone,
            "schedule_utc_offset": self.schedule_utc_offset,
            "contact_count": self.contact_count,
        }
        for name in moments:
            moment: datetime | None = getattr(self, name)
            data[name] = None if moment is None else moment.isoformat()
        return data


def view_of(row: CampaignRow) -> CampaignView:
    return CampaignView(
        id=CampaignId(row.id),
        name=row.name,
        tag=row.tag,
        tags=campaign_tags(row.tag, row.extra_tags),
        status=CampaignStatus(row.status),
        audience_id=row.audience_id,
        agent_version_id=row.agent_version_id,
        journey=row.journey,
        default_region=row.default_region,
        schedule_local=row.schedule_local,
        schedule_timezone=row.schedule_timezone,
        schedule_utc_offset=row.schedule_utc_offset,
        start_at=row.start_at,
        contact_count=row.contact_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        launched_at=row.launched_at,
        completed_at=row.completed_at,
    )


def get_row(session: Session, campaign_id: int, *, for_update: bool = False) -> CampaignRow:
    """The campaign's row (locked with ``for_update``); NotFoundError if there is none."""
    query = select(CampaignRow).where(CampaignRow.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist", field="campaign_id")
    return row


@contextmanager
def rollback_on_error(session: Session) -> Iterator[None]:
    """Roll back when the block fails, releasing row locks (and SQLite's write lock) at once."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def existing_tags(session: Session) -> set[str]:
    return set(session.scalars(select(CampaignRow.tag)))


def engine_of(session: Session) -> Engine:
    """The engine behind ``session``, for audience work done in its own transactions."""
    return session.get_bind().engine


def parse_local(text: str, *, field: str = "schedule.at") -> datetime:
    """``2025-03-30 09:00`` (seconds optional, ``T`` accepted) as a naive datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        raise ValidationError(
            f"{text!r} is not a local date and time like 2025-03-30 09:00 "
            "(write the UTC offset separately, as utc_offset)",
            code="invalid_local_time",
            field=field,
        )
    return moment


def format_local(moment: datetime) -> str:
    """The inverse of :func:`parse_local`; seconds only when there are some."""
    if moment.second == 0 and moment.microsecond == 0:
        return moment.isoformat(sep=" ", timespec="minutes")
    return moment.isoformat(sep=" ")


def parse_status(text: str) -> CampaignStatus:
    """A status filter as users type it; an unknown one names the valid values."""
    try:
        return CampaignStatus(text.strip().lower())
    except ValueError:
        known = ", ".join(status.value for status in CampaignStatus)
        raise ValidationError(
            f"unknown status {text!r}; use one of {known}", field="status"
        ) from None

"""The campaign lifecycle: schedule, launch, pause, resume, cancel, and progress.

Every transition goes through :func:`herald.domain.campaign.next_status`, so
an illegal one is refused with an IllegalTransitionError naming what the
campaign can do instead. Scheduling and launching also run the review and
refuse (LaunchBlockedError) while any check finds an error, listing them
all. A start time must exist in its timezone (no DST gap), be unambiguous
(or have its UTC offset given) and lie in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.campaign import CampaignAction, CampaignStatus, next_status
from herald.domain.journey_state import Phase
from herald.domain.modeling import validate_model
from herald.domain.schedule import resolve_start
from herald.domain.spec import ScheduleSpec
from herald.engine.launch import start_campaign
from herald.services.campaign_edits import schedule_columns
from herald.services.campaign_review import build_review
from herald.services.campaign_views import (
    CampaignView,
    get_row,
    parse_local,
    rollback_on_error,
    view_of,
)
from herald.store.campaigns import CampaignRow, read_counters
from herald.store.journeys import JOURNEYS

# Phases that wait for no timer while a campaign is paused: woken on resume.
WAITING_PHASES = [Phase.PENDING.value, Phase.HELD.value, Phase.FOLLOW_UP_HELD.value]


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


class CampaignLifecycle:
    """Status changes of one campaign; each locks the campaign's row and commits."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def get(self, session: Session, campaign_id: int) -> CampaignView:
        return view_of(get_row(session, campaign_id))

    def schedule(
        self,
        session: Session,
        campaign_id: int,
        *,
        local: str | datetime,
        timezone: str,
        utc_offset: str | None = None,
    ) -> CampaignView:
        """Start at a local time in ``timezone``: in the future, not in a DST gap or overlap.

        Refused when the checks fail (every blocking finding is listed) or the
        status does not allow it. A scheduled campaign gets the new time.
        """
        plan = schedule_spec(local, timezone, utc_offset)
        with rollback_on_error(session):
            row = get_row(session, campaign_id, for_update=True)
            status = next_status(CampaignStatus(row.status), CampaignAction.SCHEDULE)
            now = self._clock.now()
            columns = schedule_columns(plan)
            row.start_at = resolve_start(
                plan.at, plan.timezone, now=now, utc_offset=plan.utc_offset
            )
            row.schedule_local, row.schedule_timezone, row.schedule_utc_offset = columns
            session.flush()
            build_review(session, row, now=now).ensure_launchable()
            row.status, row.updated_at = status.value, now
            session.commit()
        return view_of(row)

    def unschedule(self, session: Session, campaign_id: int) -> CampaignView:
        """Back to draft, without a start time; nothing was sent."""
        with rollback_on_error(session):
            row = get_row(session, campaign_id, for_update=True)
            row.status = next_status(CampaignStatus(row.status), CampaignAction.UNSCHEDULE).value
            _clear_schedule(row)
            row.updated_at = self._clock.now()
            session.commit()
        return view_of(row)

    def launch(self, session: Session, campaign_id: int) -> CampaignView:
        """Send now: checks must pass; one journey per contact is created.

        A planned or scheduled start is dropped: the campaign started now.
        """
        with rollback_on_error(session):
            row = get_row(session, campaign_id, for_update=True)
            next_status(CampaignStatus(row.status), CampaignAction.LAUNCH)
            build_review(session, row, now=self._clock.now()).ensure_launchable()
            _clear_schedule(row)
            session.flush()
            start_campaign(session, campaign_id, self._clock.now())
            session.commit()
        return self.get(session, campaign_id)

    def launch_as_planned(self, session: Session, campaign_id: int) -> CampaignView:
        """Schedule at the planned start if the campaign has one, else send now."""
        row = get_row(session, campaign_id)
        if row.schedule_local is None or row.schedule_timezone is None:
            return self.launch(session, campaign_id)
        return self.schedule(
            session,
            campaign_id,
            local=row.schedule_local,
            timezone=row.schedule_timezone,
            utc_offset=row.schedule_utc_offset,
        )

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
        with rollback_on_error(session):
            row = get_row(session, campaign_id, for_update=True)
            row.status = next_status(
                CampaignStatus(row.status), action, has_started=row.has_started
            ).value
            row.updated_at = self._clock.now()
            session.commit()
        return view_of(row)

    def _wake(self, session: Session, campaign_id: int, condition: Any) -> None:
        session.execute(
            update(JOURNEYS)
            .where(JOURNEYS.c.campaign_id == campaign_id, condition)
            .values(due_at=self._clock.now())
        )
        session.commit()


def _clear_schedule(row: CampaignRow) -> None:
    row.start_at = None
    row.schedule_local = row.schedule_timezone = row.schedule_utc_offset = None


def schedule_spec(local: str | datetime, timezone: str, utc_offset: str | None) -> ScheduleSpec:
    """A start as the user gave it, validated into the spec's value (errors name ``schedule.*``)."""
    moment = local if isinstance(local, datetime) else parse_local(local)
    data = {"at": moment, "timezone": timezone, "utc_offset": utc_offset}
    return validate_model(ScheduleSpec, data, root="schedule")

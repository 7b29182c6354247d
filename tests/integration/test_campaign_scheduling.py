"""Scheduling and the lifecycle on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from herald.domain.campaign import CampaignStatus
from herald.errors import ConflictError, IllegalTransitionError, ValidationError
from herald.services.campaign_review import LaunchBlockedError
from herald.services.campaigns import CampaignServices, CampaignView
from tests.support.engine import EngineHarness, reminder_journey

CSV = (
    "email,phone,name,appointment_date\n"
    "alex@example.com,+12025550101,Alex,2025-03-10\n"
    "priya@example.in,,Priya,2025-03-12\n"
)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def campaigns(harness: EngineHarness) -> CampaignServices:
    return harness.herald.campaigns


def _draft(harness: EngineHarness, **overrides: object) -> CampaignView:
    fields: dict[str, object] = {
        "name": "Reminders",
        "audience_id": harness.import_audience(CSV),
        "journey": reminder_journey(),
    }
    fields.update(overrides)
    with harness.herald.sessions() as session:
        return harness.herald.campaigns.create_draft(session, **fields)  # type: ignore[arg-type]


def test_a_time_skipped_by_dst_is_refused_naming_the_alternatives(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session, pytest.raises(ValidationError) as caught:
        campaigns.schedule(session, view.id, local="2025-03-30 02:30", timezone="Europe/Berlin")
    assert caught.value.field == "schedule.at"
    assert "choose 01:59 or 03:00 or later" in caught.value.message
    assert harness.status(view.id) == "draft"


def test_a_repeated_time_needs_its_utc_offset(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session:
        with pytest.raises(ValidationError, match=r"utc_offset \+02:00 or \+01:00"):
            campaigns.schedule(session, view.id, local="2025-10-26 02:30", timezone="Europe/Berlin")
        later = campaigns.schedule(
            session,
            view.id,
            local="2025-10-26 02:30",
            timezone="Europe/Berlin",
            utc_offset="+01:00",
        )
    assert later.start_at == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)
    assert (later.schedule_local, later.schedule_utc_offset) == ("2025-10-26 02:30", "+01:00")


def test_a_start_in_the_past_or_a_bad_zone_is_refused(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session:
        with pytest.raises(ValidationError) as past:
            campaigns.schedule(session, view.id, local="2025-03-03 08:59", timezone="UTC")
        with pytest.raises(ValidationError, match="did you mean Europe/Berlin"):
            campaigns.schedule(session, view.id, local="2025-04-01 09:00", timezone="Europe/Berln")
        with pytest.raises(ValidationError, match="not a local date and time"):
            campaigns.schedule(session, view.id, local="tomorrow", timezone="UTC")
    assert past.value.code == "start_in_past"


def test_scheduling_refuses_failing_checks_listing_every_blocking_finding(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    journey = reminder_journey()
    journey["fallbacks"][0]["content"]["text"] = "Hi {{nmae}}"
    journey["follow_up"]["delay_days"] = 9
    view = _draft(harness, journey=journey)
    with harness.herald.sessions() as session, pytest.raises(LaunchBlockedError) as caught:
        campaigns.schedule(session, view.id, local="2025-04-01 09:00", timezone="UTC")
    assert {item.code for item in caught.value.findings} == {"unknown_variable", "follow_up_delay"}
    assert "Did you mean 'name'?" in caught.value.message
    assert caught.value.code == "checks_failed"
    with harness.herald.sessions() as session, pytest.raises(LaunchBlockedError):
        campaigns.launch(session, view.id)
    assert harness.status(view.id) == "draft"


def test_a_scheduled_campaign_can_be_edited_while_its_checks_pass(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    broken = reminder_journey()
    broken["primary"]["integration"]["name"] = "nowhere"
    with harness.herald.sessions() as session:
        campaigns.schedule(session, view.id, local="2025-03-10 09:00", timezone="America/New_York")
        edited = campaigns.update_draft(session, view.id, extra_tags=["vip"])
        with pytest.raises(LaunchBlockedError, match="unschedule it") as caught:
            campaigns.update_draft(session, view.id, journey=broken, extra_tags=["lost"])
        with pytest.raises(ConflictError, match="unschedule"):
            campaigns.update_draft(session, view.id, schedule=None)
        after = campaigns.get(session, view.id)
    assert edited.status is CampaignStatus.SCHEDULED and edited.tags[1:] == ("vip",)
    assert caught.value.findings[0].code == "integration_missing"
    assert after.tags[1:] == ("vip",) and after.journey == edited.journey


def test_moving_the_start_of_a_scheduled_campaign_keeps_it_scheduled(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    from herald.domain.spec import ScheduleSpec

    view = _draft(harness)
    with harness.herald.sessions() as session:
        campaigns.schedule(session, view.id, local="2025-03-10 09:00", timezone="UTC")
        moved = campaigns.update_draft(
            session,
            view.id,
            schedule=ScheduleSpec(at=datetime(2025, 3, 11, 9, 0), timezone="UTC"),
        )
        with pytest.raises(ValidationError, match="in the past"):
            campaigns.update_draft(
                session,
                view.id,
                schedule=ScheduleSpec(at=datetime(2025, 3, 1, 9, 0), timezone="UTC"),
            )
    assert moved.status is CampaignStatus.SCHEDULED
    assert moved.start_at == datetime(2025, 3, 11, 9, 0, tzinfo=UTC)


def test_unscheduling_returns_to_draft_without_a_start(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session:
        campaigns.schedule(session, view.id, local="2025-03-10 09:00", timezone="UTC")
        draft = campaigns.unschedule(session, view.id)
        with pytest.raises(IllegalTransitionError, match="cannot unschedule a draft"):
            campaigns.unschedule(session, view.id)
    assert draft.status is CampaignStatus.DRAFT
    assert (draft.start_at, draft.schedule_local, draft.schedule_timezone) == (None, None, None)


def test_the_scheduler_starts_a_scheduled_campaign_once_its_time_passes(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session:
        campaigns.schedule(session, view.id, local="2025-03-03 10:30", timezone="Europe/Berlin")
    _, _, scheduler = harness.workers()
    harness.clock.advance(timedelta(minutes=29))
    assert asyncio.run(scheduler.run_once()) == 0
    assert harness.status(view.id) == "scheduled"
    harness.clock.advance(timedelta(minutes=2))
    assert asyncio.run(scheduler.run_once()) == 1
    with harness.herald.sessions() as session:
        started = campaigns.get(session, view.id)
    assert (started.status, started.contact_count) == (CampaignStatus.RUNNING, 2)
    assert started.launched_at == harness.clock.now()


def test_a_planned_start_from_a_draft_is_used_when_launched(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    from herald.domain.spec import ScheduleSpec

    planned = ScheduleSpec(at=datetime(2025, 3, 4, 9, 0), timezone="UTC")
    view = _draft(harness, schedule=planned)
    now = _draft(harness, name="Now")
    abandoned = _draft(harness, name="Abandoned plan", schedule=planned)
    with harness.herald.sessions() as session:
        assert campaigns.get(session, view.id).start_at is None  # planned, not active
        scheduled = campaigns.launch_as_planned(session, view.id)
        running = campaigns.launch_as_planned(session, now.id)
        sent_now = campaigns.launch(session, abandoned.id)
    assert scheduled.status is CampaignStatus.SCHEDULED
    assert scheduled.start_at == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert running.status is CampaignStatus.RUNNING
    assert abandoned.schedule_local == "2025-03-04 09:00"
    assert (sent_now.status, sent_now.schedule_local) == (CampaignStatus.RUNNING, None)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("pause", "cannot pause a draft campaign; a draft campaign can: schedule, launch"),
        ("resume", "cannot resume a draft campaign"),
        ("cancel", "cannot cancel a draft campaign"),
    ],
)
def test_illegal_transitions_of_a_draft_are_refused(
    harness: EngineHarness, campaigns: CampaignServices, action: str, message: str
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session, pytest.raises(IllegalTransitionError) as caught:
        getattr(campaigns, action)(session, view.id)
    assert caught.value.message.startswith(message)
    assert harness.status(view.id) == "draft"


def test_a_started_campaign_refuses_edits_relaunch_and_deletion(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    view = _draft(harness)
    with harness.herald.sessions() as session:
        campaigns.launch(session, view.id)
        with pytest.raises(IllegalTransitionError, match="cannot launch a running campaign"):
            campaigns.launch(session, view.id)
        with pytest.raises(IllegalTransitionError, match="cannot edit a running campaign") as e:
            campaigns.update_draft(session, view.id, name="Other")
        assert e.value.code == "not_editable"
        with pytest.raises(IllegalTransitionError):
            campaigns.add_contact(session, view.id, phone="+12025550109")
        with pytest.raises(IllegalTransitionError, match="only drafts can be deleted"):
            campaigns.delete_draft(session, view.id)
        paused = campaigns.pause(session, view.id)
        resumed = campaigns.resume(session, view.id)
        cancelled = campaigns.cancel(session, view.id)
        with pytest.raises(IllegalTransitionError, match="cancelled is final"):
            campaigns.resume(session, view.id)
    assert [paused.status, resumed.status, cancelled.status] == [
        CampaignStatus.PAUSED,
        CampaignStatus.RUNNING,
        CampaignStatus.CANCELLED,
    ]


def test_a_draft_is_deleted_and_its_audience_kept(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    from herald.errors import NotFoundError
    from herald.services.audiences import get_audience

    view = _draft(harness)
    with harness.herald.sessions() as session:
        campaigns.delete_draft(session, view.id)
        with pytest.raises(NotFoundError):
            campaigns.get(session, view.id)
    assert view.audience_id is not None
    assert get_audience(harness.herald.engine, view.audience_id).name == "Reminders"


def test_a_planned_start_that_has_passed_is_reported_and_refused_at_launch(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    from herald.domain.spec import ScheduleSpec

    planned = ScheduleSpec(at=datetime(2025, 3, 3, 10, 0), timezone="Europe/Berlin")
    view = _draft(harness, schedule=planned)
    with harness.herald.sessions() as session:
        assert not [
            f
            for f in campaigns.review(session, view.id).checks.findings
            if f.code == "start_in_past"
        ]
        harness.clock.advance(timedelta(hours=1))
        review = campaigns.review(session, view.id)
        with pytest.raises(ValidationError) as caught:
            campaigns.launch_as_planned(session, view.id)
    passed = [item for item in review.checks.warnings if item.code == "start_in_past"]
    assert passed and "2025-03-03 10:00 (Europe/Berlin) has passed" in passed[0].message
    assert review.can_launch  # a warning: sending now is still possible
    assert caught.value.code == "start_in_past"

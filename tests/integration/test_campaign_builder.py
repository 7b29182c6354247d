"""The campaign builder on SQLite and PostgreSQL: drafts, audiences, agents, preview, review."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.agents import AgentKind
from herald.domain.campaign import CampaignStatus
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services import agents as registry
from herald.services.audiences import get_audience, list_audiences, list_contacts
from herald.services.campaigns import CampaignServices
from tests.support.engine import EngineHarness, reminder_journey

CSV = (
    "email,phone,name,appointment_date\n"
    "alex@example.com,+12025550101,Alex,2025-03-10\n"
    "jamie@example.net,+442071838750,,2025-03-11\n"
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


def _contacts(harness: EngineHarness, audience_id: int | None) -> list[str]:
    assert audience_id is not None
    return [c.email or "" for c in list_contacts(harness.herald.engine, audience_id)]


def test_an_incomplete_draft_is_kept_listed_and_says_what_is_missing(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    broken = {"primary": {"integration": {"name": "clinic-sms", "kind": "infobip_sms"}}}
    with harness.herald.sessions() as session:
        draft = campaigns.create_draft(session, name="  Spring Check-ups 2025! ", journey=broken)
        listed = campaigns.list(session, status="draft")
        review = campaigns.review(session, draft.id)
    assert (draft.name, draft.tag, draft.status) == (
        "Spring Check-ups 2025!",
        "spring-check-ups-2025",
        CampaignStatus.DRAFT,
    )
    assert draft.journey == broken  # kept as entered
    assert [view.id for view in listed] == [draft.id]
    codes = {(item.code, item.field) for item in review.checks.errors}
    assert ("audience_missing", "audience") in codes
    assert ("journey_invalid", "journey.primary.content") in codes
    assert review.agent is not None and review.agent.agent.is_builtin
    assert not review.can_launch and review.estimate is None


def test_drafts_are_listed_by_status_and_by_any_tag(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    with harness.herald.sessions() as session:
        first = campaigns.create_draft(session, name="Reminders", extra_tags=["reminders", "vip"])
        assert first.tags == ("reminders", "vip")
        second = campaigns.create_draft(session, name="Reminders")
        assert second.tag == "reminders-2"
        assert [v.id for v in campaigns.list(session, tag="vip")] == [first.id]
        assert [v.id for v in campaigns.list(session, tag="reminders-2")] == [second.id]
        assert [v.id for v in campaigns.list(session)] == [second.id, first.id]
        assert campaigns.list(session, status="running") == []
        with pytest.raises(ValidationError, match="unknown status 'done'"):
            campaigns.list(session, status="done")


def test_renaming_derives_the_tag_again_only_while_draft(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    audience_id = harness.import_audience(CSV)
    with harness.herald.sessions() as session:
        view = campaigns.create_draft(
            session, name="Spring", audience_id=audience_id, journey=reminder_journey()
        )
        renamed = campaigns.update_draft(session, view.id, name="Autumn Reminders")
        assert renamed.tag == "autumn-reminders"
        campaigns.schedule(session, view.id, local="2025-03-04 09:00", timezone="UTC")
        scheduled = campaigns.update_draft(session, view.id, name="Winter")
    assert (scheduled.name, scheduled.tag, scheduled.status) == (
        "Winter",
        "autumn-reminders",
        CampaignStatus.SCHEDULED,
    )


def test_reused_audiences_are_copies_that_change_independently(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    library = harness.import_audience(CSV)
    with harness.herald.sessions() as session:
        with pytest.raises(ValidationError, match="try 'bad-tag'"):
            campaigns.create_draft(session, name="X", audience_id=library, extra_tags=["Bad Tag"])
        assert len(list_audiences(harness.herald.engine)) == 1  # refused before copying
        first = campaigns.create_draft(session, name="First", audience_id=library)
        assert first.audience_id not in (None, library)
        campaigns.add_contact(session, first.id, email="new@example.com", fields={"name": "New"})
        second = campaigns.reuse_audience(
            session, campaigns.create_draft(session, name="Second").id, from_campaign_id=first.id
        )
        campaigns.add_contact(session, second.id, email="only-second@example.com")
        third = campaigns.create_draft(session, name="Third")
        third = campaigns.reuse_audience(session, third.id, audience_id=library)
        with pytest.raises(ValidationError, match="either an audience or"):
            campaigns.reuse_audience(session, third.id)
    assert len(_contacts(harness, library)) == 3
    assert _contacts(harness, first.audience_id)[-1] == "new@example.com"
    assert len(_contacts(harness, first.audience_id)) == 4
    assert _contacts(harness, second.audience_id)[-2:] == [
        "new@example.com",
        "only-second@example.com",
    ]
    assert len({library, first.audience_id, second.audience_id, third.audience_id}) == 4
    assert second.audience_id is not None
    copy = get_audience(harness.herald.engine, second.audience_id)
    assert (copy.name, copy.copied_from_id) == ("Second", first.audience_id)


def test_an_audience_uploaded_or_built_by_quick_add_belongs_to_the_campaign(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    with harness.herald.sessions() as session:
        view = campaigns.create_draft(session, name="Walk-ins")
        with pytest.raises(ValidationError, match="no audience yet") as caught:
            campaigns.add_contact(session, view.id, phone="+12025550101")
        assert caught.value.code == "audience_missing"
        view = campaigns.start_audience(session, view.id, custom_fields=["name"])
        added = campaigns.add_contact(
            session, view.id, phone="+1 202 555 0102", fields={"name": "Sam"}
        )
        assert (added.contact.phone, added.contact.fields) == ("+12025550102", {"name": "Sam"})
        with pytest.raises(ConflictError, match="already in this audience"):
            campaigns.add_contact(session, view.id, phone="+12025550102")
        uploaded = campaigns.upload_audience(
            session, view.id, io.BytesIO(CSV.encode()), filename="walk-ins.csv"
        )
    assert uploaded.audience_id != view.audience_id
    assert uploaded.audience_id is not None
    record = get_audience(harness.herald.engine, uploaded.audience_id)
    assert (record.name, record.source_filename) == ("Walk-ins", "walk-ins.csv")
    assert len(_contacts(harness, uploaded.audience_id)) == 3


def test_the_campaign_pins_a_published_agent_version(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    config = {"intents": [{"name": "hi", "keywords": {"en": ["hi"]}, "reply": "Hello"}]}
    clock = harness.clock
    with harness.herald.sessions() as session:
        default = campaigns.create_draft(session, name="Default agent")
        agent, first = registry.create_agent(
            session, name="Front desk", kind=AgentKind.RULES, config=config, clock=clock
        )
        session.commit()
        with pytest.raises(ValidationError, match="no published version") as caught:
            campaigns.choose_agent(session, default.id, agent.id)
        assert caught.value.code == "agent_unpublished"
        with pytest.raises(ConflictError) as draft_refused:
            campaigns.update_draft(session, default.id, agent_version_id=first.id)
        assert draft_refused.value.code == "version_not_published"
        registry.publish_version(session, first.id, clock)
        session.commit()
        choices = {c.agent.name: c.version.number for c in campaigns.agent_choices(session)}
        assert choices == {"Front desk": 1, "Herald default": 1}
        pinned = campaigns.choose_agent(session, default.id, agent.id)
        second = registry.save_draft(session, agent.id, config, clock)
        registry.publish_version(session, second.id, clock)
        session.commit()
        still = campaigns.get(session, default.id)
        repinned = campaigns.choose_agent(session, default.id, agent.id)
        back = campaigns.update_draft(session, default.id, agent_version_id=None)
    assert default.agent_version_id is not None and default.agent_version_id != first.id
    assert pinned.agent_version_id == first.id == still.agent_version_id
    assert repinned.agent_version_id == second.id
    assert back.agent_version_id == default.agent_version_id


def test_preview_renders_any_step_for_any_contact(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    audience_id = harness.import_audience(CSV)
    journey = reminder_journey()
    journey["fallbacks"][0]["content"]["text"] = "Hi {{name|there}} 😊 see you {{appointment_date}}"
    with harness.herald.sessions() as session:
        view = campaigns.create_draft(
            session, name="Preview", audience_id=audience_id, journey=journey
        )
        assert campaigns.variables(session, view.id) == (
            "phone",
            "email",
            "name",
            "appointment_date",
        )
        first = campaigns.preview(session, view.id)
        sms = campaigns.preview(session, view.id, step="fallback-1", contact_row=3)
        skipped = campaigns.preview(session, view.id, step="follow-up", contact_row=4)
        with pytest.raises(ValidationError, match="primary, fallback-1, follow-up"):
            campaigns.preview(session, view.id, step="fallback-2")
        with pytest.raises(NotFoundError, match="row 9 of the audience is not a contact"):
            campaigns.preview(session, view.id, contact_row=9)
    assert (first.step, first.contact_row, first.phone) == ("primary", 2, "+12025550101")
    assert first.as_dict()["message"]["body"] == ["Alex", "2025-03-10"]
    data = sms.as_dict()
    assert data["message"]["text"] == "Hi there 😊 see you 2025-03-11"
    assert data["message"]["measure"]["encoding"] == "ucs2"
    assert data["message"]["measure"]["segments"] == 1
    assert data["empty"] == [{"path": "content.text", "name": "name", "default": "there"}]
    assert skipped.preview.would_skip and skipped.as_dict()["missing_field"] == "phone"


def test_the_review_summarises_audience_flow_automation_schedule_checks_and_estimate(
    harness: EngineHarness, campaigns: CampaignServices
) -> None:
    audience_id = harness.import_audience(CSV)
    with harness.herald.sessions() as session:
        view = campaigns.create_draft(
            session,
            name="Review me",
            extra_tags=["clinic-north"],
            audience_id=audience_id,
            journey=reminder_journey(),
        )
        campaigns.schedule(session, view.id, local="2025-03-30 03:30", timezone="Europe/Berlin")
        summary = campaigns.review(session, view.id).as_dict()
    audience = summary["audience"]
    assert (audience["total"], audience["with_phone"], audience["with_email"]) == (3, 2, 3)
    fill = {
        item["variable"]: (item["filled"], item["fill_rate"]) for item in audience["custom_fields"]
    }
    assert fill == {"name": (2, 0.6667), "appointment_date": (3, 1.0)}
    flow = summary["flow"]
    assert [(s["key"], s["integration"], s["delay_days"]) for s in flow] == [
        ("primary", "clinic-whatsapp", None),
        ("fallback-1", "clinic-sms", None),
        ("follow-up", "clinic-sms", 2),
    ]
    assert flow[0]["delivery_window_minutes"] == 360
    assert summary["automation"]["agent"]["name"] == "Herald default"
    assert summary["automation"]["tags"] == ["review-me", "clinic-north"]
    assert summary["schedule"] == {
        "local": "2025-03-30 03:30",
        "timezone": "Europe/Berlin",
        "utc_offset": None,
        "start_at": "2025-03-30T01:30:00+00:00",
        "is_active": True,
    }
    checks = summary["checks"]
    assert checks["can_launch"] is True
    assert [(row["step"], row["reachable"], row["skipped"]) for row in checks["coverage"]] == [
        ("primary", 2, 1),
        ("fallback-1", 2, 1),
        ("follow-up", 2, 1),
    ]
    assert {item["code"] for item in checks["findings"]} >= {"channel_coverage", "empty_variable"}
    estimate = summary["estimate"]
    assert estimate["channels"] == [
        {"channel": "whatsapp", "best": 2, "worst": 2},
        {"channel": "sms", "best": 0, "worst": 4},
    ]
    assert estimate["worst_seconds"] == pytest.approx(4 / 1000)

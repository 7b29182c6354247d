"""Campaigns as code on SQLite and PostgreSQL: apply, export, apply again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from herald.domain.agents import AgentKind
from herald.domain.campaign import CampaignStatus
from herald.domain.spec import dump_spec, parse_spec
from herald.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    UnreadableFileError,
)
from herald.services import agents as registry
from herald.services.campaign_code import ApplyResult
from herald.services.campaigns import CampaignServices
from tests.support.campaigns import reminder_spec, write_spec
from tests.support.engine import EngineHarness


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[EngineHarness]:
    harness = EngineHarness.create(database_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def campaigns(harness: EngineHarness) -> CampaignServices:
    return harness.herald.campaigns


def _apply(
    harness: EngineHarness,
    spec_file: Path,
    *,
    dry_run: bool = False,
    campaign_id: int | None = None,
) -> ApplyResult:
    with harness.herald.sessions() as session:
        return harness.herald.campaigns.apply_spec(
            session,
            parse_spec(spec_file.read_text(encoding="utf-8")),
            base_dir=spec_file.parent,
            campaign_id=campaign_id,
            dry_run=dry_run,
        )


def _lines(result: ApplyResult) -> list[str]:
    return [str(change) for change in result.plan.changes]


def test_apply_export_apply_changes_nothing(harness: EngineHarness, tmp_path: Path) -> None:
    created = _apply(harness, write_spec(tmp_path / "specs", reminder_spec()))
    assert created.applied and created.plan.creates and created.imported is not None
    assert created.campaign is not None
    campaign = created.campaign
    assert (campaign.status, campaign.tags) == (
        CampaignStatus.DRAFT,
        ("appointment-reminders", "reminders", "clinic-north"),
    )
    assert '+ journey.fallbacks[0]: sms step via "clinic-sms"' in _lines(created)
    exported = tmp_path / "exports" / "campaign.yaml"
    exported.parent.mkdir()
    with harness.herald.sessions() as session:
        spec = harness.herald.campaigns.export_spec(session, campaign.id, base_dir=exported.parent)
    exported.write_text(dump_spec(spec), encoding="utf-8")
    assert spec.audience == "../specs/seed-example.csv"
    assert spec.agent is not None and (spec.agent.name, spec.agent.version) == ("Herald default", 1)
    harness.clock.advance(timedelta(minutes=5))
    again = _apply(harness, exported)
    assert (again.applied, again.plan.changes, again.imported) == (False, (), None)
    assert again.campaign == campaign  # not even updated_at moved


def test_apply_with_changes_shows_the_diff_and_updates_the_draft(
    harness: EngineHarness, tmp_path: Path
) -> None:
    spec_file = write_spec(tmp_path, reminder_spec())
    first = _apply(harness, spec_file)
    changed = reminder_spec(delay_days=3).replace(
        "tags: [reminders, clinic-north]", "tags: [reminders, vip]"
    )
    spec_file.write_text(changed + "schedule:\n  at: 2025-04-01 09:00\n  timezone: Europe/Paris\n")
    preview = _apply(harness, spec_file, dry_run=True)
    result = _apply(harness, spec_file)
    assert (
        _lines(preview)
        == _lines(result)
        == [
            '~ tags: ["reminders", "clinic-north"] → ["reminders", "vip"]',
            "~ journey.follow_up.delay_days: 2 → 3",
            '+ schedule: {"at": "2025-04-01 09:00", "timezone": "Europe/Paris"}',
        ]
    )
    assert not preview.applied and result.applied and result.imported is None
    assert first.campaign is not None and result.campaign is not None
    assert result.campaign.id == first.campaign.id
    assert result.campaign.audience_id == first.campaign.audience_id
    assert result.campaign.journey is not None
    assert result.campaign.journey["follow_up"]["delay_days"] == 3
    assert result.campaign.schedule_local == "2025-04-01 09:00"
    assert result.campaign.status is CampaignStatus.DRAFT  # planned, launched later


def test_a_new_audience_is_imported_only_when_the_file_content_changes(
    harness: EngineHarness, tmp_path: Path
) -> None:
    spec_file = write_spec(tmp_path, reminder_spec())
    first = _apply(harness, spec_file)
    moved = tmp_path / "copy.csv"
    moved.write_bytes((tmp_path / "seed-example.csv").read_bytes())
    spec_file.write_text(
        reminder_spec().replace("audience: seed-example.csv", "audience: copy.csv")
    )
    renamed = _apply(harness, spec_file)
    assert _lines(renamed) == ['~ audience: "seed-example.csv" → "copy.csv"']
    assert renamed.imported is None
    with moved.open("a", encoding="utf-8") as stream:
        stream.write("sam@example.org,+12025550123,Sam Lee,2024-09-20\n")
    grown = _apply(harness, spec_file)
    assert len(grown.plan.changes) == 1
    assert grown.plan.changes[0].path == "audience"
    assert "copy.csv (sha256 " in str(grown.plan.changes[0])
    assert grown.imported is not None and grown.imported.summary.valid_contacts == 4
    assert first.campaign is not None and grown.campaign is not None
    assert grown.campaign.audience_id not in (None, first.campaign.audience_id)


def test_an_explicit_agent_version_is_pinned_and_unknown_ones_are_refused(
    harness: EngineHarness, tmp_path: Path
) -> None:
    config = {"intents": [{"name": "hi", "keywords": {"en": ["hi"]}, "reply": "Hello"}]}
    with harness.herald.sessions() as session:
        agent, version = registry.create_agent(
            session, name="Front desk", kind=AgentKind.RULES, config=config, clock=harness.clock
        )
        registry.publish_version(session, version.id, harness.clock)
        session.commit()
    base = reminder_spec()
    spec_file = write_spec(tmp_path, base + "agent:\n  name: front desk\n")
    applied = _apply(harness, spec_file)
    assert applied.campaign is not None
    assert applied.campaign.agent_version_id == version.id
    assert '+ agent: {"name": "Front desk", "version": 1}' in _lines(applied)
    spec_file.write_text(base + "agent:\n  name: Front desk\n  version: 2\n")
    with pytest.raises(NotFoundError, match="has no version 2") as missing:
        _apply(harness, spec_file)
    assert missing.value.field == "agent.version"
    spec_file.write_text(base + "agent:\n  name: Back office\n")
    with pytest.raises(NotFoundError, match="no agent is named 'Back office'"):
        _apply(harness, spec_file)
    assert agent.id


def test_apply_refuses_ambiguous_names_missing_files_and_started_campaigns(
    harness: EngineHarness, campaigns: CampaignServices, tmp_path: Path
) -> None:
    spec_file = write_spec(tmp_path, reminder_spec())
    first = _apply(harness, spec_file)
    assert first.campaign is not None
    with harness.herald.sessions() as session:
        twin = campaigns.create_draft(session, name="Appointment reminders")
        campaigns.launch(session, first.campaign.id)
    with pytest.raises(ConflictError, match=r"2 campaigns are named .* \(ids \d+, \d+\)"):
        _apply(harness, spec_file)
    unchanged = _apply(harness, spec_file, campaign_id=first.campaign.id)
    assert unchanged.plan.changes == () and not unchanged.applied
    spec_file.write_text(reminder_spec(delay_days=4))
    dry = _apply(harness, spec_file, dry_run=True, campaign_id=first.campaign.id)
    assert isinstance(dry.plan.refusal(), IllegalTransitionError)
    with pytest.raises(IllegalTransitionError, match="cannot edit a running campaign"):
        _apply(harness, spec_file, campaign_id=first.campaign.id)
    filled = _apply(harness, spec_file, campaign_id=twin.id)
    assert filled.campaign is not None and filled.campaign.audience_id is not None
    spec_file.write_text(reminder_spec().replace("seed-example.csv", "missing.csv"))
    with pytest.raises(UnreadableFileError, match=r"missing\.csv") as unreadable:
        _apply(harness, spec_file, campaign_id=twin.id)
    assert unreadable.value.field == "audience"


def test_a_scheduled_campaign_applied_with_a_new_time_stays_scheduled(
    harness: EngineHarness, campaigns: CampaignServices, tmp_path: Path
) -> None:
    schedule = "schedule:\n  at: {at}\n  timezone: America/New_York\n"
    spec_file = write_spec(tmp_path, reminder_spec() + schedule.format(at="2025-03-10 09:00"))
    created = _apply(harness, spec_file)
    assert created.campaign is not None
    with harness.herald.sessions() as session:
        campaigns.launch_as_planned(session, created.campaign.id)
    spec_file.write_text(reminder_spec() + schedule.format(at="2025-03-12 09:00"))
    moved = _apply(harness, spec_file)
    assert moved.campaign is not None
    assert moved.campaign.status is CampaignStatus.SCHEDULED
    assert moved.campaign.start_at is not None
    assert moved.campaign.start_at.isoformat() == "2025-03-12T13:00:00+00:00"
    spec_file.write_text(reminder_spec())
    with pytest.raises(ConflictError, match="needs a schedule") as caught:
        _apply(harness, spec_file)
    assert caught.value.code == "schedule_required"

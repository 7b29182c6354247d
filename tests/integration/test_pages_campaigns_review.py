"""Builder step 3: the review page, scheduling, launching and the refusals with their reasons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.campaign import CampaignStatus
from tests.integration.builder_web_support import (
    MESSY_CSV,
    BuilderWeb,
    assert_no_inline_code,
    build_web,
)
from tests.integration.test_pages_campaigns_journey import full_form


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(sqlite_url, tmp_path)


@pytest.fixture
def web_any(database_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(database_url, tmp_path)


def ready_campaign(web: BuilderWeb) -> int:
    """The messy sample without its flagged rows, WhatsApp → SMS fallback → follow-up."""
    campaign = web.new_draft("Clinic reminders")
    web.post(
        f"/campaigns/{campaign}/audience",
        files={"file": ("messy.csv", MESSY_CSV.read_bytes(), "text/csv")},
    )
    web.post(f"/campaigns/{campaign}/audience/remove")
    web.post(f"/campaigns/{campaign}/journey", full_form(go="journey"))
    return campaign


def status_of(web: BuilderWeb, campaign: int) -> CampaignStatus:
    with web.herald.sessions() as db:
        return web.herald.campaigns.get(db, campaign).status


def test_review_shows_audience_flow_automation_and_estimate(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = ready_campaign(web)
    page = web.client.get(f"/campaigns/{campaign}/review")
    assert page.status_code == 200
    text = page.text
    assert "<dt>Contacts</dt><dd>3</dd>" in text
    assert 'data-flow-step="primary"' in text and 'data-flow-step="fallback-1"' in text
    assert "after 3 days without a reply" in text
    assert "template appointment_reminder (en), 2 body parameters" in text
    assert "(version 1)" in text and ">clinic-reminders<" in text
    assert "demo-whatsapp" in text and "Worst case" in text
    assert 'value="Europe/Berlin"' in text  # the timezone picker
    assert "Review &amp; start" in text
    assert_no_inline_code(text)


def test_send_now_launches_and_goes_to_the_campaign_page(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = ready_campaign(web)
    response = web.post(f"/campaigns/{campaign}/review", {"when": "now", "go": "start"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/campaigns/{campaign}"  # type: ignore[attr-defined]
    assert status_of(web, campaign) is CampaignStatus.RUNNING
    builder = web.client.get(f"/campaigns/{campaign}/review", follow_redirects=False)
    assert builder.status_code == 303 and builder.headers["location"] == f"/campaigns/{campaign}"
    listed = web.client.get("/campaigns").text
    assert 'class="status status-running">Running<' in listed
    assert f'href="/campaigns/{campaign}"' in listed  # started: its page, not the builder
    assert re.search(r'<td class="num">3</td>', listed)
    assert "0 of 3" in listed


def test_schedule_at_a_local_time(web: BuilderWeb) -> None:
    campaign = ready_campaign(web)
    response = web.post(
        f"/campaigns/{campaign}/review",
        {
            "when": "schedule",
            "date": "2025-03-30",
            "time": "03:30",
            "timezone": "Europe/Berlin",
            "go": "start",
        },
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    with web.herald.sessions() as db:
        view = web.herald.campaigns.get(db, campaign)
    assert view.status is CampaignStatus.SCHEDULED
    assert view.start_at is not None and view.start_at.isoformat() == "2025-03-30T01:30:00+00:00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"date": "2025-03-30", "time": "02:30", "timezone": "Europe/Berlin"},
            "2025-03-30 02:30 does not exist in Europe/Berlin",
        ),
        (
            {"date": "2025-10-26", "time": "02:30", "timezone": "Europe/Berlin"},
            "is ambiguous in Europe/Berlin",
        ),
        ({"date": "2025-03-30", "time": "09:00", "timezone": "Europe/Berln"}, "Europe/Berlin"),
        ({"date": "2024-03-30", "time": "09:00", "timezone": "UTC"}, "past"),
        ({"date": "", "time": "09:00", "timezone": "UTC"}, "Choose a date to schedule"),
    ],
)
def test_bad_start_times_are_refused_with_the_reason(
    web: BuilderWeb, fields: dict[str, str], message: str
) -> None:
    campaign = ready_campaign(web)
    response = web.post(
        f"/campaigns/{campaign}/review", {"when": "schedule", "go": "start"} | fields
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text.replace("&#39;", "'")  # type: ignore[attr-defined]
    assert f'value="{fields["time"]}"' in response.text  # type: ignore[attr-defined]
    assert status_of(web, campaign) is CampaignStatus.DRAFT


def test_an_ambiguous_time_is_accepted_with_its_offset(web: BuilderWeb) -> None:
    campaign = ready_campaign(web)
    web.post(
        f"/campaigns/{campaign}/review",
        {
            "when": "schedule",
            "date": "2025-10-26",
            "time": "02:30",
            "timezone": "Europe/Berlin",
            "utc_offset": "+01:00",
            "go": "start",
        },
    )
    assert status_of(web, campaign) is CampaignStatus.SCHEDULED


def test_failing_checks_block_the_start_and_are_listed(web: BuilderWeb) -> None:
    campaign = web.new_draft("Nothing yet")
    response = web.post(f"/campaigns/{campaign}/review", {"when": "now", "go": "start"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "cannot launch" in text
    assert "the campaign has no audience yet" in text
    assert "the campaign has no message journey yet" in text
    assert status_of(web, campaign) is CampaignStatus.DRAFT


def test_save_and_exit_keeps_the_planned_start(web: BuilderWeb) -> None:
    campaign = ready_campaign(web)
    response = web.post(
        f"/campaigns/{campaign}/review",
        {
            "when": "schedule",
            "date": "2025-04-01",
            "time": "10:15",
            "timezone": "America/New_York",
            "go": "exit",
        },
    )
    assert response.headers["location"] == "/campaigns"  # type: ignore[attr-defined]
    with web.herald.sessions() as db:
        view = web.herald.campaigns.get(db, campaign)
    assert view.status is CampaignStatus.DRAFT
    assert (view.schedule_local, view.schedule_timezone) == ("2025-04-01 10:15", "America/New_York")
    page = web.client.get(f"/campaigns/{campaign}/review").text
    assert 'value="2025-04-01"' in page and 'value="10:15"' in page


def test_review_posts_need_the_csrf_token(web: BuilderWeb) -> None:
    campaign = ready_campaign(web)
    forged = web.client.post(
        f"/campaigns/{campaign}/review", data={"when": "now"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert status_of(web, campaign) is CampaignStatus.DRAFT
    anonymous = web.anonymous.get(f"/campaigns/{campaign}/review", follow_redirects=False)
    assert anonymous.status_code == 303


def test_a_scheduled_campaign_can_be_moved_or_unscheduled(web: BuilderWeb) -> None:
    campaign = ready_campaign(web)
    schedule = {"when": "schedule", "date": "2025-03-30", "time": "09:00", "timezone": "UTC"}
    web.post(f"/campaigns/{campaign}/review", schedule | {"go": "start"})
    page = web.client.get(f"/campaigns/{campaign}/review").text
    assert 'value="2025-03-30"' in page and "Unschedule (back to draft)" in page
    web.post(f"/campaigns/{campaign}/review", schedule | {"time": "10:00", "go": "start"})
    with web.herald.sessions() as db:
        view = web.herald.campaigns.get(db, campaign)
    assert view.status is CampaignStatus.SCHEDULED and view.schedule_local == "2025-03-30 10:00"
    back = web.post(f"/campaigns/{campaign}/review", {"go": "unschedule"})
    assert back.headers["location"] == f"/campaigns/{campaign}/review"  # type: ignore[attr-defined]
    assert status_of(web, campaign) is CampaignStatus.DRAFT

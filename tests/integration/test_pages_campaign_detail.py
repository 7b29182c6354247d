"""The campaign detail page: header, outcomes, funnel, controls, CSV download, copy."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from herald.channels.base import DeliveryStatus
from herald.services.campaign_audiences import audience_profile
from herald.store.campaigns import CampaignRow, add_to_counters, read_counters
from tests.support.detail_pages import CSV, PAGE, DetailWeb, build_detail_web
from tests.support.engine import reminder_journey


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[DetailWeb]:
    yield from build_detail_web(database_url, tmp_path)


def _deliver_all(web: DetailWeb, campaign_id: int) -> None:
    web.harness.settle()
    for journey_id in web.harness.journey_ids(campaign_id):
        web.status(journey_id, 0, DeliveryStatus.DELIVERED)
    web.harness.settle()


def test_the_page_needs_a_signed_in_user(web: DetailWeb) -> None:
    campaign_id = web.launch()
    anonymous = web.anonymous()
    page = anonymous.get(f"/campaigns/{campaign_id}", headers=PAGE, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert anonymous.get(f"/campaigns/{campaign_id}").status_code == 401
    csv_file = anonymous.get(f"/campaigns/{campaign_id}/audience.csv")
    assert csv_file.status_code == 401


def test_a_draft_opens_in_the_builder(web: DetailWeb) -> None:
    with web.harness.herald.sessions() as session:
        draft = web.harness.campaigns.create_draft(session, name="Still a draft")
    response = web.client.get(f"/campaigns/{draft.id}", headers=PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/campaigns/{draft.id}/setup"


def test_a_scheduled_campaign_shows_its_audience_before_launch(web: DetailWeb) -> None:
    harness = web.harness
    audience_id = harness.import_audience(CSV)
    with harness.herald.sessions() as session:
        draft = harness.campaigns.create_draft(
            session, name="Later", audience_id=audience_id, journey=reminder_journey()
        )
        start = (web.clock.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
        harness.campaigns.schedule(session, draft.id, local=start, timezone="UTC")
    expected = CSV.strip().count("\n")  # one contact per line after the header
    page = web.client.get(f"/campaigns/{draft.id}", headers=PAGE).text
    assert "Scheduled" in page
    assert f"<p>{expected} contacts. The download" in page


def test_an_unknown_campaign_is_not_found(web: DetailWeb) -> None:
    response = web.client.get("/campaigns/999", headers=PAGE)
    assert response.status_code == 404
    assert "campaign 999 does not exist" in response.text.lower()


def test_a_running_campaign_shows_its_header_outcomes_and_controls(web: DetailWeb) -> None:
    campaign_id = web.launch()
    web.harness.settle()
    page = web.client.get(f"/campaigns/{campaign_id}", headers=PAGE)
    assert page.status_code == 200
    html = page.text
    assert '<h1 class="detail-title">Reminders</h1>' in html
    assert 'href="/conversations?tag=reminders"' in html
    assert 'data-status="running"' in html
    assert f'action="/campaigns/{campaign_id}/pause"' in html
    assert f'action="/campaigns/{campaign_id}/cancel"' in html
    assert f'action="/campaigns/{campaign_id}/resume"' not in html
    # Priya has no phone: both steps are skipped and she is undeliverable at once.
    assert '<dd data-outcome="undeliverable">1</dd>' in html
    assert '<dd data-outcome="in_progress">2</dd>' in html
    assert f'data-stream="/campaigns/{campaign_id}/progress/stream"' in html


def test_the_funnel_and_timeline_come_from_the_counters(web: DetailWeb) -> None:
    campaign_id = web.launch()
    _deliver_all(web, campaign_id)
    with web.harness.herald.sessions() as session:
        counters = read_counters(session, campaign_id)
    assert counters["funnel:sent"] == 2
    assert counters["funnel:delivered"] == 2
    timeline = {name: value for name, value in counters.items() if name.startswith("timeline:")}
    assert sum(timeline.values()) == 2 and all(name.endswith(":whatsapp") for name in timeline)
    html = web.client.get(f"/campaigns/{campaign_id}", headers=PAGE).text
    assert 'data-status="sent"' in html
    for stage, value in (("audience", 3), ("sent", 2), ("delivered", 2), ("replied", 0)):
        assert f'data-funnel="{stage}">{value}</span>' in html
    assert '<rect class="ch-whatsapp"' in html
    assert "2 messages sent" in html
    # A finished campaign has nothing left to control and no stream to follow.
    assert "/pause" not in html and "/cancel" not in html
    assert 'data-final="true"' in html


def test_pause_and_resume_need_the_csrf_token(web: DetailWeb) -> None:
    campaign_id = web.launch()
    forged = web.client.post(f"/campaigns/{campaign_id}/pause", headers=PAGE)
    assert forged.status_code == 403
    assert web.harness.status(campaign_id) == "running"
    paused = web.post(f"/campaigns/{campaign_id}/pause")
    assert paused.status_code == 303
    assert paused.headers["location"] == f"/campaigns/{campaign_id}?done=paused"
    assert web.harness.status(campaign_id) == "paused"
    html = web.client.get(paused.headers["location"], headers=PAGE).text
    assert "Campaign paused" in html
    assert f'action="/campaigns/{campaign_id}/resume"' in html
    assert f'action="/campaigns/{campaign_id}/pause"' not in html
    assert web.post(f"/campaigns/{campaign_id}/resume").status_code == 303
    assert web.harness.status(campaign_id) == "running"


def test_an_action_the_status_does_not_allow_is_refused_on_the_page(web: DetailWeb) -> None:
    campaign_id = web.launch()
    response = web.post(f"/campaigns/{campaign_id}/resume")
    assert response.status_code == 409
    assert "cannot resume a running campaign" in response.text.lower()
    assert web.harness.status(campaign_id) == "running"


def test_cancel_asks_for_confirmation(web: DetailWeb) -> None:
    campaign_id = web.launch()
    unconfirmed = web.post(f"/campaigns/{campaign_id}/cancel")
    assert unconfirmed.status_code == 422
    assert "confirm" in unconfirmed.text.lower()
    assert web.harness.status(campaign_id) == "running"
    confirmed = web.post(f"/campaigns/{campaign_id}/cancel", {"confirm": "cancel"})
    assert confirmed.status_code == 303
    assert web.harness.status(campaign_id) == "cancelled"
    web.harness.settle()
    assert web.harness.outcomes(campaign_id)["cancelled"] == 3  # none had started


def test_the_audience_downloads_as_csv_with_formulas_neutralised(web: DetailWeb) -> None:
    campaign_id = web.launch()
    response = web.client.get(f"/campaigns/{campaign_id}/audience.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="reminders-audience.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["phone", "email"]
    assert len(rows) == 4
    jamie = next(row for row in rows if row[1] == "jamie@example.net")
    assert jamie[0] == "'+442071838750"
    assert '\'=HYPERLINK("http://evil.example")' in jamie


def test_copy_makes_a_draft_with_the_same_contacts(web: DetailWeb) -> None:
    campaign_id = web.launch()
    forged = web.client.post(f"/campaigns/{campaign_id}/copy", headers=PAGE)
    assert forged.status_code == 403
    response = web.post(f"/campaigns/{campaign_id}/copy")
    assert response.status_code == 303
    new_id = int(response.headers["location"].split("/")[2])
    assert response.headers["location"] == f"/campaigns/{new_id}/setup"
    with web.harness.herald.sessions() as session:
        source = web.harness.campaigns.get(session, campaign_id)
        copy = web.harness.campaigns.get(session, new_id)
    assert copy.status.value == "draft"
    assert copy.name == "Copy of Reminders"
    assert copy.audience_id is not None and copy.audience_id != source.audience_id
    with web.harness.herald.sessions() as session:
        assert audience_profile(session, copy.audience_id).total == 3


def test_copy_of_a_campaign_without_audience_says_so(web: DetailWeb) -> None:
    with web.harness.herald.sessions() as session:
        draft = web.harness.campaigns.create_draft(session, name="Empty")
    response = web.post(f"/campaigns/{draft.id}/copy")
    assert response.status_code == 409
    assert "has no audience to copy" in response.text


def test_big_counts_are_grouped_and_long_names_kept_whole(web: DetailWeb) -> None:
    campaign_id = web.launch()
    long_name = "Quarterly check-up reminders for the north-east region " * 3
    with web.harness.herald.sessions() as session:
        session.execute(
            update(CampaignRow)
            .where(CampaignRow.id == campaign_id)
            .values(name=long_name.strip(), contact_count=1_000_000)
        )
        add_to_counters(
            session,
            {(campaign_id, "outcome:delivered"): 999_999, (campaign_id, "funnel:sent"): 1_000_000},
        )
        session.commit()
    html = web.client.get(f"/campaigns/{campaign_id}", headers=PAGE).text
    assert f'<h1 class="detail-title">{long_name.strip()}</h1>' in html
    assert "of 1,000,000 contacts finished (99%)" in " ".join(html.split())
    assert '<dd data-outcome="delivered">999,999</dd>' in html
    assert 'data-funnel="sent">1,000,000</span>' in html


@pytest.mark.parametrize("action", ["pause", "resume", "cancel", "copy"])
def test_controls_need_a_signed_in_user(web: DetailWeb, action: str) -> None:
    campaign_id = web.launch()
    response = web.anonymous().post(f"/campaigns/{campaign_id}/{action}", headers=PAGE)
    assert response.status_code == 401
    assert web.harness.status(campaign_id) == "running"


def test_a_scheduled_campaign_shows_its_local_start_and_can_be_paused(web: DetailWeb) -> None:
    audience_id = web.harness.import_audience(CSV)
    with web.harness.herald.sessions() as session:
        draft = web.harness.campaigns.create_draft(
            session, name="Later", audience_id=audience_id, journey=reminder_journey()
        )
        web.harness.campaigns.schedule(
            session, draft.id, local="2025-03-10 09:00", timezone="Europe/Berlin"
        )
    html = web.client.get(f"/campaigns/{draft.id}", headers=PAGE).text
    assert "2025-03-10 09:00 Europe/Berlin" in html
    assert 'data-status="scheduled"' in html
    assert "Nothing has been sent yet." in html
    assert f'action="/campaigns/{draft.id}/pause"' in html
    assert f'action="/campaigns/{draft.id}/cancel"' in html
    assert web.post(f"/campaigns/{draft.id}/pause").status_code == 303
    assert web.harness.status(draft.id) == "paused"

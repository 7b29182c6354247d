"""The home dashboard: campaign counts, live progress, hand-offs, integration health."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.channels.base import ConnectionCheck
from herald.domain.campaign import CampaignStatus
from herald.domain.channels import IntegrationKind
from herald.store.campaigns import add_to_counters
from herald.web.app import create_app
from tests.admin_pages_support import PAGE, Pages, assert_clean_page, build_pages
from tests.auth_support import MEMBER_EMAIL, MEMBER_PASSWORD, add_standard_users, log_in
from tests.support.conversations import ConversationHarness
from tests.support.engine import sms_step

SMS = IntegrationKind.INFOBIP_SMS


@pytest.fixture
def pages(database_url: str, tmp_path: Path) -> Iterator[Pages]:
    yield from build_pages(database_url, tmp_path)


def test_home_needs_a_signed_in_user(pages: Pages) -> None:
    for path in ("/", "/dashboard/live"):
        response = pages.anonymous.get(path, headers=PAGE, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_an_empty_installation_points_to_the_first_steps(pages: Pages) -> None:
    response = pages.member.get("/", headers=PAGE)
    assert response.status_code == 200
    assert_clean_page(response.text)
    assert "No campaigns yet" in response.text
    assert 'href="/campaigns/new"' in response.text
    assert "No integrations" in response.text
    assert "Nobody is waiting" in response.text


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[ConversationHarness, TestClient]]:
    harness = ConversationHarness.create(database_url, tmp_path)
    add_standard_users(harness.herald)
    with TestClient(create_app(harness.herald)) as client:
        assert log_in(client, MEMBER_EMAIL, MEMBER_PASSWORD).status_code == 303
        yield harness, client
    harness.close()


def test_the_dashboard_shows_counts_progress_hand_offs_and_health(
    live: tuple[ConversationHarness, TestClient],
) -> None:
    harness, client = live
    csv = "phone,name\n+12025550121,Ana\n+12025550122,Bo\n+12025550123,Cy\n"
    campaign_id = harness.launch_campaign(csv, {"primary": sms_step("Hi {{name}}")}, name="Flu")
    harness.settle()
    harness.write("+15550000004", "quick question?", kind=SMS, recipient="Herald")
    harness.settle()
    with harness.herald.sessions() as session:
        harness.campaigns.create_draft(session, name="Next month")
        add_to_counters(session, {(campaign_id, "outcome:delivered"): 1})
        session.commit()
        harness.herald.integrations.record_health(
            session, harness.herald.integrations.list(session)[0].id, ConnectionCheck(False, "x")
        )
    page = client.get("/", headers=PAGE)
    assert page.status_code == 200
    html = page.text
    assert _count(html, "draft") == "1"
    assert _count(html, "running") == "1"
    assert _count(html, "sent") == "0"
    assert f'href="/campaigns/{campaign_id}"' in html
    assert "1 of 3 (33%)" in html
    assert "+15550000004" in html  # handed off: the default agent hands questions to a person
    assert 'data-status="unhealthy"' in html
    assert 'data-status="unknown"' in html
    assert 'hx-get="/dashboard/live"' in html
    with harness.herald.sessions() as session:
        add_to_counters(session, {(campaign_id, "outcome:replied"): 1})
        session.commit()
    card = client.get("/dashboard/live", headers=PAGE)
    assert card.status_code == 200 and card.text.lstrip().startswith("<section")
    assert "2 of 3 (66%)" in card.text and "<html" not in card.text


def _count(html: str, status: str) -> str:
    match = re.search(
        rf'data-status-count="{status}">\s*<span class="stat-value">([^<]+)</span>', html
    )
    assert match, f"no count for {status}"
    return match.group(1)


def test_the_shared_macros_format_numbers_badges_and_paging(pages: Pages) -> None:
    env = pages.app.state.templates.env
    template = env.from_string(
        '{% from "_macros.html" import number, status_badge, pagination, flash, empty_state %}'
        "{{ number(1000000) }}|{{ number(none) }}|{{ status_badge(status) }}|"
        "{{ status_badge('mystery') }}|{{ pagination(next_url='/x?after=5') }}|"
        "{{ flash('Saved.') }}|{{ flash('Bad.', 'error') }}|{{ empty_state('Nothing') }}"
    )
    html = template.render(status=CampaignStatus.RUNNING)
    number, none, badge, mystery, paging, saved, bad, empty = html.split("|")
    assert (number, none) == ("1,000,000", "–")
    assert badge == '<span class="badge badge-info" data-status="running">Running</span>'
    assert 'class="badge badge-muted"' in mystery and "Mystery" in mystery
    assert 'href="/x?after=5" rel="next"' in paging and "First page" not in paging
    assert 'class="flash flash-ok" role="status">Saved.' in saved
    assert 'class="flash flash-error" role="alert">Bad.' in bad
    assert "<h3>Nothing</h3>" in empty

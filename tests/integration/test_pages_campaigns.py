"""The campaigns list and creating a draft: paging, filters, search, auth and CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.domain.users import Role
from tests.integration.builder_web_support import BuilderWeb, assert_no_inline_code, build_web


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(sqlite_url, tmp_path)


@pytest.fixture
def web_any(database_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(database_url, tmp_path)


def test_the_list_needs_a_signed_in_user(web: BuilderWeb) -> None:
    response = web.anonymous.get("/campaigns", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fcampaigns")


def test_the_list_shows_campaigns_with_status_tags_and_links(web_any: BuilderWeb) -> None:
    web = web_any
    draft = web.new_draft("Spring check-ups 2025!")
    with web.herald.sessions() as db:
        web.herald.campaigns.update_draft(db, draft, extra_tags=["vip", "north"])
    page = web.client.get("/campaigns")
    assert page.status_code == 200
    text = page.text
    assert "Spring check-ups 2025!" in text
    assert f'href="/campaigns/{draft}/setup"' in text
    for tag in ("spring-check-ups-2025", "vip", "north"):
        assert f">{tag}</a>" in text
    assert 'class="status status-draft">Draft<' in text
    assert "+ Create" in text
    assert_no_inline_code(text)


def test_filters_by_status_tag_and_search(web_any: BuilderWeb) -> None:
    web = web_any
    first = web.new_draft("Flu shots")
    web.new_draft("Dental reminders")
    with web.herald.sessions() as db:
        web.herald.campaigns.update_draft(db, first, extra_tags=["clinic-north"])
    by_tag = web.client.get("/campaigns", params={"tag": "clinic-north"}).text
    assert "Flu shots" in by_tag and "Dental reminders" not in by_tag
    by_search = web.client.get("/campaigns", params={"q": "DENTAL"}).text
    assert "Dental reminders" in by_search and "Flu shots" not in by_search
    by_tag_search = web.client.get("/campaigns", params={"q": "north"}).text
    assert "Flu shots" in by_tag_search and "Dental reminders" not in by_tag_search
    scheduled = web.client.get("/campaigns", params={"status": "scheduled"}).text
    assert "Flu shots" not in scheduled and "No campaign matches these filters." in scheduled
    drafts = web.client.get("/campaigns", params={"status": "draft"}).text
    assert "Flu shots" in drafts and "Dental reminders" in drafts


def test_a_tag_that_is_not_a_tag_is_refused_with_the_reason(web: BuilderWeb) -> None:
    response = web.client.get("/campaigns", params={"tag": "VIP Customers"})
    assert response.status_code == 422
    assert "try &#39;vip-customers&#39;" in response.text


def test_an_unknown_status_is_named(web: BuilderWeb) -> None:
    response = web.client.get("/campaigns", params={"status": "finished"})
    assert response.status_code == 422
    assert "Unknown status &#39;finished&#39;" in response.text


def test_the_list_pages_on_the_server(web: BuilderWeb) -> None:
    for number in range(27):
        web.new_draft(f"Campaign number {number:02d}")
    first = web.client.get("/campaigns").text
    assert "Campaign number 26" in first and "Campaign number 02" in first
    assert "Campaign number 01" not in first
    assert "Page 1 of 2 (27 campaigns)" in first
    second = web.client.get("/campaigns", params={"page": 2}).text
    assert "Campaign number 01" in second and "Campaign number 00" in second
    assert "Campaign number 02" not in second
    assert web.client.get("/campaigns", params={"page": 0}).status_code == 422


def test_create_makes_a_draft_and_opens_its_setup(web: BuilderWeb) -> None:
    response = web.post("/campaigns/new")
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert location.endswith("/setup")
    campaign_id = int(location.split("/")[2])
    with web.herald.sessions() as db:
        assert web.herald.campaigns.get(db, campaign_id).status.value == "draft"
    assert web.client.get(location).status_code == 200


def test_create_needs_the_csrf_token(web: BuilderWeb) -> None:
    response = web.client.post("/campaigns/new", data={}, follow_redirects=False)
    assert response.status_code == 403
    with web.herald.sessions() as db:
        assert web.herald.campaigns.list(db) == []


def test_create_needs_a_signed_in_user(web: BuilderWeb) -> None:
    response = web.anonymous.post("/campaigns/new", follow_redirects=False)
    assert response.status_code in (401, 403)
    with web.herald.sessions() as db:
        assert web.herald.campaigns.list(db) == []


def test_the_new_campaign_page_offers_the_create_form(web: BuilderWeb) -> None:
    page = web.client.get("/campaigns/new")
    assert page.status_code == 200
    assert 'action="/campaigns/new"' in page.text and 'name="csrf_token"' in page.text
    response = web.post("/campaigns/new", {"name": "Named up front"})
    with web.herald.sessions() as db:
        (campaign,) = web.herald.campaigns.list(db)
    assert campaign.name == "Named up front"
    assert response.headers["location"] == f"/campaigns/{campaign.id}/setup"  # type: ignore[attr-defined]


def test_members_build_campaigns_too(sqlite_url: str, tmp_path: Path) -> None:
    for member in build_web(sqlite_url, tmp_path, role=Role.MEMBER):
        response = member.post("/campaigns/new")
        assert response.status_code == 303  # type: ignore[attr-defined]
        assert member.client.get(response.headers["location"]).status_code == 200  # type: ignore[attr-defined]


def test_long_names_and_large_counts_are_formatted(web: BuilderWeb) -> None:
    name = "A very long campaign name " * 7
    campaign = web.new_draft(name.strip())
    from sqlalchemy import update

    from herald.store.campaigns import CampaignRow

    with web.herald.sessions() as db:
        db.execute(
            update(CampaignRow)
            .where(CampaignRow.id == campaign)
            .values(status="running", contact_count=1_000_000, has_started=True)
        )
        db.commit()
    text = web.client.get("/campaigns").text
    assert "1,000,000" in text and name.strip() in text

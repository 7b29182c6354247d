"""Builder step 1: name, tags, agent, upload, the flagged-rows table, removal and quick add."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.services import audience_row_removal, audience_rows
from tests.integration.builder_web_support import (
    MESSY_CSV,
    BuilderWeb,
    assert_no_inline_code,
    build_web,
)


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(sqlite_url, tmp_path)


@pytest.fixture
def web_any(database_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(database_url, tmp_path)


def upload(web: BuilderWeb, campaign_id: int, content: bytes, name: str = "people.csv") -> object:
    return web.post(
        f"/campaigns/{campaign_id}/audience", files={"file": (name, content, "text/csv")}
    )


def flagged_rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="flagged [^"]*" data-row="(\d+)"', html)]


def test_setup_needs_a_signed_in_user(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = web.anonymous.get(f"/campaigns/{campaign}/setup", follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]


def test_setup_shows_the_steps_the_tag_and_the_agents(web: BuilderWeb) -> None:
    campaign = web.new_draft("Spring check-ups")
    page = web.client.get(f"/campaigns/{campaign}/setup").text
    for label in ("Setup", "Message journey", "Review"):
        assert f"<span>{label}</span>" in page
    assert f'href="/campaigns/{campaign}/setup" data-step-link="setup" aria-current="step"' in page
    assert 'id="derived-tag" aria-live="polite">spring-check-ups<' in page
    assert "(version 1)" in page and "built in" in page
    assert "Save &amp; exit" in page


def test_the_derived_tag_follows_the_name_and_skips_taken_tags(web: BuilderWeb) -> None:
    web.new_draft("Flu shots")
    campaign = web.new_draft("Something")
    response = web.client.get(f"/campaigns/{campaign}/setup/tag", params={"name": "Flu Shots!"})
    assert response.text == "flu-shots-2"
    own = web.client.get(f"/campaigns/{campaign}/setup/tag", params={"name": "Something"})
    assert own.text == "something"


def test_saving_the_setup_stores_name_tags_and_agent_then_moves_on(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = web.new_draft()
    with web.herald.sessions() as db:
        version = web.herald.campaigns.agent_choices(db)[0].version.id
    response = web.post(
        f"/campaigns/{campaign}/setup",
        {
            "name": "Autumn flu shots",
            "tags": "vip, north",
            "agent_version_id": version,
            "go": "next",
        },
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/campaigns/{campaign}/journey"  # type: ignore[attr-defined]
    with web.herald.sessions() as db:
        view = web.herald.campaigns.get(db, campaign)
    assert view.name == "Autumn flu shots"
    assert view.tags == ("autumn-flu-shots", "vip", "north")
    assert view.agent_version_id == version


def test_save_and_exit_goes_to_the_list(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = web.post(f"/campaigns/{campaign}/setup", {"name": "Kept", "go": "exit"})
    assert response.headers["location"] == "/campaigns"  # type: ignore[attr-defined]


def test_a_bad_tag_is_refused_with_the_spelling_to_use_and_the_input_kept(web: BuilderWeb) -> None:
    campaign = web.new_draft("Before")
    response = web.post(f"/campaigns/{campaign}/setup", {"name": "After", "tags": "VIP_list"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "try &#39;vip-list&#39;" in text
    assert 'value="After"' in text and 'value="VIP_list"' in text
    with web.herald.sessions() as db:
        assert web.herald.campaigns.get(db, campaign).name == "Before"


def test_an_empty_name_is_refused(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = web.post(f"/campaigns/{campaign}/setup", {"name": "  "})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "A campaign needs a name of 1 to 200 characters." in response.text  # type: ignore[attr-defined]


def test_setup_posts_need_the_csrf_token(web: BuilderWeb) -> None:
    campaign = web.new_draft("Before")
    response = web.client.post(
        f"/campaigns/{campaign}/setup", data={"name": "After"}, follow_redirects=False
    )
    assert response.status_code == 403
    forged = web.client.post(
        f"/campaigns/{campaign}/audience",
        files={"file": ("a.csv", b"phone\n+12025550101\n", "text/csv")},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    with web.herald.sessions() as db:
        view = web.herald.campaigns.get(db, campaign)
    assert view.name == "Before" and view.audience_id is None


def test_upload_shows_flagged_rows_and_cells_with_their_reasons(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = web.new_draft()
    response = upload(web, campaign, MESSY_CSV.read_bytes(), "messy-excel-export.csv")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "The file was imported." in page
    # Rows 3 (phone), 4 (no contact), 5 (phone), 6 (duplicate), 7 (shifted),
    # 8 (email), 9 (formula), 11 (extension) are flagged; 2, 10 and 13 are clean
    # (row 10 spans two lines of the file; row 12 is blank).
    assert flagged_rows(page) == [3, 4, 5, 6, 7, 8, 9, 11]
    assert 'data-row="2"' in page and 'data-row="13"' in page
    assert re.search(r'class="cell-flagged" title="[^"]*is not a valid phone number', page)
    assert "it has neither a phone nor an email" in page
    row_4 = page.split('data-row="4"', 1)[1].split("</tr>", 1)[0]
    assert row_4.count('class="cell-flagged" title="Row rejected: it has neither') == 2
    assert "the same email and phone as row 2" in page
    assert "<dt>Contacts</dt><dd>8</dd>" in page
    assert "<dt>Flagged rows</dt><dd>8</dd>" in page
    assert_no_inline_code(page)


def test_removing_one_flagged_row_and_then_all_of_them(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = web.new_draft()
    upload(web, campaign, MESSY_CSV.read_bytes())
    one = web.post(f"/campaigns/{campaign}/audience/remove", {"row": 8})
    assert one.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(f"/campaigns/{campaign}/setup").text
    assert flagged_rows(page) == [3, 4, 5, 6, 7, 9, 11]
    assert "<dt>Contacts</dt><dd>7</dd>" in page
    web.post(f"/campaigns/{campaign}/audience/remove")
    page = web.client.get(f"/campaigns/{campaign}/setup").text
    assert flagged_rows(page) == []
    assert "<dt>Contacts</dt><dd>3</dd>" in page
    assert "<dt>Flagged rows</dt><dd>0</dd>" in page
    with web.herald.sessions() as db:
        review = web.herald.campaigns.review(db, campaign)
    assert review.audience is not None and review.audience.total == 3


def test_removing_a_row_that_is_not_flagged_is_refused(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    upload(web, campaign, MESSY_CSV.read_bytes())
    clean = web.post(f"/campaigns/{campaign}/audience/remove", {"row": 2})
    assert clean.status_code == 422  # type: ignore[attr-defined]
    assert "Row 2 is not flagged" in clean.text  # type: ignore[attr-defined]
    missing = web.post(f"/campaigns/{campaign}/audience/remove", {"row": 999})
    assert missing.status_code == 404  # type: ignore[attr-defined]


def test_the_rows_table_pages_without_loading_every_row(web: BuilderWeb) -> None:
    lines = ["phone,name"] + [f"+1202555{index:04d},Person {index}" for index in range(120)]
    lines[60] = "not-a-phone,Broken"
    campaign = web.new_draft()
    upload(web, campaign, ("\n".join(lines) + "\n").encode())
    first = web.client.get(f"/campaigns/{campaign}/setup").text
    assert "Rows 2–51" in first and "120 rows in the file, 1 flagged" in first
    assert f"/campaigns/{campaign}/setup?after=51" in first
    second = web.client.get(f"/campaigns/{campaign}/setup", params={"after": 51}).text
    assert "Rows 52–101" in second and flagged_rows(second) == [61]
    back = web.client.get(f"/campaigns/{campaign}/setup", params={"before": 52}).text
    assert "Rows 2–51" in back
    only = web.client.get(f"/campaigns/{campaign}/setup", params={"flagged": "true"}).text
    assert flagged_rows(only) == [61] and "Rows 61–61" in only


def test_page_rows_reads_one_page_of_a_large_audience(web: BuilderWeb) -> None:
    lines = ["phone"] + [f"+1202{index:07d}" for index in range(5000)]
    campaign = web.new_draft()
    upload(web, campaign, ("\n".join(lines) + "\n").encode())
    with web.herald.sessions() as db:
        audience_id = web.herald.campaigns.get(db, campaign).audience_id
    assert audience_id is not None
    page = audience_rows.page_rows(web.herald.engine, audience_id, after=2500, limit=10)
    assert [row.row_number for row in page.rows] == list(range(2501, 2511))
    assert page.has_previous and page.has_next and page.total_rows == 5000


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_imported(
    sqlite_url: str, tmp_path: Path
) -> None:
    for web in build_web(sqlite_url, tmp_path, upload_max_bytes=4096):
        campaign = web.new_draft()
        big = b"phone\n" + b"+12025550101\n" * 1000
        response = upload(web, campaign, big)
        assert response.status_code == 413  # type: ignore[attr-defined]
        assert "limited to 4,096 bytes" in response.text  # type: ignore[attr-defined]
        with web.herald.sessions() as db:
            assert web.herald.campaigns.get(db, campaign).audience_id is None
        small = upload(web, campaign, b"phone\n+12025550101\n")
        assert small.status_code in (200, 303)  # type: ignore[attr-defined]


def test_an_unreadable_upload_is_refused_with_the_reason(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = upload(web, campaign, b"name,city\nAda,London\n")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "phone" in response.text.lower() and "email" in response.text.lower()  # type: ignore[attr-defined]
    empty = web.post(f"/campaigns/{campaign}/audience", files={"file": ("", b"", "text/csv")})
    assert empty.status_code == 422  # type: ignore[attr-defined]


def test_quick_add_starts_an_audience_then_adds_to_it(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = web.new_draft()
    first = web.post(
        f"/campaigns/{campaign}/audience/contacts",
        {"phone": "+12025550101", "columns": "name, city"},
    )
    assert first.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(f"/campaigns/{campaign}/setup").text
    assert 'name="field_name" value="name"' in page
    second = web.post(
        f"/campaigns/{campaign}/audience/contacts",
        {
            "email": "ada@example.com",
            "field_name": ["name", "city"],
            "field_value": ["Ada", "Paris"],
        },
    )
    assert second.status_code == 303  # type: ignore[attr-defined]
    with web.herald.sessions() as db:
        assert web.herald.campaigns.variables(db, campaign) == ("phone", "email", "name", "city")
        review = web.herald.campaigns.review(db, campaign)
    assert review.audience is not None and review.audience.total == 2


def test_quick_add_refuses_a_duplicate_and_a_bad_phone(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    web.post(f"/campaigns/{campaign}/audience/contacts", {"phone": "+12025550101"})
    again = web.post(f"/campaigns/{campaign}/audience/contacts", {"phone": "+1 202 555 0101"})
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "already in this audience (row 2)" in again.text  # type: ignore[attr-defined]
    bad = web.post(f"/campaigns/{campaign}/audience/contacts", {"phone": "12"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert 'value="12"' in bad.text  # type: ignore[attr-defined]


def test_a_started_campaign_is_not_built_any_more(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    with web.herald.sessions() as db:
        web.herald.campaigns.update_draft(db, campaign, name="x")
    from sqlalchemy import update

    from herald.store.campaigns import CampaignRow

    with web.herald.sessions() as db:
        db.execute(update(CampaignRow).values(status="running"))
        db.commit()
    response = web.client.get(f"/campaigns/{campaign}/setup", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/campaigns/{campaign}"
    refused = web.post(f"/campaigns/{campaign}/setup", {"name": "y"})
    assert refused.status_code == 409  # type: ignore[attr-defined]


def test_removed_rows_are_kept_and_the_summary_still_adds_up(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = web.new_draft()
    upload(web, campaign, MESSY_CSV.read_bytes())
    with web.herald.sessions() as db:
        audience_id = web.herald.campaigns.get(db, campaign).audience_id
    assert audience_id is not None
    removed = audience_row_removal.remove_rows(web.herald.engine, audience_id, [3, 4, 6])
    assert removed == 3
    summary = audience_rows_summary(web, audience_id)
    assert summary["valid_contacts"] == 7 and summary["rejected_rows"] == 1
    assert summary["duplicates"] == 0
    assert summary["records_read"] == 8 == 7 + 1 + 0
    assert summary["phones_available"] == 6 and summary["emails_available"] == 5
    full_name = next(f for f in summary["custom_fields"] if f["variable"] == "full_name")
    assert full_name["filled"] == 7 and "Jamie Shaw" not in full_name["samples"]
    from sqlalchemy import select

    from herald.store.audiences import EXCLUDED_ROWS

    with web.herald.engine.connect() as connection:
        kept = connection.execute(
            select(EXCLUDED_ROWS.c.row_number, EXCLUDED_ROWS.c.original).where(
                EXCLUDED_ROWS.c.audience_id == audience_id, EXCLUDED_ROWS.c.status == "removed"
            )
        ).all()
    assert sorted(row for row, _original in kept) == [3, 4, 6]
    assert any("Jamie Shaw" in original for _row, original in kept)


def audience_rows_summary(web: BuilderWeb, audience_id: int) -> dict[str, object]:
    from herald.services.audiences import get_audience

    return get_audience(web.herald.engine, audience_id).summary


def test_a_read_only_api_key_cannot_change_a_campaign(web: BuilderWeb) -> None:
    from herald.domain.api_keys import ApiKeyScope
    from tests.auth_support import SETUP

    with web.herald.sessions() as db:
        created = web.herald.api_keys.create_key(
            db, name="reader", scope=ApiKeyScope.READ, actor=SETUP
        )
    headers = {"authorization": f"Bearer {created.token}"}
    campaign = web.new_draft("Before")
    refused = web.anonymous.post(
        f"/campaigns/{campaign}/setup", data={"name": "After"}, headers=headers
    )
    assert refused.status_code == 403
    assert web.anonymous.post("/campaigns/new", headers=headers).status_code == 403
    with web.herald.sessions() as db:
        assert web.herald.campaigns.get(db, campaign).name == "Before"


def test_a_list_can_be_started_with_its_columns_before_any_contact(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = web.post(
        f"/campaigns/{campaign}/audience/contacts", {"columns": "name", "go": "start_list"}
    )
    assert response.headers["location"].endswith("notice=started#audience")  # type: ignore[attr-defined]
    page = web.client.get(f"/campaigns/{campaign}/setup").text
    assert 'name="field_name" value="name"' in page and "<dt>Contacts</dt><dd>0</dd>" in page


def test_bad_paging_parameters_are_named(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    response = web.client.get(f"/campaigns/{campaign}/setup", params={"after": -5})
    assert response.status_code == 422
    assert "after" in response.json()["detail"]
    missing = web.client.get("/campaigns/999/setup")
    assert missing.status_code == 404 and "Campaign 999 does not exist" in missing.text

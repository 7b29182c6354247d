"""Subscriber activity and message logs: paging, search, filters, errors explained."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.channels.base import DeliveryStatus
from herald.domain.channels import IntegrationKind
from tests.admin_pages_support import assert_clean_page
from tests.support.detail_pages import PAGE, DetailWeb, build_detail_web

NOT_ON_WHATSAPP = "The number is not registered on WhatsApp."


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[DetailWeb]:
    yield from build_detail_web(database_url, tmp_path)


def _run(web: DetailWeb) -> tuple[int, list[int]]:
    """Alex's WhatsApp fails with 131026 and the SMS fallback goes out; Jamie's is
    delivered; Priya has no phone and is undeliverable at once."""
    campaign_id = web.launch()
    web.harness.settle()
    alex, jamie, priya = web.harness.journey_ids(campaign_id)
    web.status(alex, 0, DeliveryStatus.FAILED, code="131026")
    web.status(jamie, 0, DeliveryStatus.DELIVERED)
    web.harness.settle()
    return campaign_id, [alex, jamie, priya]


def _get(web: DetailWeb, path: str) -> str:
    response = web.client.get(path, headers=PAGE)
    assert response.status_code == 200, response.text
    return response.text


def _journey_links(html: str, campaign_id: int) -> list[int]:
    return [int(j) for j in re.findall(rf'href="/campaigns/{campaign_id}/activity/(\d+)"', html)]


@pytest.mark.parametrize("section", ["activity", "activity/1", "logs", "logs/1"])
def test_activity_and_logs_need_a_signed_in_user(web: DetailWeb, section: str) -> None:
    campaign_id, _ = _run(web)
    anonymous = web.anonymous()
    page = anonymous.get(
        f"/campaigns/{campaign_id}/{section}", headers=PAGE, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert anonymous.get(f"/campaigns/{campaign_id}/{section}").status_code == 401


def test_contacts_are_listed_in_audience_order_with_their_steps(web: DetailWeb) -> None:
    campaign_id, journeys = _run(web)
    html = _get(web, f"/campaigns/{campaign_id}/activity")
    assert _journey_links(html, campaign_id) == journeys
    assert ">Alex</a>" in html and ">Priya</a>" in html
    assert 'Primary: <span class="badge badge-danger" data-status="failed"' in html
    assert 'Fallback 1: <span class="badge badge-info" data-status="accepted"' in html
    assert 'data-status="undeliverable"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "JAMIE@"}, [1]),
        ({"q": "+1202"}, [0]),
        ({"q": "nobody"}, []),
        ({"q": "%"}, []),
        ({"outcome": "undeliverable"}, [2]),
        ({"outcome": "in_progress"}, [0]),
        ({"outcome": "delivered"}, [1]),
    ],
)
def test_search_and_outcome_filters(
    web: DetailWeb, query: dict[str, str], expected: list[int]
) -> None:
    campaign_id, journeys = _run(web)
    response = web.client.get(f"/campaigns/{campaign_id}/activity", params=query, headers=PAGE)
    assert response.status_code == 200
    assert _journey_links(response.text, campaign_id) == [journeys[i] for i in expected]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"outcome": "lost"}, "Outcome &#39;lost&#39; is not one of replied"),
        ({"after": "abc"}, "After must be a whole number"),
        ({"limit": "0"}, "Limit must be 1 to 200"),
        ({"q": "x" * 101}, "Search is limited to 100 characters"),
    ],
)
def test_bad_activity_filters_are_named(
    web: DetailWeb, query: dict[str, str], message: str
) -> None:
    campaign_id, _ = _run(web)
    response = web.client.get(f"/campaigns/{campaign_id}/activity", params=query, headers=PAGE)
    assert response.status_code == 422
    assert message in response.text


def test_contacts_page_with_a_cursor(web: DetailWeb) -> None:
    campaign_id, journeys = _run(web)
    first = _get(web, f"/campaigns/{campaign_id}/activity?limit=2&outcome=")
    assert _journey_links(first, campaign_id) == journeys[:2]
    following = re.search(r'href="([^"]+)" rel="next"', first)
    assert following is not None
    second = _get(web, following.group(1).replace("&amp;", "&"))
    assert _journey_links(second, campaign_id) == journeys[2:]
    assert 'rel="next"' not in second and "First page" in second


def test_a_contacts_journey_step_by_step(web: DetailWeb) -> None:
    campaign_id, (alex, _, _) = _run(web)
    html = _get(web, f"/campaigns/{campaign_id}/activity/{alex}")
    assert '<h2 id="contact-heading">Alex</h2>' in html
    assert "+12025550101" in html
    for label in ("Journey started", "Accepted by the provider", "Delivery failed"):
        assert label in html
    assert "Message undeliverable" in html and NOT_ON_WHATSAPP in html
    assert f"pm-{alex}-0-failed" in html  # the provider id of the failed status
    assert "Fallback 1" in html and "clinic-sms" in html
    assert html.index("Journey started") < html.index("Delivery failed")
    assert f"/conversations?campaign_id={campaign_id}&amp;q=%2B12025550101" in html


def test_a_journey_of_another_campaign_is_not_found(web: DetailWeb) -> None:
    _, (alex, _, _) = _run(web)
    other = web.launch()
    response = web.client.get(f"/campaigns/{other}/activity/{alex}", headers=PAGE)
    assert response.status_code == 404
    assert f"Campaign {other} has no contact journey {alex}" in response.text


def _message_ids(html: str, campaign_id: int) -> list[int]:
    return [int(m) for m in re.findall(rf'href="/campaigns/{campaign_id}/logs/(\d+)">#', html)]


def test_logs_list_every_message_with_errors_explained(web: DetailWeb) -> None:
    campaign_id, _ = _run(web)
    html = _get(web, f"/campaigns/{campaign_id}/logs")
    assert len(_message_ids(html, campaign_id)) == 3
    assert '<summary><span class="mono">131026</span> Message undeliverable</summary>' in html
    assert NOT_ON_WHATSAPP in html
    assert '<option value="131026">131026</option>' in html


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({"channel": "sms"}, 1),
        ({"channel": "whatsapp"}, 2),
        ({"status": "failed"}, 1),
        ({"status": "delivered"}, 1),
        ({"code": "131026"}, 1),
        ({"code": "131026", "channel": "sms"}, 0),
        ({"code": "470"}, 0),
    ],
)
def test_log_filters(web: DetailWeb, query: dict[str, str], count: int) -> None:
    campaign_id, _ = _run(web)
    response = web.client.get(f"/campaigns/{campaign_id}/logs", params=query, headers=PAGE)
    assert response.status_code == 200
    assert len(_message_ids(response.text, campaign_id)) == count


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"channel": "fax"}, "Channel &#39;fax&#39; is not one of whatsapp, sms, voice, email"),
        ({"status": "lost"}, "Status &#39;lost&#39; is not one of pending"),
        ({"code": "x" * 65}, "Error code must be printable text of at most 64 characters"),
        ({"after": "-1"}, "After must be a whole number"),
        ({"limit": "500"}, "Limit must be 1 to 200, not 500"),
    ],
)
def test_bad_log_filters_are_named(web: DetailWeb, query: dict[str, str], message: str) -> None:
    campaign_id, _ = _run(web)
    response = web.client.get(f"/campaigns/{campaign_id}/logs", params=query, headers=PAGE)
    assert response.status_code == 422
    assert message in response.text


def test_logs_page_with_a_cursor(web: DetailWeb) -> None:
    campaign_id, _ = _run(web)
    everything = _message_ids(_get(web, f"/campaigns/{campaign_id}/logs"), campaign_id)
    seen: list[int] = []
    path: str | None = f"/campaigns/{campaign_id}/logs?limit=1&channel=&status=&code="
    while path is not None:
        html = _get(web, path)
        seen += _message_ids(html, campaign_id)
        following = re.search(r'href="([^"]+)" rel="next"', html)
        path = following.group(1).replace("&amp;", "&") if following else None
    assert seen == everything == sorted(everything)


def test_a_failed_message_log_entry_explains_its_code(web: DetailWeb) -> None:
    campaign_id, (alex, _, _) = _run(web)
    failed = web.client.get(f"/campaigns/{campaign_id}/logs", params={"status": "failed"})
    (message_id,) = _message_ids(failed.text, campaign_id)
    html = _get(web, f"/campaigns/{campaign_id}/logs/{message_id}")
    assert "whatsapp 131026: Message undeliverable" in html
    for reason in (NOT_ON_WHATSAPP, "The person blocked the business"):
        assert reason in html
    assert "Reach the contact on another channel" in html
    assert f'href="/campaigns/{campaign_id}/activity/{alex}"' in html
    assert "Delivery failed" in html


def test_a_message_of_another_campaign_is_not_found(web: DetailWeb) -> None:
    campaign_id, _ = _run(web)
    other = web.launch()
    ids = _message_ids(_get(web, f"/campaigns/{campaign_id}/logs"), campaign_id)
    response = web.client.get(f"/campaigns/{other}/logs/{ids[0]}", headers=PAGE)
    assert response.status_code == 404


def test_sms_errors_are_explained_from_the_sms_catalog(web: DetailWeb) -> None:
    campaign_id, (alex, _, _) = _run(web)
    web.status(
        alex,
        1,
        DeliveryStatus.FAILED,
        kind=IntegrationKind.INFOBIP_SMS,
        code="EC_UNKNOWN_SUBSCRIBER",
    )
    web.harness.settle()
    html = _get(web, f"/campaigns/{campaign_id}/logs?channel=sms")
    assert "EC_UNKNOWN_SUBSCRIBER" in html
    assert "Uncatalogued provider error" not in html


def test_every_page_follows_the_page_rules(web: DetailWeb) -> None:
    campaign_id, (alex, _, _) = _run(web)
    failed = web.client.get(f"/campaigns/{campaign_id}/logs", params={"status": "failed"})
    (message_id,) = _message_ids(failed.text, campaign_id)
    for path in (
        f"/campaigns/{campaign_id}",
        f"/campaigns/{campaign_id}/activity",
        f"/campaigns/{campaign_id}/activity/{alex}",
        f"/campaigns/{campaign_id}/logs",
        f"/campaigns/{campaign_id}/logs/{message_id}",
        f"/campaigns/{campaign_id}/logs?channel=fax",
    ):
        assert_clean_page(web.client.get(path, headers=PAGE).text)

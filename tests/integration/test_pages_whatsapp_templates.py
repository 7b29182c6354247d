"""WhatsApp templates in the pages: the integration's list, the journey's picker, preview, checks.

The demo WhatsApp integration is pointed at a sandbox running in its own
process, whose template list is the fixture catalogue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from herald.channels.sandbox.process import ProcessSandbox
from herald.channels.sandbox.scenario import Scenario
from herald.domain.ids import IntegrationId
from herald.web.pages import integrations as integrations_page
from tests.integration.builder_web_support import BuilderWeb, assert_no_inline_code, build_web
from tests.integration.test_pages_campaigns_journey import full_form, stored_journey, with_audience


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    with ProcessSandbox(Scenario()) as running:
        yield running


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[BuilderWeb]:
    yield from build_web(sqlite_url, tmp_path)


def whatsapp_id(web: BuilderWeb) -> IntegrationId:
    with web.herald.sessions() as db:
        found = web.herald.integrations.find_by_name(db, "demo-whatsapp")
    assert found is not None
    return found.id


@pytest.fixture
def online(web: BuilderWeb, sandbox: ProcessSandbox) -> BuilderWeb:
    """The demo WhatsApp integration talking to the sandbox."""
    with web.herald.sessions() as db:
        web.herald.integrations.update(
            db, whatsapp_id(web), settings={"graph_base_url": sandbox.base_url}
        )
    return web


class Counter:
    def __init__(self, web: BuilderWeb) -> None:
        self.calls = 0
        service = web.herald.whatsapp_templates
        real = service.fetch

        async def counted(*args: Any) -> Any:
            self.calls += 1
            return await real(*args)

        service.fetch = counted


# -- the integration page ----------------------------------------------------------


def test_the_integration_page_lists_the_templates_with_their_status(online: BuilderWeb) -> None:
    counter = Counter(online)
    page = online.client.get(f"/integrations/{whatsapp_id(online)}")
    assert page.status_code == 200
    text = page.text
    assert 'id="templates-title">Templates<' in text
    assert 'data-template-status="APPROVED"' in text
    for status in ("PAUSED", "PENDING", "REJECTED", "DISABLED"):
        assert f'data-template-status="{status}"' in text
    assert ">appointment_reminder<" in text and ">pt_BR<" in text
    assert "Templates 1–15 of 15" in text
    assert_no_inline_code(text)
    online.client.get(f"/integrations/{whatsapp_id(online)}")
    assert counter.calls == 1  # within the TTL the page reads the cache


def test_the_templates_paginate_on_the_server(
    online: BuilderWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrations_page, "TEMPLATES_PER_PAGE", 5)
    url = f"/integrations/{whatsapp_id(online)}"
    first = online.client.get(url).text
    assert "Templates 1–5 of 15" in first
    assert f"{url}?templates_page=2#templates" in html.unescape(first)
    last = online.client.get(url + "?templates_page=3").text
    assert "Templates 11–15 of 15" in last and "templates_page=4" not in last
    assert online.client.get(url + "?templates_page=0").status_code == 422


def test_refresh_fetches_again_and_needs_csrf_and_a_user(online: BuilderWeb) -> None:
    counter = Counter(online)
    url = f"/integrations/{whatsapp_id(online)}/templates/refresh"
    online.client.get(f"/integrations/{whatsapp_id(online)}")
    assert online.anonymous.post(url, follow_redirects=False).status_code in (303, 401, 403)
    forged = online.client.post(url, data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert counter.calls == 1
    response = online.post(url)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert counter.calls == 2
    page = online.client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "Templates fetched again" in page


def test_a_failed_fetch_is_shown_not_raised(web: BuilderWeb) -> None:
    page = web.client.get(f"/integrations/{whatsapp_id(web)}")  # the API is unreachable
    assert page.status_code == 200
    assert "The templates could not be fetched: cannot reach the WhatsApp API" in page.text
    assert "No templates fetched yet." in page.text


def test_other_integrations_have_no_templates(web: BuilderWeb) -> None:
    with web.herald.sessions() as db:
        sms = web.herald.integrations.find_by_name(db, "demo-sms")
    assert sms is not None
    page = web.client.get(f"/integrations/{sms.id}").text
    assert "Refresh templates" not in page
    refused = web.post(f"/integrations/{sms.id}/templates/refresh")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert web.post("/integrations/999/templates/refresh").status_code == 404  # type: ignore[attr-defined]


# -- the journey step --------------------------------------------------------------


def test_the_journey_offers_the_approved_templates(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    online.post(f"/campaigns/{campaign}/journey", full_form(go="journey"))
    text = online.client.get(f"/campaigns/{campaign}/journey").text
    picker = re.search(r'name="primary.wa_template".*?</select>', text, re.S)
    assert picker is not None
    options = picker.group(0)
    assert "appointment_reminder · es · utility" in options
    assert "campaign_offer · pt_br · marketing" not in options  # the language keeps its case
    assert "campaign_offer · pt_BR · marketing" in options
    assert "spring_sale" not in options and "feedback_survey" not in options
    assert 'value="appointment_reminder|en|2"' in options
    assert re.search(r'value="appointment_reminder\|en\|2"[^>]*selected', options)
    assert "Hi {{1}}, this is a reminder of your appointment on {{2}}." in text
    assert_no_inline_code(text)


def test_picking_a_template_fills_name_language_and_parameter_rows(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    online.post(f"/campaigns/{campaign}/journey", full_form(go="journey"))
    chosen = full_form(
        go="section:primary",
        **{
            "primary.wa_template": "shipping_update|en|1",
            "primary.wa_template_shown": "appointment_reminder|en|2",
        },
    )
    assert online.post(f"/campaigns/{campaign}/journey", chosen).status_code == 303  # type: ignore[attr-defined]
    journey = stored_journey(online, campaign)
    assert journey is not None
    content = journey["primary"]["content"]
    assert (content["name"], content["language"]) == ("shipping_update", "en")
    assert content["body"] == [{"column": "full_name", "default": "there"}]
    more = full_form(
        go="journey",
        **{
            "primary.wa_template": "hello_world|en_US|0",
            "primary.wa_template_shown": "shipping_update|en|1",
        },
    )
    online.post(f"/campaigns/{campaign}/journey", more)
    journey = stored_journey(online, campaign)
    assert journey is not None and journey["primary"]["content"]["body"] == []


def test_a_name_typed_by_hand_wins_over_an_unchanged_choice(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    typed = full_form(
        go="journey",
        **{
            "primary.wa_name": "my_own_template",
            "primary.wa_template": "appointment_reminder|en|2",
            "primary.wa_template_shown": "appointment_reminder|en|2",
        },
    )
    online.post(f"/campaigns/{campaign}/journey", typed)
    journey = stored_journey(online, campaign)
    assert journey is not None and journey["primary"]["content"]["name"] == "my_own_template"


def test_the_preview_shows_the_template_body_filled_in(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    online.client.get(f"/campaigns/{campaign}/journey")  # fetches the templates
    text = online.post(f"/campaigns/{campaign}/journey/preview", full_form(contact="2")).text  # type: ignore[attr-defined]
    assert "Hi Alex Doe, this is a reminder of your appointment on 2024-09-12." in text
    assert "template-parameters" not in text
    unknown = full_form(contact="2", **{"primary.wa_name": "not_a_template"})
    text = online.post(f"/campaigns/{campaign}/journey/preview", unknown).text  # type: ignore[attr-defined]
    assert "<li>Alex Doe</li><li>2024-09-12</li>" in text  # unknown: the numbered list


def test_the_step_checks_use_the_template_list(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    online.client.get(f"/campaigns/{campaign}/journey")
    preview = f"/campaigns/{campaign}/journey/preview"
    unknown = online.post(preview, full_form(**{"primary.wa_name": "appointment_remindr"})).text  # type: ignore[attr-defined]
    assert "has no template &#39;appointment_remindr&#39; in language &#39;en&#39;" in unknown
    assert "Approved templates: appointment_reminder (en, es)" in unknown
    paused = full_form(
        **{"primary.wa_name": "spring_sale", "primary.wa_param_source": ["full_name"]}
    )
    assert "is PAUSED, not APPROVED" in online.post(preview, paused).text  # type: ignore[attr-defined]
    one = full_form(**{"primary.wa_param_source": ["full_name"], "primary.wa_param_text": [""]})
    text = online.post(preview, one).text  # type: ignore[attr-defined]
    assert (
        "the step gives 1 body parameter; template &#39;appointment_reminder&#39; (en) has 2"
        in text
    )


def test_without_a_template_list_the_step_warns_and_names_can_be_typed(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    page = web.client.get(f"/campaigns/{campaign}/journey").text
    assert 'name="primary.wa_name"' in page
    text = web.post(f"/campaigns/{campaign}/journey/preview", full_form()).text  # type: ignore[attr-defined]
    assert "could not be verified" in text
    assert "<li>Alex Doe</li>" in text or "template-parameters" in text


def test_refresh_templates_in_the_journey_fetches_and_stays(
    online: BuilderWeb,
) -> None:
    counter = Counter(online)
    campaign = with_audience(online)
    online.client.get(f"/campaigns/{campaign}/journey")
    assert counter.calls == 1
    response = online.post(
        f"/campaigns/{campaign}/journey", full_form(go="refresh_templates:primary")
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/campaigns/{campaign}/journey?section=primary"  # type: ignore[attr-defined]
    assert counter.calls == 2
    online.herald.whatsapp_templates.ttl_seconds = 60
    online.clock.advance(timedelta(seconds=59))
    assert online.client.get(f"/campaigns/{campaign}/journey").status_code == 200
    assert counter.calls == 2
    online.clock.advance(timedelta(seconds=1))  # as old as the TTL: the page fetches again
    assert online.client.get(f"/campaigns/{campaign}/journey").status_code == 200
    assert counter.calls == 3


def test_the_review_blocks_a_wrong_parameter_count(online: BuilderWeb) -> None:
    campaign = with_audience(online)
    one = full_form(
        go="journey", **{"primary.wa_param_source": ["full_name"], "primary.wa_param_text": [""]}
    )
    counter = Counter(online)
    online.post(f"/campaigns/{campaign}/journey", one)
    assert counter.calls == 0
    review = online.client.get(f"/campaigns/{campaign}/review").text  # fetches the templates
    assert counter.calls == 1
    assert "has 2 placeholders in its body" in review
    online.client.get(f"/campaigns/{campaign}/review")
    assert counter.calls == 1

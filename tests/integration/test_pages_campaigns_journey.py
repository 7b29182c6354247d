"""Builder step 2: the message journey form, its structural edits, live preview and checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from herald.domain.campaign import parse_journey
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


def with_audience(web: BuilderWeb) -> int:
    campaign = web.new_draft("Reminders")
    web.post(
        f"/campaigns/{campaign}/audience",
        files={"file": ("messy.csv", MESSY_CSV.read_bytes(), "text/csv")},
    )
    return campaign


def full_form(**overrides: Any) -> dict[str, Any]:
    """WhatsApp template, then an SMS fallback, then an SMS follow-up after 3 days."""
    form: dict[str, Any] = {
        "steps": ["primary", "fallback-1", "follow-up"],
        "section": "primary",
        "primary.integration": "demo-whatsapp",
        "primary.wa_name": "appointment_reminder",
        "primary.wa_language": "en",
        "primary.wa_param_source": ["full_name", "appointment_date"],
        "primary.wa_param_text": ["there", ""],
        "fallbacks_on": "on",
        "fallback-1.integration": "demo-sms",
        "fallback-1.sms_text": "Hi {{full_name|there}}, see you on {{appointment_date}}.",
        "follow_up_on": "on",
        "follow_up_delay": "3",
        "follow-up.integration": "demo-sms",
        "follow-up.sms_text": "Can you still make it, {{full_name}}?",
    }
    return form | overrides


def stored_journey(web: BuilderWeb, campaign: int) -> dict[str, Any] | None:
    with web.herald.sessions() as db:
        return web.herald.campaigns.get(db, campaign).journey


def test_the_journey_page_offers_active_integrations_and_the_columns(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    page = web.client.get(f"/campaigns/{campaign}/journey")
    assert page.status_code == 200
    text = page.text
    assert 'value="demo-whatsapp" data-kind="whatsapp"' in text
    assert 'value="demo-sms" data-kind="infobip_sms"' in text
    assert "old-sms" not in text  # switched off: not offered
    assert "&#34;full_name&#34;" in text or '"full_name"' in text  # the variable picker's list
    assert "Send a fallback if not delivered" in text
    assert "Follow up if there is no response" in text
    assert ">7 days without a reply<" in text and ">8 days" not in text
    assert "Row 8 · Hans Müller · +4930901820" in text  # contacts to preview
    assert_no_inline_code(text)


def test_saving_builds_whatsapp_then_sms_fallback_then_follow_up(web_any: BuilderWeb) -> None:
    web = web_any
    campaign = with_audience(web)
    response = web.post(f"/campaigns/{campaign}/journey", full_form(go="next"))
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/campaigns/{campaign}/review"  # type: ignore[attr-defined]
    journey = parse_journey(stored_journey(web, campaign))
    assert journey.primary.integration.name == "demo-whatsapp"
    assert journey.primary.content.type == "whatsapp_template"
    assert [p.column for p in journey.primary.content.body] == ["full_name", "appointment_date"]  # type: ignore[union-attr]
    assert journey.primary.content.body[0].default == "there"  # type: ignore[union-attr]
    assert [step.integration.name for step in journey.fallbacks] == ["demo-sms"]
    assert journey.follow_up is not None and journey.follow_up.delay_days == 3
    page = web.client.get(f"/campaigns/{campaign}/journey").text
    assert 'value="appointment_reminder"' in page
    assert "see you on {{appointment_date}}." in page


def test_switching_toggles_off_drops_fallbacks_and_follow_up(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    form = full_form()
    del form["fallbacks_on"], form["follow_up_on"]
    web.post(f"/campaigns/{campaign}/journey", form | {"go": "journey"})
    journey = stored_journey(web, campaign)
    assert journey is not None
    assert journey.get("fallbacks") == [] and "follow_up" not in journey


def test_fallbacks_are_added_reordered_and_removed(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    added = web.post(f"/campaigns/{campaign}/journey", full_form(go="add_fallback"))
    assert added.headers["location"].endswith("section=fallback-2")  # type: ignore[attr-defined]
    form = full_form(go="up:fallback-2")
    form["steps"] = ["primary", "fallback-1", "fallback-2", "follow-up"]
    form["fallback-2.integration"] = "demo-voice"
    form["fallback-2.voice_text"] = "Hello {{full_name}}"
    web.post(f"/campaigns/{campaign}/journey", form)
    journey = stored_journey(web, campaign)
    assert journey is not None
    assert [step["integration"]["name"] for step in journey["fallbacks"]] == [
        "demo-voice",
        "demo-sms",
    ]
    form = full_form(go="remove:fallback-1")
    form["steps"] = ["primary", "fallback-1", "fallback-2", "follow-up"]
    form["fallback-1.integration"], form["fallback-2.integration"] = "demo-voice", "demo-sms"
    form["fallback-1.voice_text"] = "Hello"
    web.post(f"/campaigns/{campaign}/journey", form)
    journey = stored_journey(web, campaign)
    assert journey is not None
    assert [step["integration"]["name"] for step in journey["fallbacks"]] == ["demo-sms"]


def test_a_template_parameter_is_added_on_request(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    form = full_form(go="add_param:primary")
    web.post(f"/campaigns/{campaign}/journey", form)
    journey = stored_journey(web, campaign)
    assert journey is not None and len(journey["primary"]["content"]["body"]) == 3
    assert journey["primary"]["content"]["body"][2] == {"text": ""}


def test_an_incomplete_journey_is_kept_and_its_checks_are_shown(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    form = full_form(**{"fallback-1.sms_text": "Hi {{ful_name}}", "section": "fallback-1"})
    web.post(f"/campaigns/{campaign}/journey", form | {"go": "journey"})
    page = web.client.get(f"/campaigns/{campaign}/journey", params={"section": "fallback-1"}).text
    assert "ful_name" in page and "did you mean" in page.lower()
    broken = web.post(
        f"/campaigns/{campaign}/journey", full_form(**{"primary.wa_name": "Bad Name", "go": "x"})
    )
    assert broken.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(f"/campaigns/{campaign}/journey").text
    assert "is not a WhatsApp template name" in page


def test_the_live_preview_renders_a_step_for_a_chosen_contact(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    form = full_form(section="fallback-1", contact="3")
    response = web.post(f"/campaigns/{campaign}/journey/preview", form)
    assert response.status_code == 200  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert 'data-preview-kind="sms"' in text
    assert "Hi Jamie Shaw, see you on 2024-09-13." in text
    assert "This contact has no phone" in text  # row 3's phone is invalid
    whatsapp = web.post(f"/campaigns/{campaign}/journey/preview", full_form(contact="2")).text  # type: ignore[attr-defined]
    assert 'data-preview-kind="whatsapp"' in whatsapp
    assert "<li>Alex Doe</li><li>2024-09-12</li>" in whatsapp


def test_the_preview_says_what_is_missing(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    text = web.post(f"/campaigns/{campaign}/journey/preview", full_form()).text  # type: ignore[attr-defined]
    assert "The campaign has no audience yet" in text
    campaign = with_audience(web)
    text = web.post(f"/campaigns/{campaign}/journey/preview", full_form(contact="4")).text  # type: ignore[attr-defined]
    assert "Row 4 of the audience is not a contact" in text


def test_the_sms_measure_counts_parts_and_names_unicode(web: BuilderWeb) -> None:
    campaign = web.new_draft()
    short = web.post(f"/campaigns/{campaign}/journey/measure", {"primary.sms_text": "Hello"})
    assert short.text == "5 characters · GSM-7 · 1 SMS"  # type: ignore[attr-defined]
    empty = web.post(f"/campaigns/{campaign}/journey/measure", {"primary.sms_text": ""})
    assert empty.text == "No text yet"  # type: ignore[attr-defined]
    long = web.post(
        f"/campaigns/{campaign}/journey/measure", {"fallback-1.sms_text": "é" * 10 + "😀"}
    )
    assert "Unicode (UCS-2)" in long.text and "😀" in long.text  # type: ignore[attr-defined]


def test_journey_posts_need_auth_and_csrf(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    forged = web.client.post(
        f"/campaigns/{campaign}/journey", data=full_form(go="journey"), follow_redirects=False
    )
    assert forged.status_code == 403
    assert stored_journey(web, campaign) is None
    anonymous = web.anonymous.post(
        f"/campaigns/{campaign}/journey/preview", data=full_form(), follow_redirects=False
    )
    assert anonymous.status_code in (401, 403)
    page = web.anonymous.get(f"/campaigns/{campaign}/journey", follow_redirects=False)
    assert page.status_code == 303


def test_an_unknown_campaign_is_not_found(web: BuilderWeb) -> None:
    assert web.client.get("/campaigns/999/journey").status_code == 404
    assert web.post("/campaigns/999/journey", full_form()).status_code == 404  # type: ignore[attr-defined]


def test_a_step_without_integration_says_so_in_plain_words(web: BuilderWeb) -> None:
    campaign = with_audience(web)
    page = web.client.get(f"/campaigns/{campaign}/journey").text
    assert "no integration is chosen for the primary message" in page
    assert "Choose an integration to see the message." in page
    assert "String should have at least 1 character" not in page


def test_fields_without_an_editor_survive_saving_in_the_browser(web: BuilderWeb) -> None:
    """Header and buttons of a template, an email's HTML: set by a spec, kept by the form."""
    import html
    import re

    campaign = with_audience(web)
    buttons = [{"index": 0, "type": "quick_reply", "parameter": {"text": "YES"}}]
    stored = {
        "primary": {
            "integration": {"name": "demo-whatsapp", "kind": "whatsapp"},
            "content": {
                "type": "whatsapp_template",
                "name": "appointment_reminder",
                "language": "en",
                "body": [{"column": "full_name"}],
                "header_text": {"text": "Clinic North"},
                "buttons": buttons,
            },
        }
    }
    with web.herald.sessions() as db:
        web.herald.campaigns.update_draft(db, campaign, journey=stored)
    page = web.client.get(f"/campaigns/{campaign}/journey").text
    assert "kept: header text, buttons" in page
    kept = re.search(r'name="primary.kept" value="([^"]*)"', page)
    assert kept is not None
    form = full_form(**{"primary.kept": html.unescape(kept.group(1)), "go": "journey"})
    form["primary.wa_param_source"], form["primary.wa_param_text"] = ["full_name"], [""]
    web.post(f"/campaigns/{campaign}/journey", form)
    journey = stored_journey(web, campaign)
    assert journey is not None
    assert journey["primary"]["content"]["header_text"] == {"text": "Clinic North"}
    assert journey["primary"]["content"]["buttons"] == buttons

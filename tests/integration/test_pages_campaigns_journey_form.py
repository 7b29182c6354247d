"""The journey form's translation: posted fields to journey data and back, and its edits."""

from __future__ import annotations

from herald.domain.campaign import parse_journey
from herald.domain.channels import IntegrationKind
from herald.domain.checks import Finding, Severity
from herald.web.pages.builder_journey import step_of
from herald.web.pages.builder_journey_form import (
    JourneyForm,
    StepForm,
    apply_action,
    form_from_journey,
    parse_form,
)

KINDS = {
    "wa": IntegrationKind.WHATSAPP,
    "sms": IntegrationKind.INFOBIP_SMS,
    "voice": IntegrationKind.TWILIO_VOICE,
    "mail": IntegrationKind.EMAIL_SMTP,
}


def posted() -> dict[str, list[str]]:
    return {
        "steps": ["primary", "fallback-1", "fallback-2", "follow-up"],
        "primary.integration": ["wa"],
        "primary.wa_name": ["appointment_reminder"],
        "primary.wa_language": ["en_US"],
        "primary.wa_param_source": ["name", ""],
        "primary.wa_param_text": ["there", "Clinic North"],
        # An SMS typed earlier stays in the form but is not read for a WhatsApp step.
        "primary.sms_text": ["left over"],
        "fallbacks_on": ["on"],
        "fallback-1.integration": ["voice"],
        "fallback-1.voice_text": ["Hello {{name}}"],
        "fallback-1.voice_language": ["en-GB"],
        "fallback-1.window": ["45"],
        "fallback-2.integration": ["mail"],
        "fallback-2.email_subject": ["Your visit"],
        "fallback-2.email_text": ["Dear {{name|patient}}"],
        "follow_up_on": ["on"],
        "follow_up_delay": ["5"],
        "follow-up.integration": ["sms"],
        "follow-up.sms_text": ["Still coming?"],
    }


def test_a_posted_form_becomes_a_valid_journey() -> None:
    data = parse_form(posted()).to_journey(KINDS)
    journey = parse_journey(data)
    assert journey.primary.content.model_dump(exclude_none=True) == {
        "type": "whatsapp_template",
        "name": "appointment_reminder",
        "language": "en_US",
        "body": ({"column": "name", "default": "there"}, {"text": "Clinic North"}),
        "buttons": (),
    }
    voice, email = journey.fallbacks
    assert voice.content.type == "voice" and voice.delivery_window_minutes == 45
    assert email.content.type == "email"
    assert journey.follow_up is not None and journey.follow_up.delay_days == 5


def test_a_stored_journey_comes_back_as_the_same_form() -> None:
    data = parse_form(posted()).to_journey(KINDS)
    again = form_from_journey(data).to_journey(KINDS)
    assert again == data


def test_toggles_off_leave_out_fallbacks_and_follow_up() -> None:
    form = posted()
    del form["fallbacks_on"], form["follow_up_on"]
    data = parse_form(form).to_journey(KINDS)
    assert data["fallbacks"] == [] and "follow_up" not in data


def test_switching_fallbacks_on_starts_one() -> None:
    form = {"steps": ["primary", "follow-up"], "fallbacks_on": ["on"]}
    assert len(parse_form(form).fallbacks) == 1


def test_a_step_without_integration_is_kept_incomplete() -> None:
    data = JourneyForm(primary=StepForm(sms_text="typed")).to_journey(KINDS)
    assert data["primary"] == {"integration": {"name": "", "kind": None}}
    assert form_from_journey({"primary": "nonsense", "fallbacks": [3]}).primary == StepForm()


def test_fallbacks_move_and_go() -> None:
    journey = JourneyForm(
        fallbacks=[StepForm(integration="a"), StepForm(integration="b"), StepForm(integration="c")]
    )
    journey, section = apply_action(journey, "up:fallback-3")
    assert [s.integration for s in journey.fallbacks] == ["a", "c", "b"] and section == "fallback-2"
    journey, section = apply_action(journey, "down:fallback-1")
    assert [s.integration for s in journey.fallbacks] == ["c", "a", "b"] and section == "fallback-2"
    journey, section = apply_action(journey, "down:fallback-3")  # already last: unchanged
    assert [s.integration for s in journey.fallbacks] == ["c", "a", "b"]
    journey, section = apply_action(journey, "remove:fallback-1")
    assert [s.integration for s in journey.fallbacks] == ["a", "b"] and section == "primary"
    journey, section = apply_action(journey, "remove:fallback-9")
    assert section is None and len(journey.fallbacks) == 2
    journey, section = apply_action(journey, "add_param:primary")
    assert len(journey.primary.params) == 1 and section == "primary"
    assert apply_action(journey, "exit")[1] is None


def test_findings_are_placed_on_their_step() -> None:
    def finding(step: str | None, field: str | None) -> Finding:
        return Finding("x", Severity.ERROR, "m", "f", step=step, field=field)

    assert step_of(finding("fallback-2", None)) == "fallback-2"
    assert step_of(finding(None, "journey.fallbacks[1].content.text")) == "fallback-2"
    assert step_of(finding(None, "journey.follow_up.delay_days")) == "follow-up"
    assert step_of(finding(None, "journey.primary.integration.name")) == "primary"
    assert step_of(finding(None, "audience")) is None


def test_kept_fields_travel_through_the_hidden_field() -> None:
    keypress = {"prompt": "Press 1", "options": {"1": "confirm"}, "timeout_seconds": 5}
    stored = {
        "primary": {
            "integration": {"name": "voice", "kind": "twilio_voice"},
            "content": {"type": "voice", "text": "Hi", "language": "en-US", "keypress": keypress},
        },
        "fallbacks": [
            {
                "integration": {"name": "mail", "kind": "email_smtp"},
                "content": {"type": "email", "subject": "S", "text": "T", "html": "<p>T</p>"},
            }
        ],
    }
    form = form_from_journey(stored)
    posted = {
        "steps": ["primary", "fallback-1", "follow-up"],
        "fallbacks_on": ["on"],
        "primary.integration": ["voice"],
        "primary.voice_text": ["Hi"],
        "primary.kept": [form.primary.kept_json],
        "fallback-1.integration": ["mail"],
        "fallback-1.email_subject": ["S"],
        "fallback-1.email_text": ["T"],
        "fallback-1.kept": [form.fallbacks[0].kept_json],
    }
    data = parse_form(posted).to_journey({"voice": KINDS["voice"], "mail": KINDS["mail"]})
    assert data["primary"]["content"]["keypress"] == keypress
    assert data["fallbacks"][0]["content"]["html"] == "<p>T</p>"
    forged = parse_form(posted | {"primary.kept": ['{"voice": {"text": "x", "keypress": 1}}']})
    assert forged.primary.kept == {"voice": {"keypress": 1}}  # only fields the form keeps
    assert parse_form(posted | {"primary.kept": ["not json"]}).primary.kept == {}

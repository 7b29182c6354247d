from __future__ import annotations

from datetime import timedelta
from typing import Any

import pydantic
import pytest

from herald.domain.campaign import (
    DEFAULT_DELIVERY_WINDOW_MINUTES,
    JourneyDefinition,
    Step,
    StepRole,
    parse_journey,
)
from herald.domain.channels import Channel, ContactField
from herald.domain.content import (
    ButtonType,
    KeypressCapture,
    SmsContent,
    TemplateButton,
    TemplateParameter,
    VariableUse,
    VoiceContent,
    WhatsAppTemplateContent,
    variable_uses,
)
from herald.domain.modeling import ModelValidationError
from tests.unit.campaign_factories import (
    SMS,
    WHATSAPP,
    email_follow_up,
    reminder_journey,
    sms_step,
    voice_step,
    whatsapp_step,
)


def journey_data(**primary_content: Any) -> dict[str, Any]:
    content = {"type": "sms", "text": "Hi {{name}}"}
    content.update(primary_content)
    return {
        "primary": {
            "integration": {"name": "clinic-sms", "kind": "infobip_sms"},
            "content": content,
        }
    }


def problem_of(data: dict[str, Any]) -> ModelValidationError:
    with pytest.raises(ModelValidationError) as caught:
        parse_journey(data)
    return caught.value


def test_a_journey_round_trips_through_json() -> None:
    journey = reminder_journey(fallbacks=(sms_step(), voice_step()))
    data = journey.model_dump(mode="json")
    assert parse_journey(data) == journey
    assert JourneyDefinition.model_validate_json(journey.model_dump_json()) == journey


def test_models_are_frozen() -> None:
    journey = reminder_journey()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        journey.primary = sms_step()  # type: ignore[misc]


def test_content_must_fit_the_integration_channel() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Step(integration=WHATSAPP, content=SmsContent(text="hi"))
    message = str(caught.value)
    assert "content type 'sms' cannot be sent through the whatsapp integration" in message
    assert "use whatsapp_template, whatsapp_text" in message


def test_errors_name_the_path_without_the_content_tag() -> None:
    error = problem_of(journey_data(text="Hi {{name"))
    assert error.field == "journey.primary.content.text"
    assert "'{{' is never closed" in error.message
    error = problem_of(journey_data(type="fax"))
    assert error.field == "journey.primary.content"
    assert "does not match any of the expected tags" in error.message


def test_unknown_keys_and_missing_keys_are_named() -> None:
    data = journey_data(txt="typo")
    del data["primary"]["content"]["text"]
    error = problem_of(data)
    paths = {problem.field for problem in error.problems}
    assert paths == {"journey.primary.content.text", "journey.primary.content.txt"}
    assert "unknown key" in error.message
    assert "a required key is missing" in error.message


def test_steps_know_their_channel_and_required_contact_field() -> None:
    assert whatsapp_step().channel is Channel.WHATSAPP
    assert whatsapp_step().required_field is ContactField.PHONE
    assert email_follow_up().required_field is ContactField.EMAIL


@pytest.mark.parametrize(
    ("step", "minutes"),
    [(whatsapp_step(), 360), (sms_step(), 720), (voice_step(), 30), (email_follow_up(), 60)],
)
def test_delivery_window_defaults_per_channel(step: Step, minutes: int) -> None:
    assert step.delivery_window == timedelta(minutes=minutes)
    assert DEFAULT_DELIVERY_WINDOW_MINUTES[step.channel] == minutes


def test_delivery_window_override_and_bounds() -> None:
    assert sms_step(delivery_window_minutes=90).delivery_window == timedelta(minutes=90)
    for bad in (0, 7 * 24 * 60 + 1):
        with pytest.raises(pydantic.ValidationError):
            sms_step(delivery_window_minutes=bad)


def test_follow_up_delay_is_whole_days_and_any_number_is_stored() -> None:
    assert email_follow_up(2).delay == timedelta(days=2)
    assert email_follow_up(30).delay_days == 30  # refused by the checks, kept in drafts
    data = reminder_journey().model_dump(mode="json")
    data["follow_up"]["delay_days"] = 1.5
    assert problem_of(data).field == "journey.follow_up.delay_days"


def test_slots_name_and_locate_each_step() -> None:
    journey = reminder_journey(fallbacks=(sms_step(), voice_step()))
    described = [(slot.role, slot.key, slot.label, slot.path) for slot in journey.slots]
    assert described == [
        (StepRole.PRIMARY, "primary", "primary step", "journey.primary"),
        (StepRole.FALLBACK, "fallback-1", "fallback 1", "journey.fallbacks[0]"),
        (StepRole.FALLBACK, "fallback-2", "fallback 2", "journey.fallbacks[1]"),
        (StepRole.FOLLOW_UP, "follow-up", "follow-up", "journey.follow_up"),
    ]
    assert [slot.key for slot in journey.chain] == ["primary", "fallback-1", "fallback-2"]
    assert journey.integration_names() == {
        "clinic-whatsapp",
        "clinic-sms",
        "clinic-voice",
        "clinic-email",
    }


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({}, "exactly one of 'column' or 'text'"),
        ({"column": "name", "text": "x"}, "exactly one of 'column' or 'text'"),
        ({"text": "x", "default": "y"}, "'default' only applies"),
        ({"column": "first name"}, "is not a column name"),
    ],
)
def test_template_parameters_take_one_source(fields: dict[str, Any], fragment: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=fragment):
        TemplateParameter(**fields)


def test_fixed_parameter_text_is_not_a_template() -> None:
    assert TemplateParameter.fixed("{{not a variable").text == "{{not a variable"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": "Appointment Reminder"}, "not a WhatsApp template name"),
        ({"language": "english"}, "not a template language code"),
        (
            {
                "buttons": (
                    TemplateButton(
                        index=0, type=ButtonType.URL, parameter=TemplateParameter.fixed("a")
                    ),
                    TemplateButton(
                        index=0, type=ButtonType.QUICK_REPLY, parameter=TemplateParameter.fixed("b")
                    ),
                )
            },
            "share one index",
        ),
    ],
)
def test_whatsapp_template_fields_are_validated(fields: dict[str, Any], fragment: str) -> None:
    base: dict[str, Any] = {"name": "reminder", "language": "en_US"}
    with pytest.raises(pydantic.ValidationError, match=fragment):
        WhatsAppTemplateContent(**{**base, **fields})


@pytest.mark.parametrize("language", ["en", "en_US", "pt_BR", "fil", "zh_Hant"])
def test_whatsapp_language_codes(language: str) -> None:
    assert WhatsAppTemplateContent(name="x", language=language).language == language


def test_drafts_may_hold_blank_content() -> None:
    assert WhatsAppTemplateContent(name="", language="").name == ""
    assert SmsContent(text="").text == ""


def test_keypress_capture() -> None:
    capture = KeypressCapture.model_validate(
        {"prompt": "Press 1", "options": {1: "confirm", "#": "repeat"}}
    )
    assert capture.options == {"1": "confirm", "#": "repeat"}
    with pytest.raises(pydantic.ValidationError, match="at least one key"):
        KeypressCapture(prompt="Press", options={})
    with pytest.raises(pydantic.ValidationError, match="not one phone key"):
        KeypressCapture(prompt="Press", options={"10": "ten"})
    with pytest.raises(pydantic.ValidationError, match="needs a meaning"):
        KeypressCapture(prompt="Press", options={"1": " "})


def test_voice_language_tags() -> None:
    assert VoiceContent(text="hi", language="es-ES").language == "es-ES"
    with pytest.raises(pydantic.ValidationError, match="not a language tag"):
        VoiceContent(text="hi", language="Spanish")


def test_an_email_subject_is_one_line() -> None:
    data = reminder_journey().model_dump(mode="json")
    data["follow_up"]["content"]["subject"] = "Hello\nBcc: someone@example.com"
    error = problem_of(data)
    assert error.field == "journey.follow_up.content.subject"
    assert "one line" in error.message


def test_variable_uses_cover_texts_and_bound_parameters() -> None:
    content = WhatsAppTemplateContent(
        name="reminder",
        language="en",
        header_text=TemplateParameter.bound("clinic"),
        body=(TemplateParameter.fixed("Main St"), TemplateParameter.bound("name", "there")),
        buttons=(
            TemplateButton(index=1, type=ButtonType.URL, parameter=TemplateParameter.bound("code")),
        ),
    )
    assert variable_uses(content) == (
        VariableUse("content.header_text", "clinic", None),
        VariableUse("content.body[1]", "name", "there"),
        VariableUse("content.buttons[0].parameter", "code", None),
    )
    voice = VoiceContent(
        text="Hi {{name}}",
        keypress=KeypressCapture(prompt="{{name|you}}, press 1", options={"1": "ok"}),
    )
    assert [(use.path, use.name, use.default) for use in variable_uses(voice)] == [
        ("content.text", "name", None),
        ("content.keypress.prompt", "name", "you"),
    ]
    assert SMS.channel is Channel.SMS

from __future__ import annotations

from herald.domain.campaign import Step
from herald.domain.channels import Channel, ContactField
from herald.domain.content import (
    ButtonType,
    KeypressCapture,
    TemplateButton,
    TemplateParameter,
    VoiceContent,
)
from herald.domain.preview import (
    CompiledStep,
    ContactData,
    EmailMessage,
    EmptyValue,
    RenderedButton,
    SmsMessage,
    VoiceMessage,
    WhatsAppTemplateMessage,
    preview_journey,
    render_step,
)
from herald.domain.sms import SmsEncoding
from tests.unit.campaign_factories import (
    VOICE,
    email_step,
    reminder_journey,
    sms_step,
    whatsapp_step,
)

ALEX = ContactData(
    {"name": "Alex Doe", "appointment_date": "2024-09-12"},
    phone="+12025550101",
    email="alex@example.com",
)


def test_whatsapp_template_parameters_are_resolved_in_order() -> None:
    step = whatsapp_step(
        header_text=TemplateParameter.fixed("Clinic  North"),
        buttons=(
            TemplateButton(
                index=0, type=ButtonType.QUICK_REPLY, parameter=TemplateParameter.fixed("YES")
            ),
            TemplateButton(
                index=1, type=ButtonType.URL, parameter=TemplateParameter.bound("code", "none")
            ),
        ),
    )
    preview = render_step(step, ALEX)
    assert preview.channel is Channel.WHATSAPP
    assert preview.message == WhatsAppTemplateMessage(
        name="appointment_reminder",
        language="en_US",
        header_text="Clinic North",
        body=("Alex Doe", "2024-09-12"),
        buttons=(
            RenderedButton(0, ButtonType.QUICK_REPLY, "YES"),
            RenderedButton(1, ButtonType.URL, "none"),
        ),
    )
    assert preview.empty == (EmptyValue("content.buttons[1].parameter", "code", "none"),)
    assert not preview.would_skip


def test_whatsapp_parameters_lose_line_breaks_and_runs_of_spaces() -> None:
    contact = ContactData({"name": "  Alex\n\tDoe     Jr  ", "appointment_date": "x"}, phone="+1")
    message = render_step(whatsapp_step(), contact).message
    assert isinstance(message, WhatsAppTemplateMessage)
    assert message.body[0] == "Alex Doe Jr"


def test_empty_bound_parameters_use_their_default_and_are_reported() -> None:
    contact = ContactData({"name": " "}, phone="+1")
    preview = render_step(whatsapp_step(), contact)
    assert isinstance(preview.message, WhatsAppTemplateMessage)
    assert preview.message.body == ("there", "")
    assert preview.empty == (
        EmptyValue("content.body[0]", "name", "there"),
        EmptyValue("content.body[1]", "appointment_date", None),
    )


def test_sms_preview_carries_segments_and_encoding() -> None:
    preview = render_step(sms_step("Hi {{name}} 👋, on {{appointment_date}}"), ALEX)
    assert isinstance(preview.message, SmsMessage)
    assert preview.message.text == "Hi Alex Doe 👋, on 2024-09-12"
    assert preview.message.measure.encoding is SmsEncoding.UCS2
    assert preview.message.measure.ucs2_characters == ("👋",)
    assert preview.message.measure.segments == 1


def test_contact_without_phone_would_skip_phone_channels() -> None:
    contact = ContactData({"name": "Kim"}, email="kim@example.com")
    assert render_step(sms_step(), contact).missing_field is ContactField.PHONE
    assert render_step(email_step(), contact).missing_field is None
    no_email = ContactData({"name": "Kim"}, phone="+1", email="  ")
    assert render_step(email_step(), no_email).would_skip


def test_voice_preview_with_keypress() -> None:
    content = VoiceContent(
        text="Hello {{name}}, your appointment is on {{appointment_date}}.",
        language="en-GB",
        keypress=KeypressCapture(
            prompt="{{name}}, press 1 to confirm", options={"1": "confirm", "2": "cancel"}
        ),
    )
    preview = render_step(Step(integration=VOICE, content=content), ALEX)
    assert isinstance(preview.message, VoiceMessage)
    assert preview.message.text == "Hello Alex Doe, your appointment is on 2024-09-12."
    assert preview.message.language == "en-GB"
    assert preview.message.keypress is not None
    assert preview.message.keypress.prompt == "Alex Doe, press 1 to confirm"
    assert preview.message.keypress.options == {"1": "confirm", "2": "cancel"}


def test_email_html_is_escaped_text_is_not_and_subject_stays_one_line() -> None:
    step = email_step(
        subject="Hello {{name}}",
        text="Dear {{name}},",
        html="<p>Dear <b>{{name}}</b> ({{email}})</p>",
    )
    contact = ContactData({"name": "<Ann & Bob>\r\nBcc: x@example.com"}, email="a@example.com")
    message = render_step(step, contact).message
    assert message == EmailMessage(
        subject="Hello <Ann & Bob> Bcc: x@example.com",
        text="Dear <Ann & Bob>\r\nBcc: x@example.com,",
        html="<p>Dear <b>&lt;Ann &amp; Bob&gt;\r\nBcc: x@example.com</b> (a@example.com)</p>",
    )


def test_email_without_html_renders_none() -> None:
    message = render_step(email_step(html=None), ALEX).message
    assert isinstance(message, EmailMessage)
    assert message.html is None


def test_phone_and_email_fields_win_over_same_named_custom_fields() -> None:
    contact = ContactData({"phone": "spoofed", "name": "A"}, phone="+1555", email=None)
    assert contact.values() == {"phone": "+1555", "name": "A", "email": None}
    preview = render_step(sms_step("Call {{phone}} or write {{email|us}}"), contact)
    assert isinstance(preview.message, SmsMessage)
    assert preview.message.text == "Call +1555 or write us"


def test_a_compiled_step_renders_many_contacts_independently() -> None:
    compiled = CompiledStep(sms_step())
    first = compiled.render(ContactData({"name": "Ann"}, phone="+1"))
    second = compiled.render(ALEX)
    assert isinstance(second.message, SmsMessage)
    assert second.message.text == "Hi Alex Doe, your appointment is on 2024-09-12."
    assert second.empty == ()
    assert [item.name for item in first.empty] == ["appointment_date"]


def test_preview_journey_renders_every_step_in_order() -> None:
    previews = preview_journey(reminder_journey(), ALEX)
    assert [slot.key for slot, _ in previews] == ["primary", "fallback-1", "follow-up"]
    assert [preview.channel for _, preview in previews] == [
        Channel.WHATSAPP,
        Channel.SMS,
        Channel.EMAIL,
    ]

"""Request bodies for the Cloud API messages endpoint."""

from __future__ import annotations

import pytest

from herald.channels.base import (
    EmailContent,
    OutboundMessage,
    WhatsAppButtonParameter,
    WhatsAppHeaderMedia,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.channels.whatsapp.payloads import build_message_body
from herald.errors import ValidationError


def _template(**overrides: object) -> WhatsAppTemplateContent:
    fields: dict[str, object] = {"name": "order_update", "language": "es"}
    fields.update(overrides)
    return WhatsAppTemplateContent(**fields)  # type: ignore[arg-type]


def test_template_with_every_component_matches_the_wire_shape() -> None:
    content = _template(
        body_parameters=("Ana", "A-1029"),
        header_media=WhatsAppHeaderMedia("image", link="https://cdn.example.test/banner.png"),
        buttons=(
            WhatsAppButtonParameter(0, "quick_reply", "YES_CONFIRM"),
            WhatsAppButtonParameter(1, "url", "A-1029"),
        ),
    )
    body = build_message_body(OutboundMessage("campaign-42:contact-9001", "+34600111222", content))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+34600111222",
        "biz_opaque_callback_data": "campaign-42:contact-9001",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "es", "policy": "deterministic"},
            "components": [
                {
                    "type": "header",
                    "parameters": [
                        {"type": "image", "image": {"link": "https://cdn.example.test/banner.png"}}
                    ],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "A-1029"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "YES_CONFIRM"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "1",
                    "parameters": [{"type": "text", "text": "A-1029"}],
                },
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    body = build_message_body(OutboundMessage("k", "+1555", _template(name="hello_world")))
    assert "components" not in body["template"]


def test_text_header_and_document_by_id() -> None:
    body = build_message_body(OutboundMessage("k", "+1", _template(header_text="Hola")))
    assert body["template"]["components"][0] == {
        "type": "header",
        "parameters": [{"type": "text", "text": "Hola"}],
    }
    media = WhatsAppHeaderMedia("document", media_id="998877", filename="invoice.pdf")
    body = build_message_body(OutboundMessage("k", "+1", _template(header_media=media)))
    assert body["template"]["components"][0]["parameters"] == [
        {"type": "document", "document": {"id": "998877", "filename": "invoice.pdf"}}
    ]


def test_free_form_text() -> None:
    body = build_message_body(OutboundMessage("k-7", "+34600111222", WhatsAppTextContent("Hola")))
    assert body["type"] == "text"
    assert body["text"] == {"preview_url": False, "body": "Hola"}
    assert body["biz_opaque_callback_data"] == "k-7"


@pytest.mark.parametrize(
    "content, field",
    [
        (WhatsAppTextContent("   "), "content.body"),
        (WhatsAppTextContent("x" * 4097), "content.body"),
        (EmailContent("s", "t"), "content"),
        (_template(name=""), "content.name"),
        (_template(language=""), "content.language"),
        (
            _template(header_text="a", header_media=WhatsAppHeaderMedia("image", link="https://x")),
            "content.header_media",
        ),
        (
            _template(header_media=WhatsAppHeaderMedia("gif", link="https://x")),
            "content.header_media.kind",
        ),
        (_template(header_media=WhatsAppHeaderMedia("image")), "content.header_media"),
        (
            _template(buttons=(WhatsAppButtonParameter(0, "call", "x"),)),
            "content.buttons[0].sub_type",
        ),
        (_template(buttons=(WhatsAppButtonParameter(-1, "url", "x"),)), "content.buttons[-1]"),
    ],
)
def test_content_whatsapp_cannot_carry_is_refused_naming_the_field(
    content: object, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build_message_body(OutboundMessage("k", "+34600111222", content))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_overlong_key_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        build_message_body(OutboundMessage("k" * 513, "+1", WhatsAppTextContent("hi")))
    assert caught.value.field == "key"

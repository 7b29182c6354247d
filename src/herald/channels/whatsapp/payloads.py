"""Request bodies for ``POST /{version}/{phone-number-id}/messages``.

Pure functions: an :class:`OutboundMessage` in, the Graph API JSON out. The
message ``key`` rides along as ``biz_opaque_callback_data`` so every status
webhook of the message carries it back, even when the send's answer was lost.
"""

from __future__ import annotations

from typing import Any

from herald.channels.base import (
    OutboundMessage,
    WhatsAppButtonParameter,
    WhatsAppHeaderMedia,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.errors import ValidationError

TEXT_BODY_MAX_CHARS = 4096
# Meta documents a 512-character limit for biz_opaque_callback_data.
CALLBACK_DATA_MAX_CHARS = 512
MEDIA_HEADER_KINDS = frozenset({"image", "video", "document"})
BUTTON_SUB_TYPES = frozenset({"quick_reply", "url"})

Json = dict[str, Any]


def build_message_body(message: OutboundMessage) -> Json:
    """The JSON body for ``message``; raises ValidationError for content WhatsApp cannot carry."""
    if len(message.key) > CALLBACK_DATA_MAX_CHARS:
        raise ValidationError(
            f"message key longer than {CALLBACK_DATA_MAX_CHARS} characters", field="key"
        )
    body: Json = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "biz_opaque_callback_data": message.key,
    }
    content = message.content
    if isinstance(content, WhatsAppTemplateContent):
        body["type"] = "template"
        body["template"] = build_template(content)
    elif isinstance(content, WhatsAppTextContent):
        body["type"] = "text"
        body["text"] = build_text(content)
    else:
        raise ValidationError(
            f"WhatsApp cannot send {type(content).__name__}; use a template or text",
            field="content",
        )
    return body


def build_text(content: WhatsAppTextContent) -> Json:
    if not content.body.strip():
        raise ValidationError("WhatsApp text must not be empty", field="content.body")
    if len(content.body) > TEXT_BODY_MAX_CHARS:
        raise ValidationError(
            f"WhatsApp text is {len(content.body)} characters; the limit is {TEXT_BODY_MAX_CHARS}",
            field="content.body",
        )
    return {"preview_url": False, "body": content.body}


def build_template(content: WhatsAppTemplateContent) -> Json:
    """``template`` object: positional body parameters, one header, indexed buttons."""
    if not content.name:
        raise ValidationError("WhatsApp template name is empty", field="content.name")
    if not content.language:
        raise ValidationError("WhatsApp template language is empty", field="content.language")
    components: list[Json] = []
    header = _header_component(content)
    if header is not None:
        components.append(header)
    if content.body_parameters:
        components.append(
            {
                "type": "body",
                "parameters": [_text(value) for value in content.body_parameters],
            }
        )
    components.extend(_button_component(button) for button in content.buttons)
    template: Json = {
        "name": content.name,
        "language": {"code": content.language, "policy": "deterministic"},
    }
    if components:
        template["components"] = components
    return template


def _text(value: str) -> Json:
    return {"type": "text", "text": value}


def _header_component(content: WhatsAppTemplateContent) -> Json | None:
    if content.header_text is not None and content.header_media is not None:
        raise ValidationError(
            "a WhatsApp template header is either text or media, not both",
            field="content.header_media",
        )
    if content.header_text is not None:
        return {"type": "header", "parameters": [_text(content.header_text)]}
    if content.header_media is not None:
        return {"type": "header", "parameters": [_media(content.header_media)]}
    return None


def _media(media: WhatsAppHeaderMedia) -> Json:
    if media.kind not in MEDIA_HEADER_KINDS:
        raise ValidationError(
            f"header media kind {media.kind!r} is not one of {sorted(MEDIA_HEADER_KINDS)}",
            field="content.header_media.kind",
        )
    if (media.link is None) == (media.media_id is None):
        raise ValidationError(
            "header media needs exactly one of link or media_id", field="content.header_media"
        )
    reference: Json = {"link": media.link} if media.link else {"id": media.media_id}
    if media.filename and media.kind == "document":
        reference["filename"] = media.filename
    return {"type": media.kind, media.kind: reference}


def _button_component(button: WhatsAppButtonParameter) -> Json:
    if button.sub_type not in BUTTON_SUB_TYPES:
        raise ValidationError(
            f"button sub_type {button.sub_type!r} is not one of {sorted(BUTTON_SUB_TYPES)}",
            field=f"content.buttons[{button.index}].sub_type",
        )
    if button.index < 0:
        raise ValidationError(
            "button index must be 0 or more", field=f"content.buttons[{button.index}]"
        )
    parameter = (
        {"type": "payload", "payload": button.value}
        if button.sub_type == "quick_reply"
        else _text(button.value)
    )
    return {
        "type": "button",
        "sub_type": button.sub_type,
        "index": str(button.index),
        "parameters": [parameter],
    }

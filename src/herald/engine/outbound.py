"""Rendered domain messages to the channel layer's outbound content."""

from __future__ import annotations

from herald.channels.base import (
    EmailContent,
    KeypressCapture,
    MessageContent,
    SmsContent,
    VoiceContent,
    WhatsAppButtonParameter,
    WhatsAppTemplateContent,
    WhatsAppTextContent,
)
from herald.domain.preview import (
    EmailMessage,
    Message,
    SmsMessage,
    VoiceMessage,
    WhatsAppTemplateMessage,
    WhatsAppTextMessage,
)

PREVIEW_CHARACTERS = 500


def to_content(message: Message) -> MessageContent:
    match message:
        case WhatsAppTemplateMessage():
            buttons = tuple(
                WhatsAppButtonParameter(button.index, button.type.value, button.value)
                for button in message.buttons
            )
            return WhatsAppTemplateContent(
                name=message.name,
                language=message.language,
                body_parameters=message.body,
                header_text=message.header_text,
                buttons=buttons,
            )
        case WhatsAppTextMessage():
            return WhatsAppTextContent(body=message.text)
        case SmsMessage():
            return SmsContent(text=message.text)
        case VoiceMessage():
            capture = None
            if message.keypress is not None:
                capture = KeypressCapture(
                    prompt=message.keypress.prompt,
                    choices=dict(message.keypress.options),
                    timeout_seconds=message.keypress.timeout_seconds,
                )
            return VoiceContent(text=message.text, language=message.language, capture=capture)
        case EmailMessage():
            return EmailContent(subject=message.subject, text=message.text, html=message.html)


def preview_text(message: Message) -> str:
    """A short human-readable line for message logs."""
    match message:
        case WhatsAppTemplateMessage():
            text = f"template {message.name} ({message.language}): " + " | ".join(message.body)
        case WhatsAppTextMessage() | SmsMessage():
            text = message.text
        case VoiceMessage():
            text = message.text
        case EmailMessage():
            text = f"{message.subject} — {message.text}"
    return text[:PREVIEW_CHARACTERS]

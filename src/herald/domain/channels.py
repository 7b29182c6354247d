"""Channels, provider kinds, and what each needs to know about a contact."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a message reaches a person."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


class ContactField(StrEnum):
    """The contact data a channel addresses."""

    PHONE = "phone"
    EMAIL = "email"


class IntegrationKind(StrEnum):
    """A provider account type. Each kind serves exactly one channel."""

    WHATSAPP = "whatsapp"
    INFOBIP_SMS = "infobip_sms"
    TWILIO_VOICE = "twilio_voice"
    EMAIL_SMTP = "email_smtp"


REQUIRED_FIELD: dict[Channel, ContactField] = {
    Channel.WHATSAPP: ContactField.PHONE,
    Channel.SMS: ContactField.PHONE,
    Channel.VOICE: ContactField.PHONE,
    Channel.EMAIL: ContactField.EMAIL,
}

CHANNEL_OF_KIND: dict[IntegrationKind, Channel] = {
    IntegrationKind.WHATSAPP: Channel.WHATSAPP,
    IntegrationKind.INFOBIP_SMS: Channel.SMS,
    IntegrationKind.TWILIO_VOICE: Channel.VOICE,
    IntegrationKind.EMAIL_SMTP: Channel.EMAIL,
}

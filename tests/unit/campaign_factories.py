"""Factories for journey definitions, audience profiles and integration states."""

from __future__ import annotations

from typing import Any

from herald.domain.audience_profile import AudienceProfile
from herald.domain.campaign import FollowUp, IntegrationRef, JourneyDefinition, Step
from herald.domain.channels import IntegrationKind
from herald.domain.checks import IntegrationState
from herald.domain.content import (
    EmailContent,
    SmsContent,
    TemplateParameter,
    VoiceContent,
    WhatsAppTemplateContent,
)

WHATSAPP = IntegrationRef(name="clinic-whatsapp", kind=IntegrationKind.WHATSAPP)
SMS = IntegrationRef(name="clinic-sms", kind=IntegrationKind.INFOBIP_SMS)
VOICE = IntegrationRef(name="clinic-voice", kind=IntegrationKind.TWILIO_VOICE)
EMAIL = IntegrationRef(name="clinic-email", kind=IntegrationKind.EMAIL_SMTP)

REMINDER_SMS = "Hi {{ name | there }}, your appointment is on {{appointment_date}}."


def whatsapp_step(**content: Any) -> Step:
    fields: dict[str, Any] = {
        "name": "appointment_reminder",
        "language": "en_US",
        "body": (
            TemplateParameter.bound("name", "there"),
            TemplateParameter.bound("appointment_date"),
        ),
    }
    fields.update(content)
    return Step(integration=WHATSAPP, content=WhatsAppTemplateContent(**fields))


def sms_step(text: str = REMINDER_SMS, **step: Any) -> Step:
    return Step(integration=SMS, content=SmsContent(text=text), **step)


def voice_step(text: str = "Hello {{name}}, this is your clinic.") -> Step:
    return Step(integration=VOICE, content=VoiceContent(text=text))


def email_step(**content: Any) -> Step:
    fields: dict[str, Any] = {
        "subject": "Your appointment on {{appointment_date}}",
        "text": "Hi {{name|there}}, see you on {{appointment_date}}.",
        "html": "<p>Hi {{name|there}}</p>",
    }
    fields.update(content)
    return Step(integration=EMAIL, content=EmailContent(**fields))


def email_follow_up(delay_days: int = 2, **content: Any) -> FollowUp:
    step = email_step(**content)
    return FollowUp(integration=step.integration, content=step.content, delay_days=delay_days)


def reminder_journey(**overrides: Any) -> JourneyDefinition:
    """WhatsApp template primary, SMS fallback, email follow-up after 2 days."""
    fields: dict[str, Any] = {
        "primary": whatsapp_step(),
        "fallbacks": (sms_step(),),
        "follow_up": email_follow_up(),
    }
    fields.update(overrides)
    return JourneyDefinition(**fields)


def make_profile(**overrides: Any) -> AudienceProfile:
    """100 contacts: 90 with a phone, 60 with an email, 50 with both."""
    fields: dict[str, Any] = {
        "columns": ("name", "appointment_date"),
        "total": 100,
        "with_phone": 90,
        "with_email": 60,
        "with_phone_and_email": 50,
        "non_empty": {"name": 100, "appointment_date": 100},
    }
    fields.update(overrides)
    return AudienceProfile(**fields)


def active_integrations(*, rate: float | None = None) -> list[IntegrationState]:
    return [
        IntegrationState(ref.name, ref.kind, is_active=True, rate_per_second=rate)
        for ref in (WHATSAPP, SMS, VOICE, EMAIL)
    ]

"""Preview one step of a campaign for one contact of its audience.

Steps are named by their stable keys (``primary``, ``fallback-1``,
``follow-up``); contacts by their row in the audience's file, the first
contact when none is given. Rendering is :mod:`herald.domain.preview`'s:
plain substitution, SMS encoding and segments, the values that were empty
and whether the contact would skip the step for lack of a phone or email.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from herald.domain.campaign import JourneyDefinition, parse_journey
from herald.domain.preview import (
    EmailMessage,
    SmsMessage,
    StepPreview,
    VoiceMessage,
    WhatsAppTemplateMessage,
    WhatsAppTextMessage,
    render_step,
)
from herald.errors import ValidationError
from herald.services.campaign_audiences import contact_data, find_contact
from herald.store.campaigns import CampaignRow

_MESSAGE_KINDS: dict[type, str] = {
    WhatsAppTemplateMessage: "whatsapp_template",
    WhatsAppTextMessage: "whatsapp_text",
    SmsMessage: "sms",
    VoiceMessage: "voice",
    EmailMessage: "email",
}


@dataclass(frozen=True)
class ContactPreview:
    """One step rendered for one contact."""

    step: str
    label: str
    integration: str
    contact_row: int
    phone: str | None
    email: str | None
    preview: StepPreview

    def as_dict(self) -> dict[str, Any]:
        preview = self.preview
        message = _plain(dataclasses.asdict(preview.message))
        return {
            "step": self.step,
            "label": self.label,
            "integration": self.integration,
            "channel": str(preview.channel),
            "contact": {"row": self.contact_row, "phone": self.phone, "email": self.email},
            "kind": _MESSAGE_KINDS[type(preview.message)],
            "message": message,
            "empty": [dataclasses.asdict(item) for item in preview.empty],
            "would_skip": preview.would_skip,
            "missing_field": None if preview.missing_field is None else str(preview.missing_field),
        }


def preview_step(
    session: Session, row: CampaignRow, *, step: str = "primary", contact_row: int | None = None
) -> ContactPreview:
    """Render ``step`` for the contact at ``contact_row`` (the first contact by default).

    ValidationError when the campaign has no valid journey or no audience, or
    names no such step; NotFoundError when the row is not a contact.
    """
    journey = _journey(row)
    slots = {slot.key: slot for slot in journey.slots}
    slot = slots.get(step.strip().lower())
    if slot is None:
        raise ValidationError(
            f"this journey has no step {step!r}; its steps are: {', '.join(slots)}",
            code="unknown_step",
            field="step",
        )
    if row.audience_id is None:
        raise ValidationError(
            "the campaign has no audience yet: a preview needs a contact", field="audience"
        )
    contact = find_contact(session, row.audience_id, contact_row)
    return ContactPreview(
        step=slot.key,
        label=slot.label,
        integration=slot.step.integration.name,
        contact_row=contact.row_number,
        phone=contact.phone,
        email=contact.email,
        preview=render_step(slot.step, contact_data(contact)),
    )


def _plain(value: Any) -> Any:
    """Tuples as lists, so the dict reads the same as its JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _journey(row: CampaignRow) -> JourneyDefinition:
    if row.journey is None:
        raise ValidationError("the campaign has no message journey yet", field="journey")
    return parse_journey(row.journey)

"""Suppression policy: which addresses Herald must not message, and who may lift that.

An entry names a channel-independent address (an E.164 phone or a lower-cased
email address) and a scope: every channel, or one channel. The policy is the
safe one: an opt-out on any channel suppresses the address on *every*
channel (a person who texts STOP does not want the same campaign by voice or
WhatsApp). Channel-scoped entries exist for operators who decide otherwise.

Lifting: a contact may opt back in (START, UNSTOP) only on a channel whose
convention offers it (SMS, WhatsApp), and only entries the contact caused
themselves (keyword, one-click unsubscribe, agent action, provider opt-out)
are lifted. Entries an operator made (manual, import) or that record a fact
(hard bounce) stay until an operator removes them.
"""

from __future__ import annotations

from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from herald.domain.channels import Channel
from herald.errors import ValidationError


class SuppressionScope(StrEnum):
    ALL = "all"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"

    @classmethod
    def of_channel(cls, channel: Channel) -> SuppressionScope:
        return cls(channel.value)


class SuppressionReason(StrEnum):
    KEYWORD = "keyword"  # STOP-style reply
    ONE_CLICK_UNSUBSCRIBE = "one_click_unsubscribe"  # RFC 8058 POST
    AGENT_ACTION = "agent_action"  # the reply agent decided the person opted out
    HARD_BOUNCE = "hard_bounce"  # the address does not exist
    MANUAL = "manual"  # an operator added it
    IMPORT = "import"  # came in a suppression CSV
    PROVIDER_OPT_OUT = "provider_opt_out"  # WhatsApp 131050, Infobip 603


CONTACT_LIFTABLE_REASONS = frozenset(
    {
        SuppressionReason.KEYWORD,
        SuppressionReason.ONE_CLICK_UNSUBSCRIBE,
        SuppressionReason.AGENT_ACTION,
        SuppressionReason.PROVIDER_OPT_OUT,
    }
)

OPT_IN_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


def scopes_checked(channel: Channel) -> tuple[SuppressionScope, SuppressionScope]:
    """The entries that block a send on ``channel``: global ones and that channel's."""
    return (SuppressionScope.ALL, SuppressionScope.of_channel(channel))


def can_opt_in(channel: Channel) -> bool:
    """Whether a contact can lift their own suppression by writing on ``channel``."""
    return channel in OPT_IN_CHANNELS


def normalize_address(raw: str, *, default_region: str = "US", field: str = "address") -> str:
    """The canonical address: E.164 for phones, lower-cased normalised email.

    Anything with an ``@`` is read as an email (syntax only, no DNS lookup);
    anything else as a phone, in ``default_region`` when written in national
    format. Raises :class:`ValidationError` naming ``field`` otherwise.
    """
    value = raw.strip()
    if not value:
        raise ValidationError("address is empty", field=field)
    if "@" in value:
        return _normalize_email(value, field)
    return _normalize_phone(value, default_region, field)


def _normalize_email(value: str, field: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        message = f"{value!r} is not a valid email address: {exc}"
        raise ValidationError(message, field=field) from exc
    return checked.normalized.lower()


def _normalize_phone(value: str, region: str, field: str) -> str:
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{value!r} is not a phone number: {exc}", field=field) from exc
    # "Possible" (right length for the country), not "valid" (a range known to
    # the metadata): refusing a real number from a range newer than the
    # library would lose an opt-out, which is worse than storing a stray one.
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            f"{value!r} is not a possible phone number (default region {region.upper()})",
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def canonical_address(address: str) -> str:
    """Cheap canonicalisation for addresses already normalised upstream.

    Used on hot paths (batches of contacts at send time) where a full
    :func:`normalize_address` per contact would be wasted: trims, and
    lower-cases emails so a mixed-case stored email still matches.
    """
    value = address.strip()
    return value.lower() if "@" in value else value

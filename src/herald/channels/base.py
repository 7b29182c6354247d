"""What every provider adapter speaks: outbound messages, send results, events.

A client turns an :class:`OutboundMessage` into one provider request and
classifies the answer into exactly one :data:`SendResult`::

    SendResult
    ├── SendAccepted    the provider took it; its id correlates later webhooks
    ├── SendRetryable   nothing was delivered; the same request may succeed later
    ├── SendTerminal    nothing was delivered and retrying cannot help
    │                   (integration_fault=True: our account/config is broken,
    │                   so the integration is marked unhealthy instead of the
    │                   contact being failed)
    └── SendUnknown     the request may have reached the provider but the answer
                        was lost (read timeout, connection dropped mid-response);
                        the engine never resends it and waits for a status

Webhook parsers turn provider payloads into :data:`ChannelEvent` values.
Nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from herald.domain.channels import IntegrationKind


@dataclass(frozen=True)
class ProviderFailure:
    """A provider's own error, kept verbatim so logs and the UI can explain it.

    ``code`` is the provider's code as text (``"131026"``, ``"21211"``,
    ``"EC_UNKNOWN_SUBSCRIBER"``, ``"5.1.1"``); look it up in
    :mod:`herald.domain.error_catalog` for a title, explanation and action.
    """

    provider: IntegrationKind
    code: str
    title: str
    detail: str | None = None
    http_status: int | None = None


# --- outbound content -------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppButtonParameter:
    index: int
    sub_type: str  # "quick_reply" (payload) or "url" (dynamic suffix text)
    value: str


@dataclass(frozen=True)
class WhatsAppHeaderMedia:
    """A media header parameter: by public ``link`` or by uploaded media ``media_id``."""

    kind: str  # "image", "video" or "document"
    link: str | None = None
    media_id: str | None = None
    filename: str | None = None  # documents only: the name shown to the person


@dataclass(frozen=True)
class WhatsAppTemplateContent:
    name: str
    language: str
    body_parameters: tuple[str, ...] = ()
    header_text: str | None = None
    buttons: tuple[WhatsAppButtonParameter, ...] = ()
    header_media: WhatsAppHeaderMedia | None = None


@dataclass(frozen=True)
class WhatsAppTextContent:
    """Free-form text: only accepted inside the 24-hour customer service window.

    ``last_inbound_at`` is when the person last wrote to this number (None:
    never); the client refuses the send before calling WhatsApp when it is
    not within the last 24 hours.
    """

    body: str
    last_inbound_at: datetime | None = None


@dataclass(frozen=True)
class SmsContent:
    text: str


@dataclass(frozen=True)
class KeypressCapture:
    """Ask the callee to press a key; ``choices`` maps digits to their meaning."""

    prompt: str
    choices: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int = 5


@dataclass(frozen=True)
class VoiceContent:
    text: str
    language: str = "en-US"
    capture: KeypressCapture | None = None


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # Campaign or list the one-click unsubscribe link names (None: every list).
    list_id: str | None = None


MessageContent = (
    WhatsAppTemplateContent | WhatsAppTextContent | SmsContent | VoiceContent | EmailContent
)


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one address.

    ``key`` is Herald's correlation key for this journey step (unique per
    contact and step). Clients pass it to the provider wherever the provider
    echoes it back (WhatsApp ``biz_opaque_callback_data``, Infobip
    ``callbackData``, a status-callback query parameter, an email header), so
    statuses can be matched even when the send's answer was lost.
    """

    key: str
    to: str  # E.164 phone ("+34600111222") or email address
    content: MessageContent


# --- send results -----------------------------------------------------------


@dataclass(frozen=True)
class SendAccepted:
    provider_message_id: str
    provider_status: str | None = None
    segments: int | None = None  # billed parts (SMS segments) when the provider says


@dataclass(frozen=True)
class SendRetryable:
    """``max_attempts`` (None: the engine's own limit) caps retries of errors
    that are only worth a few tries, such as WhatsApp's unknown error 1."""

    failure: ProviderFailure
    retry_after_seconds: float | None = None
    max_attempts: int | None = None


@dataclass(frozen=True)
class SendTerminal:
    failure: ProviderFailure
    integration_fault: bool = False


@dataclass(frozen=True)
class SendUnknown:
    reason: str


SendResult = SendAccepted | SendRetryable | SendTerminal | SendUnknown


# --- events from webhooks ---------------------------------------------------


class DeliveryStatus(StrEnum):
    """Provider statuses mapped onto what the journey cares about."""

    SENT = "sent"  # left the provider; not yet on the device (informational)
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"  # final: not delivered; the failure says why


@dataclass(frozen=True)
class DeliveryUpdate:
    provider: IntegrationKind
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime
    failure: ProviderFailure | None = None
    correlation_key: str | None = None
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Identical for a webhook delivered twice, different for a new status."""
        return f"{self.provider}:{self.provider_message_id}:{self.status}"


@dataclass(frozen=True)
class InboundMessage:
    """Something a person sent us: a text, a button tap, a keypress, an email."""

    provider: IntegrationKind
    provider_message_id: str
    sender: str  # E.164 phone or lower-cased email address
    recipient: str  # our number / address / phone-number id it was sent to
    text: str
    received_at: datetime
    in_reply_to: tuple[str, ...] = ()  # provider message ids or Message-IDs we sent
    payload: str | None = None  # button payload, pressed digits
    correlation_key: str | None = None
    subject: str | None = None  # email only
    full_text: str | None = None  # email: the whole body, ``text`` without the quoted part

    @property
    def dedupe_key(self) -> str:
        return f"{self.provider}:in:{self.provider_message_id}"


ChannelEvent = DeliveryUpdate | InboundMessage


# --- the client interface ---------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    connected: bool
    reason: str


class ChannelClient(Protocol):
    """A provider account Herald can send through."""

    @property
    def kind(self) -> IntegrationKind: ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one message; never raises for provider answers, only classifies them."""
        ...

    async def check_connection(self) -> ConnectionCheck:
        """Call the provider with the configured credentials and say whether they work."""
        ...

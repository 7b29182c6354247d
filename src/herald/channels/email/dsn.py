"""Bounces: delivery status notifications (RFC 3464) turned into delivery updates.

A DSN is ``multipart/report; report-type=delivery-status`` with a human
part, a ``message/delivery-status`` part (one block of per-message fields,
then one block per recipient) and the original message or its headers.
Herald links it to the send by, in order of trust:

1. the original ``Message-ID`` in part 3 (plus ``X-Herald-Key``, which
   gives the correlation key directly);
2. ``Original-Envelope-Id``, the ENVID Herald passes when the relay speaks
   the DSN extension;
3. the VERP token in the address the bounce was sent to
   (``bounce+{token}@domain``).

Per recipient block: ``Action: failed`` is a final failure (``Status``
5.x.x is a hard bounce, 4.x.x a soft one that the relay gave up on);
``delivered``/``expanded`` mean delivered, ``relayed`` means handed to a
system that reports nothing further (informational ``sent``); ``delayed``
is only a warning that the relay keeps trying, so it produces no event —
the final ``failed`` or nothing (the delivery window) follows.

A well-formed message that is not a delivery report (an auto-reply or spam
sent to the bounce address) yields no event; a report that cannot be read
or linked raises :class:`~herald.errors.ValidationError`.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from herald.channels.base import ChannelEvent, DeliveryStatus, DeliveryUpdate
from herald.channels.email.classify import failure
from herald.channels.email.inbound import normalize_ids
from herald.channels.email.message import one_line
from herald.channels.email.settings import EmailSettings
from herald.channels.email.tokens import is_message_token, message_id_for, message_token_of
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")
_ACTIONS: dict[str, DeliveryStatus | None] = {
    "failed": DeliveryStatus.FAILED,
    "delivered": DeliveryStatus.DELIVERED,
    "expanded": DeliveryStatus.DELIVERED,
    "relayed": DeliveryStatus.SENT,
    "delayed": None,
}
_VERP_HEADERS = ("to", "x-original-to", "delivered-to", "envelope-to", "x-envelope-to")


def parse_dsn(
    raw_message: bytes, settings: EmailSettings, *, received_at: datetime
) -> list[ChannelEvent]:
    """Delivery updates for the recipients a DSN reports on (see module docstring)."""
    if not raw_message.strip():
        raise ValidationError("bounce: the body is empty, expected a raw message", field="body")
    report = email.message_from_bytes(raw_message)
    if report.get_content_type() != "multipart/report":
        return []
    if str(report.get_param("report-type", "")).lower() != "delivery-status":
        return []
    blocks = _status_blocks(report)
    original = _original_headers(report)
    message_id = _link(report, blocks[0], original, settings)
    key = one_line(original.get("X-Herald-Key", "")) if original is not None else ""
    arrival = _date(blocks[0].get("Arrival-Date"))
    events: list[ChannelEvent] = []
    for index, block in enumerate(blocks[1:], start=1):
        update = _update(block, index, message_id, key or None, arrival or received_at)
        if update is not None:
            events.append(update)
    return events


def _status_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list) and len(blocks) >= 2:
                return [b for b in blocks if isinstance(b, Message)]
            raise ValidationError(
                "bounce: message/delivery-status needs a per-message and a recipient block",
                field="message/delivery-status",
            )
    raise ValidationError(
        "bounce: multipart/report without a message/delivery-status part",
        field="message/delivery-status",
    )


def _original_headers(report: Message) -> Message | None:
    """Part 3: the whole original message, or only its headers."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                return HeaderParser().parsestr(text.decode("utf-8", "replace"))
    return None


def _link(
    report: Message, per_message: Message, original: Message | None, settings: EmailSettings
) -> str:
    """Our Message-ID for the bounced send (module docstring, three sources)."""
    if original is not None:
        ids = normalize_ids(original.get("Message-ID", ""))
        if ids:
            return ids[0]
    envelope_id = one_line(per_message.get("Original-Envelope-Id", "")).lower()
    domain = settings.effective_message_id_domain
    if is_message_token(envelope_id):
        return message_id_for(envelope_id, domain)
    for name in _VERP_HEADERS:
        for _, address in getaddresses(report.get_all(name, [])):
            token = message_token_of(address)
            if token is not None:
                return message_id_for(token, domain)
    raise ValidationError(
        "bounce: cannot link to a sent message (no original Message-ID, envelope id "
        "or VERP bounce+token address)",
        field="Message-ID",
    )


def _update(
    block: Message, index: int, message_id: str, key: str | None, fallback: datetime
) -> DeliveryUpdate | None:
    where = f"recipient block {index}"
    action = one_line(block.get("Action", "")).lower()
    if action not in _ACTIONS:
        raise ValidationError(f"bounce: {where}: unknown Action {action!r}", field="Action")
    status = _ACTIONS[action]
    if status is None:
        return None
    code = one_line(block.get("Status", "")).split(" ")[0]
    if not _STATUS.match(code):
        raise ValidationError(f"bounce: {where}: Status {code!r} is not x.y.z", field="Status")
    recipient = _typed_value(block.get("Final-Recipient") or block.get("Original-Recipient"))
    diagnostic = _typed_value(block.get("Diagnostic-Code")) or None
    detail = {"action": action, "status": code, "recipient": recipient}
    if status is DeliveryStatus.FAILED:
        detail["bounce"] = "hard" if code.startswith("5") else "soft"
    return DeliveryUpdate(
        provider=IntegrationKind.EMAIL_SMTP,
        provider_message_id=message_id,
        status=status,
        occurred_at=_date(block.get("Last-Attempt-Date")) or fallback,
        failure=failure(code, diagnostic) if status is DeliveryStatus.FAILED else None,
        correlation_key=key,
        detail=detail,
    )


def _typed_value(value: str | None) -> str:
    """``"rfc822; ana@example.org"`` → ``"ana@example.org"`` (type prefix dropped)."""
    if value is None:
        return ""
    text = one_line(str(value))
    return text.split(";", 1)[1].strip() if ";" in text else text


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(one_line(str(value)))
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None

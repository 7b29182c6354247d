"""Meta's ``messages`` webhook, turned into typed events.

One POST may carry several entries, each with several changes, each with
several statuses or messages; every item becomes one event. Statuses become
:class:`DeliveryUpdate` (``played`` for voice notes counts as read); every
inbound message (text, button tap, interactive reply, media, location,
reaction, even ``unsupported``) becomes an :class:`InboundMessage`, because
any of them is the person answering and reopens the 24-hour window.
``value.errors[]`` not tied to a message are returned apart by
:func:`read_webhook` for logging. Unknown status values and change fields
other than ``messages`` are skipped: Meta adds them over time and refusing
the whole delivery would only make it retry forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from herald.channels.base import (
    ChannelEvent,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    ProviderFailure,
)
from herald.channels.whatsapp.fields import (
    Json,
    e164,
    items,
    obj,
    optional_text,
    text,
    unix_time,
)
from herald.channels.whatsapp.inbound import describe_message
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

_WA = IntegrationKind.WHATSAPP
STATUS_MAP = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class WebhookContents:
    events: tuple[ChannelEvent, ...]
    errors: tuple[ProviderFailure, ...]  # value.errors[]: problems not tied to one message


def parse_webhook(raw_body: bytes) -> list[ChannelEvent]:
    """Every status and inbound message in one (already verified) webhook body."""
    return list(read_webhook(raw_body).events)


def read_webhook(raw_body: bytes) -> WebhookContents:
    """Events plus account-level errors; raises ValidationError naming the bad field."""
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"WhatsApp webhook is not JSON: {exc}", field="body") from exc
    root = obj(document, "body")
    kind = root.get("object")
    if kind != "whatsapp_business_account":
        raise ValidationError(
            f"object must be 'whatsapp_business_account', got {kind!r}", field="object"
        )
    events: list[ChannelEvent] = []
    errors: list[ProviderFailure] = []
    for i, entry in items(root, "entry", "", required=True):
        for j, change in items(obj(entry, f"entry[{i}]"), "changes", f"entry[{i}]", required=True):
            path = f"entry[{i}].changes[{j}]"
            change_obj = obj(change, path)
            if change_obj.get("field") != "messages":
                continue
            _read_value(
                obj(change_obj.get("value"), f"{path}.value"), f"{path}.value", events, errors
            )
    return WebhookContents(tuple(events), tuple(errors))


def _read_value(
    value: Json, path: str, events: list[ChannelEvent], errors: list[ProviderFailure]
) -> None:
    metadata = obj(value.get("metadata"), f"{path}.metadata")
    phone_number_id = text(metadata, "phone_number_id", f"{path}.metadata")
    for k, status in items(value, "statuses", path):
        update = _status(
            obj(status, f"{path}.statuses[{k}]"), f"{path}.statuses[{k}]", phone_number_id
        )
        if update is not None:
            events.append(update)
    for k, message in items(value, "messages", path):
        item = obj(message, f"{path}.messages[{k}]")
        events.append(_inbound(item, f"{path}.messages[{k}]", phone_number_id))
    for k, error in items(value, "errors", path):
        errors.append(provider_failure(obj(error, f"{path}.errors[{k}]"), f"{path}.errors[{k}]"))


def _status(item: Json, path: str, phone_number_id: str) -> DeliveryUpdate | None:
    status = STATUS_MAP.get(text(item, "status", path))
    if status is None:
        return None
    failure = None
    if status is DeliveryStatus.FAILED:
        failures = [
            provider_failure(obj(error, f"{path}.errors[{n}]"), f"{path}.errors[{n}]")
            for n, error in items(item, "errors", path)
        ]
        failure = failures[0] if failures else _unexplained_failure()
    return DeliveryUpdate(
        provider=_WA,
        provider_message_id=text(item, "id", path),
        status=status,
        occurred_at=unix_time(item, "timestamp", path),
        failure=failure,
        correlation_key=optional_text(item, "biz_opaque_callback_data", path),
        detail=_status_detail(item, path, phone_number_id),
    )


def _status_detail(item: Json, path: str, phone_number_id: str) -> dict[str, str]:
    detail = {"phone_number_id": phone_number_id}
    recipient = optional_text(item, "recipient_id", path)
    if recipient is not None:
        detail["recipient"] = e164(recipient, f"{path}.recipient_id")
    pricing = item.get("pricing")
    if isinstance(pricing, dict) and isinstance(pricing.get("category"), str):
        detail["pricing_category"] = pricing["category"]
    conversation = item.get("conversation")
    if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
        detail["conversation_id"] = conversation["id"]
    return detail


def _inbound(item: Json, path: str, phone_number_id: str) -> InboundMessage:
    described = describe_message(item, path)
    context = item.get("context")
    in_reply_to: tuple[str, ...] = ()
    if isinstance(context, dict) and isinstance(context.get("id"), str):
        in_reply_to = (context["id"],)
    if described.reacts_to is not None:
        in_reply_to = (described.reacts_to,)
    return InboundMessage(
        provider=_WA,
        provider_message_id=text(item, "id", path),
        sender=e164(text(item, "from", path), f"{path}.from"),
        recipient=phone_number_id,
        text=described.text,
        received_at=unix_time(item, "timestamp", path),
        in_reply_to=in_reply_to,
        payload=described.payload,
    )


def provider_failure(error: Json, path: str) -> ProviderFailure:
    """An ``errors[]`` item (code, title, message, error_data.details) as a ProviderFailure."""
    code = error.get("code")
    if isinstance(code, bool) or not isinstance(code, int | str) or not str(code).strip():
        raise ValidationError(f"{path}.code must be a number, got {code!r}", field=f"{path}.code")
    title = optional_text(error, "title", path) or optional_text(error, "message", path)
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    return ProviderFailure(
        provider=_WA,
        code=str(code).strip(),
        title=title or f"WhatsApp error {code}",
        detail=details if isinstance(details, str) else optional_text(error, "message", path),
    )


def _unexplained_failure() -> ProviderFailure:
    return ProviderFailure(_WA, "unknown", "Failed without an error code")

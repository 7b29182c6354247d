"""The two inbound reply formats Herald accepts at ``/webhooks/email/inbound``.

Generic JSON (for any relay or script that can POST JSON)::

    {
      "from": "Ana Ruiz <ana@example.org>",        required
      "to": "reply+<token>@inbound.example.test",  required; string or list
      "subject": "Re: Your order",
      "text": "Yes, Friday is fine.\\n\\nOn ... wrote:\\n> ...",
      "html": "<p>Yes, Friday is fine.</p>",        text or html required
      "message_id": "<CAF00d@mail.example.org>",   required
      "in_reply_to": "<ours@mail.example.test>",
      "references": "<a@x> <ours@mail.example.test>",   string or list
      "headers": {"Auto-Submitted": "no"}          object, or list of {name, value}
    }

Postmark's inbound webhook: its ``MessageID`` is Postmark's own id, so the
real ``Message-ID``, ``In-Reply-To`` and ``References`` are read from
``Headers``; ``MailboxHash`` is the ``+`` part of the address written to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from herald.channels.base import ChannelEvent
from herald.channels.email.inbound import (
    ParsedReply,
    addresses,
    load_json_object,
    normalize_ids,
    reply_events,
    sender_address,
    text_field,
)
from herald.channels.email.settings import EmailSettings
from herald.errors import ValidationError


def parse_inbound(
    raw_body: bytes, settings: EmailSettings, *, received_at: datetime
) -> list[ChannelEvent]:
    """Either format, told apart by Postmark's capitalised ``From``/``FromFull`` keys."""
    data = load_json_object(raw_body, "inbound email")
    if "FromFull" in data or "From" in data:
        return reply_events(_postmark(data), settings, received_at=received_at)
    return reply_events(_generic(data), settings, received_at=received_at)


def parse_inbound_json(
    raw_body: bytes, settings: EmailSettings, *, received_at: datetime
) -> list[ChannelEvent]:
    """Herald's generic JSON format (module docstring)."""
    data = load_json_object(raw_body, "inbound email")
    return reply_events(_generic(data), settings, received_at=received_at)


def parse_postmark_inbound(
    raw_body: bytes, settings: EmailSettings, *, received_at: datetime
) -> list[ChannelEvent]:
    """Postmark's inbound webhook JSON."""
    data = load_json_object(raw_body, "Postmark inbound")
    return reply_events(_postmark(data), settings, received_at=received_at)


def _generic(data: Mapping[str, Any]) -> ParsedReply:
    headers = _generic_headers(data.get("headers"))
    text, html = text_field(data, "text"), text_field(data, "html")
    if not text and not html:
        raise ValidationError("inbound email: 'text' or 'html' is required", field="text")
    message_id = normalize_ids(text_field(data, "message_id", required=True))
    if not message_id:
        raise ValidationError("inbound email: 'message_id' is not a Message-ID", field="message_id")
    return ParsedReply(
        sender=sender_address(text_field(data, "from", required=True)),
        recipients=_recipients(data.get("to"), "to"),
        subject=text_field(data, "subject"),
        text=text,
        html=html or None,
        message_id=message_id[0],
        in_reply_to=text_field(data, "in_reply_to"),
        references=_joined(data.get("references"), "references"),
        headers=headers,
    )


def _recipients(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        found = addresses(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        found = [a for v in value for a in addresses(v)]
    else:
        raise ValidationError(f"inbound email: {name!r} must be a string or list", field=name)
    if not found:
        raise ValidationError(f"inbound email: {name!r} has no address", field=name)
    return found


def _joined(value: Any, name: str) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    raise ValidationError(f"inbound email: {name!r} must be a string or list", field=name)


def _generic_headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k).lower(): v for k, v in value.items()}
    if isinstance(value, list):
        return _name_value_list(value, "headers", "name", "value")
    raise ValidationError("inbound email: 'headers' must be an object or a list", field="headers")


def _name_value_list(items: list[Any], where: str, name: str, value: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for index, item in enumerate(items):
        if not (
            isinstance(item, dict)
            and isinstance(item.get(name), str)
            and isinstance(item.get(value), str)
        ):
            raise ValidationError(
                f"inbound email: {where}[{index}] needs string {name!r} and {value!r}",
                field=f"{where}[{index}]",
            )
        headers.setdefault(item[name].lower(), item[value])
    return headers


def _postmark(data: Mapping[str, Any]) -> ParsedReply:
    raw_headers = data.get("Headers", [])
    if not isinstance(raw_headers, list):
        raise ValidationError("Postmark inbound: 'Headers' must be a list", field="Headers")
    headers = _name_value_list(raw_headers, "Headers", "Name", "Value")
    from_full = data.get("FromFull")
    sender = from_full.get("Email") if isinstance(from_full, dict) else None
    if not isinstance(sender, str) or not sender:
        sender = text_field(data, "From", required=True)
    message_id = normalize_ids(headers.get("message-id", ""))
    if not message_id:
        message_id = normalize_ids(text_field(data, "MessageID", required=True))
    return ParsedReply(
        sender=sender_address(sender, field="From"),
        recipients=_postmark_recipients(data),
        subject=text_field(data, "Subject"),
        text=text_field(data, "TextBody"),
        html=text_field(data, "HtmlBody") or None,
        message_id=message_id[0],
        in_reply_to=headers.get("in-reply-to", ""),
        references=headers.get("references", ""),
        headers=headers,
        stripped_text=text_field(data, "StrippedTextReply").strip() or None,
    )


def _postmark_recipients(data: Mapping[str, Any]) -> list[str]:
    """``OriginalRecipient`` first: it is the address the sender actually wrote to."""
    found: list[str] = []
    original = text_field(data, "OriginalRecipient")
    if original:
        found.extend(addresses(original))
    to_full = data.get("ToFull")
    if isinstance(to_full, list):
        found.extend(
            item["Email"]
            for item in to_full
            if isinstance(item, dict) and isinstance(item.get("Email"), str)
        )
    if not found:
        found = _recipients(data.get("To"), "To")
    return list(dict.fromkeys(found))

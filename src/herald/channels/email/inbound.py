"""Replies arriving by webhook: Postmark's JSON and Herald's generic JSON.

Both end up as one :class:`InboundMessage` whose ``in_reply_to`` lists every
Message-ID the reply points at (``In-Reply-To`` first, then ``References``,
then the Message-ID rebuilt from a ``reply+{token}`` address), so the reply
is matched to our send even when a client drops one of the headers.

Auto-replies (``Auto-Submitted`` other than ``no``, ``X-Autoreply``,
``Precedence: auto_reply/bulk/junk``) are dropped: an out-of-office is not
an answer, it must not stop a follow-up, and an agent answering it would
start a mail loop (RFC 3834). The parsers return no event for them.

A message to ``unsub+{token}@`` (the mailto half of List-Unsubscribe) with
a valid token comes out with ``payload="unsubscribe"``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses, parseaddr
from typing import Any

from herald.channels.base import ChannelEvent, InboundMessage
from herald.channels.email.reply_text import html_to_text, strip_quoted_reply
from herald.channels.email.settings import EmailSettings
from herald.channels.email.tokens import (
    message_id_for,
    message_token_of,
    plus_token,
    read_unsubscribe_token,
)
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

WEBHOOK_SECRET_HEADER = "X-Herald-Webhook-Secret"  # noqa: S105 (a header name)
UNSUBSCRIBE_PAYLOAD = "unsubscribe"
_ANGLE_ID = re.compile(r"<[^<>\s]+>")
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})


def verify_webhook_secret(headers: Mapping[str, str], secret: str) -> bool:
    """True when the request carries ``secret`` in our header or as the basic-auth password.

    Postmark and most inbound-parse services can only put credentials in the
    URL (``https://herald:SECRET@host/webhooks/email/inbound``), which
    arrives as basic auth; the sandbox and custom relays may use the header.
    Digests are compared so neither content nor length leaks through timing.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    offered = lowered.get(WEBHOOK_SECRET_HEADER.lower())
    if offered is None:
        offered = _basic_auth_password(lowered.get("authorization", ""))
    if offered is None or not secret:
        return False
    expected = hashlib.sha256(secret.encode("utf-8")).digest()
    return hmac.compare_digest(hashlib.sha256(offered.encode("utf-8")).digest(), expected)


def _basic_auth_password(value: str) -> str | None:
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep else None


@dataclass
class ParsedReply:
    """The fields both formats share, before they become an event."""

    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str = ""
    references: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    stripped_text: str | None = None


def load_json_object(raw_body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw_body)
    except ValueError as exc:  # not JSON, not UTF-8, or a number too long to read
        raise ValidationError(f"{what}: body is not JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{what}: body must be a JSON object", field="body")
    return data


def text_field(data: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ValidationError(f"inbound email: {name!r} is required", field=name)
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"inbound email: {name!r} must be a string", field=name)
    return value


def normalize_ids(*values: object) -> list[str]:
    """Message-IDs from header values, each in angle brackets, in order, once.

    A header with undecodable bytes comes out of the email parser as a
    ``Header`` object rather than text, hence the ``str``.
    """
    ids: list[str] = []
    for raw in values:
        value = str(raw)
        found = _ANGLE_ID.findall(value)
        if not found and value.strip() and " " not in value.strip():
            found = [f"<{value.strip().strip('<>')}>"]
        ids.extend(found)
    return list(dict.fromkeys(ids))


def sender_address(value: str, *, field: str = "from") -> str:
    _, address = parseaddr(value)
    if "@" not in address:
        raise ValidationError(f"inbound email: {field} {value!r} has no address", field=field)
    return address.strip().lower()


def addresses(value: str) -> list[str]:
    return [address.strip() for _, address in getaddresses([value]) if "@" in address]


def is_auto_reply(headers: Mapping[str, str]) -> bool:
    auto = headers.get("auto-submitted", "no").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return True
    return headers.get("precedence", "").strip().lower() in _AUTO_PRECEDENCE


def reply_events(
    reply: ParsedReply, settings: EmailSettings, *, received_at: datetime
) -> list[ChannelEvent]:
    """The reply as an event, or nothing for an auto-reply."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    if is_auto_reply(reply.headers):
        return []
    full_text = reply.text or (html_to_text(reply.html) if reply.html else "")
    new_text = reply.stripped_text or strip_quoted_reply(full_text)
    in_reply_to = normalize_ids(reply.in_reply_to, reply.references)
    domain = settings.effective_message_id_domain
    for address in reply.recipients:
        token = message_token_of(address)
        if token is not None:
            in_reply_to.append(message_id_for(token, domain))
    message = InboundMessage(
        provider=IntegrationKind.EMAIL_SMTP,
        provider_message_id=reply.message_id,
        sender=reply.sender,
        recipient=reply.recipients[0].lower() if reply.recipients else "",
        text=new_text,
        received_at=received_at,
        in_reply_to=tuple(dict.fromkeys(in_reply_to)),
        payload=_unsubscribe_payload(reply.recipients, settings),
        subject=reply.subject,
        full_text=full_text,
    )
    return [message]


def _unsubscribe_payload(recipients: list[str], settings: EmailSettings) -> str | None:
    if settings.unsubscribe_secret is None:
        return None
    secret = settings.unsubscribe_secret.get_secret_value()
    for address in recipients:
        token = plus_token(address)
        if token is None or not address.lower().startswith("unsub+"):
            continue
        try:
            read_unsubscribe_token(token, secret)
        except ValidationError:
            continue
        return UNSUBSCRIBE_PAYLOAD
    return None

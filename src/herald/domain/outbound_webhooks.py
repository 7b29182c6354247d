"""Outbound webhooks: event types, the signature, and the retry policy.

A delivery is signed with HMAC-SHA256 over ``"{timestamp}.{body}"`` using
the subscription's secret, and sent with::

    Herald-Webhook-Id: evt_contact.completed_812        (the same on every retry)
    Herald-Webhook-Timestamp: 1735689600                (Unix seconds, at sending)
    Herald-Webhook-Signature: v1=5257a869e7ecebeda32a...

The timestamp is inside the signed text, so a receiver that refuses
timestamps older than a few minutes cannot be fed a replayed delivery.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

SIGNATURE_VERSION = "v1"
ID_HEADER = "Herald-Webhook-Id"
TIMESTAMP_HEADER = "Herald-Webhook-Timestamp"
SIGNATURE_HEADER = "Herald-Webhook-Signature"

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 6 * 3600
MAX_ATTEMPTS = 10
"""30 s, 1, 2, 4, 8, 16, 32 min, 1 h 4 min, 2 h 8 min: given up after about 4 h 15 min."""


class WebhookEvent(StrEnum):
    CONTACT_COMPLETED = "contact.completed"  # a contact's journey ended, with its outcome
    REPLY_RECEIVED = "reply.received"  # a contact wrote back
    CAMPAIGN_SENT = "campaign.sent"  # every contact of a campaign has an outcome


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # MAX_ATTEMPTS attempts failed; not retried


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Herald-Webhook-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def is_valid_signature(secret: str, timestamp: int, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time); Herald's own tests use it."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def retry_delay_seconds(attempts: int) -> float | None:
    """Seconds to wait after ``attempts`` failed attempts; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return float(min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300

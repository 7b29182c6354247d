"""Authenticating Meta's webhook calls: the POST signature and the GET handshake.

Both checks run before anything in the request is trusted or parsed, and
both compare secrets in constant time so response timing reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from pydantic import SecretStr

from herald.errors import ValidationError

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


class SubscriptionRefusedError(ValidationError):
    """The GET handshake did not prove knowledge of our verify token (answer 403)."""

    code = "webhook_subscription_refused"


def _secret_bytes(secret: str | SecretStr) -> bytes:
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return raw.encode("utf-8")


def signature_for(raw_body: bytes, app_secret: str | SecretStr) -> str:
    """The header value Meta sends for ``raw_body``: ``sha256=`` + hex HMAC-SHA256."""
    digest = hmac.new(_secret_bytes(app_secret), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(raw_body: bytes, header: str | None, app_secret: str | SecretStr) -> bool:
    """Whether ``header`` (X-Hub-Signature-256) signs exactly ``raw_body`` with the App Secret.

    Pass the body bytes as received, before any JSON decoding: re-encoding
    changes the bytes and breaks the signature. An empty secret never
    verifies, so a misconfigured integration refuses everything.
    """
    if not header or not _secret_bytes(app_secret):
        return False
    header = header.strip()
    if not header.lower().startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].lower().encode("ascii", errors="replace")
    expected = signature_for(raw_body, app_secret)[len(_PREFIX) :].encode("ascii")
    return hmac.compare_digest(given, expected)


def verify_subscription(params: Mapping[str, str], verify_token: str | SecretStr) -> str:
    """Answer Meta's ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``.

    Returns the challenge to echo as a plain-text 200 body; raises
    :class:`SubscriptionRefusedError` (to be answered 403) otherwise.
    """
    mode = params.get("hub.mode")
    if mode != "subscribe":
        raise SubscriptionRefusedError(
            f"hub.mode must be 'subscribe', got {mode!r}", field="hub.mode"
        )
    token = params.get("hub.verify_token", "")
    expected = _secret_bytes(verify_token)
    if not expected or not hmac.compare_digest(token.encode("utf-8"), expected):
        raise SubscriptionRefusedError("hub.verify_token does not match", field="hub.verify_token")
    challenge = params.get("hub.challenge")
    if not challenge:
        raise SubscriptionRefusedError("hub.challenge is missing", field="hub.challenge")
    return challenge

"""Tokens that tie mail coming back to the message Herald sent.

Message token
    ``{uuid4 hex}.{12 hex of sha256(key)}``: the left part of our
    ``Message-ID`` and the ``+`` part of the VERP bounce address and the
    plus-addressed reply address. Any of them rebuilds the Message-ID, so a
    bounce or reply that lost its threading headers still finds the send.

Unsubscribe token
    An opaque, HMAC-SHA256-signed token naming the recipient address and
    the campaign or list. The one-click endpoint verifies it without a
    database lookup (mailbox providers POST to it with no cookie and no
    confirmation), and nobody can forge one for another address without the
    secret. It is base32 in lower case so it survives mail systems that
    lower-case the local part of ``unsub+{token}@domain``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from herald.errors import ValidationError

_MESSAGE_TOKEN = re.compile(r"^[0-9a-f]{32}\.[0-9a-f]{12}$")
_UNSUBSCRIBE_VERSION = 1
_MAC_BYTES = 16  # 128 bits: forging needs the secret, brute force is hopeless
_MAC_CONTEXT = b"herald-unsubscribe\x00"


# --- message tokens ---------------------------------------------------------


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def new_message_token(key: str) -> str:
    """A fresh token for one send of ``key`` (unique even when resent)."""
    return f"{uuid.uuid4().hex}.{key_digest(key)}"


def is_message_token(value: str) -> bool:
    return bool(_MESSAGE_TOKEN.match(value))


def message_id_for(token: str, domain: str) -> str:
    return f"<{token}@{domain}>"


def plus_address(address: str, token: str) -> str:
    """``bounce@d`` + ``t`` → ``bounce+t@d`` (an existing ``+tag`` is replaced)."""
    local, domain = address.rsplit("@", 1)
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def plus_token(address: str) -> str | None:
    """The ``+`` part of an address's local part, or None."""
    local = address.strip().strip("<>").rsplit("@", 1)[0]
    if "+" not in local:
        return None
    return local.split("+", 1)[1] or None


def message_token_of(address: str) -> str | None:
    """The message token carried by a plus-address, when it is one of ours."""
    token = plus_token(address)
    if token is None:
        return None
    token = token.lower()
    return token if is_message_token(token) else None


# --- unsubscribe tokens -----------------------------------------------------


@dataclass(frozen=True)
class UnsubscribeSubject:
    """Who asked to unsubscribe, and from what (``""``: from everything)."""

    address: str
    list_id: str


def sign_unsubscribe_token(address: str, list_id: str, secret: str) -> str:
    """An opaque token for ``address`` leaving ``list_id``."""
    if "\x00" in address or "\x00" in list_id:
        raise ValidationError("unsubscribe token fields may not contain NUL", field="address")
    payload = bytes([_UNSUBSCRIBE_VERSION]) + f"{address.lower()}\x00{list_id}".encode()
    mac = _mac(payload, secret)
    return base64.b32encode(payload + mac).decode("ascii").rstrip("=").lower()


def read_unsubscribe_token(token: str, secret: str) -> UnsubscribeSubject:
    """The subject of a valid token; ``ValidationError`` for anything else.

    The MAC is compared in constant time before the payload is interpreted,
    so a tampered token reveals nothing about which part was wrong.
    """
    raw = _decode_base32(token)
    if raw is None or len(raw) <= _MAC_BYTES + 1:
        raise ValidationError("unsubscribe token is malformed", field="token")
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload, secret)):
        raise ValidationError("unsubscribe token signature does not match", field="token")
    if payload[0] != _UNSUBSCRIBE_VERSION:
        raise ValidationError(f"unsubscribe token version {payload[0]} is unknown", field="token")
    try:
        address, list_id = payload[1:].decode("utf-8").split("\x00", 1)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("unsubscribe token payload is malformed", field="token") from exc
    return UnsubscribeSubject(address=address, list_id=list_id)


def _mac(payload: bytes, secret: str) -> bytes:
    digest = hmac.new(secret.encode("utf-8"), _MAC_CONTEXT + payload, hashlib.sha256)
    return digest.digest()[:_MAC_BYTES]


def _decode_base32(token: str) -> bytes | None:
    text = token.strip().upper()
    if not text or not text.isascii():
        return None
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None

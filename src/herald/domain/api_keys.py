"""API key tokens: their format, scopes and how a presented token is checked.

A token reads ``hk_<prefix>_<secret>``. The prefix (8 lower-case letters
and digits) is stored in clear and finds the key in one indexed lookup; it
is also what people see in listings to tell keys apart. The secret (40
letters and digits, about 238 bits) is stored only as its SHA-256 digest.
A slow hash like argon2 adds nothing here: the secret is random and long, so
the digest cannot be reversed by guessing, and checking it stays cheap on
every API request.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from dataclasses import dataclass
from enum import StrEnum

TOKEN_PREFIX = "hk"  # noqa: S105  (a label, not a secret)
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
NAME_MAX_LENGTH = 120


class ApiKeyScope(StrEnum):
    """What a key may do: ``read`` only reads; ``write`` also changes things;
    ``admin`` also manages users, keys and reads the audit log."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@dataclass(frozen=True)
class ApiKeyToken:
    prefix: str
    secret: str

    def __str__(self) -> str:
        return f"{TOKEN_PREFIX}_{self.prefix}_{self.secret}"

    def __repr__(self) -> str:
        # A token must never reach a log line through an innocent repr().
        return f"ApiKeyToken(prefix={self.prefix!r}, secret=<hidden>)"


def parse_api_key(token: str) -> ApiKeyToken | None:
    """The parts of a well-formed token, or ``None`` for anything else."""
    parts = token.strip().split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or not set(prefix) <= set(PREFIX_ALPHABET):
        return None
    if len(secret) != SECRET_LENGTH or not set(secret) <= set(SECRET_ALPHABET):
        return None
    return ApiKeyToken(prefix, secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Compare in constant time, so response timing reveals nothing of the digest."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)

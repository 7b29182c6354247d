"""Provider secrets encrypted at rest.

Secrets (access tokens, SMTP passwords, API keys) are stored as Fernet tokens
(AES-128-CBC with HMAC-SHA256 authentication), keyed from
``HERALD_SECRET_KEY``. Several comma-separated keys allow rotation: the first
encrypts, every one decrypts. The embedded default generates a key file in
the data directory on first use so a fresh install needs no configuration;
the file is readable by its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from herald.errors import ConfigurationError
from herald.settings import Settings

KEY_FILE_NAME = "secret.key"
SESSION_KEY_FILE_NAME = "session.key"


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def _fernet_key(passphrase: str) -> bytes:
    # Any sufficiently long passphrase is accepted; Fernet wants 32 url-safe
    # base64 bytes, so the passphrase is hashed down to exactly that.
    return base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode("utf-8")).digest())


class SecretBox:
    def __init__(self, passphrases: list[str]) -> None:
        if not passphrases:
            raise ConfigurationError("at least one secret key is needed")
        self._fernet = MultiFernet([Fernet(_fernet_key(p)) for p in passphrases])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with HERALD_SECRET_KEY "
                "(was the key changed without keeping the old one for rotation?)"
            ) from exc


def load_secret_box(settings: Settings) -> SecretBox:
    """The box for these settings: configured keys, else the data directory's key file."""
    if settings.secret_key is not None:
        keys = [k.strip() for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
        return SecretBox(keys)
    return SecretBox([_read_or_create_key_file(settings.data_dir / KEY_FILE_NAME)])


def load_session_secrets(settings: Settings) -> list[str]:
    """The keys that sign session cookies, the signing one first.

    ``HERALD_SESSION_SECRET`` when set; else one derived from the first
    ``HERALD_SECRET_KEY`` (so a scaled-out deployment needs one secret, and
    the two uses never share a key); else a key file in the data directory.
    """
    if settings.session_secret is not None:
        value = settings.session_secret.get_secret_value()
        return [key.strip() for key in value.split(",") if key.strip()]
    if settings.secret_key is not None:
        first = settings.secret_key.get_secret_value().split(",")[0].strip()
        derived = hmac.new(first.encode("utf-8"), b"herald session cookies", hashlib.sha256)
        return [derived.hexdigest()]
    return [_read_or_create_key_file(settings.data_dir / SESSION_KEY_FILE_NAME)]


def _read_or_create_key_file(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_secret_key()
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key

"""The settings of one SMTP email integration, validated up front.

Everything that would make every send fail (a plain-text connection to a
remote host, a From address that is not an address, an unsubscribe link
without a signing secret) is refused here with a message naming the field,
so the integration cannot be saved in a state that only fails at send time.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Self
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from herald.errors import ValidationError

DEFAULT_RATE_LIMIT_PER_SECOND = 10.0
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
MIN_SECRET_LENGTH = 16
_HOSTNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


class SmtpSecurity(StrEnum):
    """How the connection is protected.

    ``starttls`` upgrades a plain connection (port 587), ``tls`` is TLS from
    the first byte (port 465), ``none`` sends credentials and mail in clear
    and is therefore only allowed to a loopback host (a local relay or the
    sandbox).
    """

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_address(value: str, *, field: str) -> str:
    """The address in canonical form (domain lower-cased, IDN kept as Unicode).

    No DNS lookup: deliverability is the receiving server's call, and a
    settings check must not depend on the network. ``.test`` domains are
    accepted so the sandbox and demos can use reserved names.
    """
    if "\r" in value or "\n" in value:
        raise ValidationError(f"{field}: line breaks are not allowed", field=field)
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationError(
            f"{field}: {value!r} is not a valid email address: {exc}", field=field
        ) from exc
    return result.normalized


def _check_hostname(value: str, field: str) -> str:
    host = value.strip().lower().rstrip(".")
    if not host or not set(host) <= _HOSTNAME_CHARS | {":", "[", "]"}:
        raise ValueError(f"{field}: {value!r} is not a host name")
    return host


class EmailSettings(BaseModel):
    """One SMTP mailbox Herald sends from.

    ``reply_to_address`` is where people's replies go (the inbound address of
    an inbound-parse service); with ``reply_plus_addressing`` it becomes
    ``reply+{token}@domain`` so a reply is linked even when the mail client
    drops threading headers. ``bounce_address`` becomes the VERP envelope
    sender ``bounce+{token}@domain`` so every bounce names the message.
    ``public_base_url`` is Herald's own public URL; with it every message
    carries a one-click unsubscribe link signed with ``unsubscribe_secret``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: SecretStr | None = None
    from_address: str
    from_name: str | None = Field(default=None, max_length=200)
    reply_to_address: str | None = None
    reply_plus_addressing: bool = False
    bounce_address: str | None = None
    message_id_domain: str | None = None
    public_base_url: str | None = None
    unsubscribe_secret: SecretStr | None = None
    inbound_webhook_secret: SecretStr | None = None
    rate_limit_per_second: float = Field(default=DEFAULT_RATE_LIMIT_PER_SECOND, gt=0, le=10_000)
    pool_size: int = Field(default=4, ge=1, le=64)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    tls_ca_pem: str | None = Field(
        default=None,
        description="trust only this certificate (PEM): a private relay's or the sandbox's",
    )
    local_hostname: str | None = Field(default=None, description="name sent with EHLO")

    @field_validator("host", "message_id_domain", "local_hostname")
    @classmethod
    def _hostname(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.field_name or "host"
        return None if value is None else _check_hostname(value, name)

    @field_validator("from_address", "reply_to_address", "bounce_address")
    @classmethod
    def _address(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.field_name or "address"
        if value is None:
            return None
        try:
            return normalize_address(value, field=name)
        except ValidationError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("from_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and any(ch in value for ch in "\r\n\x00"):
            raise ValueError("from_name: line breaks and NUL are not allowed in a display name")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"public_base_url: {value!r} is not an http(s) URL")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError(
                "public_base_url: one-click unsubscribe needs https (http only on loopback)"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.security is SmtpSecurity.NONE and not is_loopback_host(self.host):
            raise ValueError(
                f"security 'none' sends the password and mail in clear; it is only allowed to a "
                f"loopback host, not {self.host!r}: use 'starttls' (port 587) or 'tls' (port 465)"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: set both or neither")
        if self.public_base_url is not None and self.unsubscribe_secret is None:
            raise ValueError("unsubscribe_secret is required when public_base_url is set")
        for name in ("unsubscribe_secret", "inbound_webhook_secret"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(f"{name}: use at least {MIN_SECRET_LENGTH} characters")
        return self

    @property
    def sender_domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1]

    @property
    def effective_message_id_domain(self) -> str:
        return self.message_id_domain or self.sender_domain

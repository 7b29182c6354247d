"""The settings of one WhatsApp Cloud API integration (one business number)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from herald.errors import ValidationError

DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
# Meta's default throughput per business number (in + out, all types).
DEFAULT_RATE_LIMIT_PER_SECOND = 80.0

_PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "token", "xxx", "todo", "placeholder"}
)
_VERSION = re.compile(r"^v\d+\.\d+$")


class WhatsAppSettings(BaseModel):
    """Where and as whom Herald talks to the Graph API, and how fast.

    ``phone_number_id`` and ``waba_id`` are Graph object ids (digits), not
    phone numbers. ``app_secret`` verifies webhook signatures;
    ``webhook_verify_token`` answers Meta's subscription handshake. Point
    ``graph_base_url`` at the sandbox to run without a Meta account.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    graph_base_url: str = DEFAULT_GRAPH_BASE_URL
    api_version: str = DEFAULT_API_VERSION
    phone_number_id: str = Field(pattern=r"^\d+$", description="Graph id of the business number")
    waba_id: str = Field(pattern=r"^\d+$", description="WhatsApp Business Account id")
    access_token: SecretStr
    app_secret: SecretStr
    webhook_verify_token: SecretStr
    rate_limit_per_second: float = Field(default=DEFAULT_RATE_LIMIT_PER_SECOND, gt=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    max_in_flight: int = Field(default=200, ge=1, le=10_000)

    @field_validator("graph_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("graph_base_url must start with https:// (or http:// for the sandbox)")
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"api_version must look like v21.0, not {value!r}")
        return value

    @field_validator("access_token", "app_secret", "webhook_verify_token")
    @classmethod
    def _real_secret(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("must not be empty")
        if secret.strip().lower() in _PLACEHOLDERS or secret.startswith("<"):
            raise ValueError("is a placeholder; paste the real value")
        if any(char.isspace() for char in secret):
            raise ValueError("must not contain spaces or line breaks")
        return value

    @property
    def messages_url(self) -> str:
        return f"{self.graph_base_url}/{self.api_version}/{self.phone_number_id}/messages"

    @property
    def phone_number_url(self) -> str:
        return f"{self.graph_base_url}/{self.api_version}/{self.phone_number_id}"

    @property
    def templates_url(self) -> str:
        """The business account's template list (``GET``, cursor-paged)."""
        return f"{self.graph_base_url}/{self.api_version}/{self.waba_id}/message_templates"


def parse_settings(data: Mapping[str, Any]) -> WhatsAppSettings:
    """Validate stored or submitted settings, naming the first offending field."""
    try:
        return WhatsAppSettings.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ValidationError(f"WhatsApp settings: {where}: {first['msg']}", field=where) from exc

"""Settings from ``HERALD_*`` environment variables and an optional ``.env``.

Settings are built by :func:`load_settings` when a command or app starts,
never at import time, so tests can construct their own.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HERALD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("herald-data"),
        description="Where the embedded SQLite database and uploads live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL for scale-out. Default: SQLite in data_dir.",
    )
    default_region: str = Field(
        default="US",
        min_length=2,
        max_length=2,
        description="ISO region used to read phone numbers written in national format.",
    )

    public_base_url: str | None = Field(
        default=None,
        description=(
            "The URL at which providers reach this Herald (https://herald.example.com). "
            "Twilio signatures cover the full URL Twilio called, so it is checked "
            "against this base, never against the Host header of the request."
        ),
    )
    webhook_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest provider webhook body accepted (WhatsApp, Infobip, Twilio).",
    )
    email_webhook_max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest inbound email or bounce accepted: replies carry attachments.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Encrypts provider secrets at rest. Comma-separated to rotate: the first "
            "encrypts, all decrypt. Default: a key generated in data_dir on first use."
        ),
    )

    session_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Signs session cookies. Comma-separated to rotate: the first signs, all verify. "
            "Default: derived from HERALD_SECRET_KEY, else a key generated in data_dir."
        ),
    )
    session_max_age_seconds: int = Field(
        default=12 * 3600, ge=300, description="A browser session ends this long after login."
    )
    session_idle_seconds: int = Field(
        default=2 * 3600, ge=60, description="A browser session ends after this long unused."
    )
    admin_email: str | None = Field(
        default=None,
        description="With admin_password: the first admin, created at start when no user exists.",
    )
    admin_password: SecretStr | None = Field(
        default=None, description="Password of the first admin (see admin_email)."
    )

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for key in value.get_secret_value().split(","):
            check_secret_strength(key.strip(), "HERALD_SECRET_KEY")
        return value

    upload_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest audience CSV accepted by the API and the browser "
            "(larger: herald audience import)."
        ),
    )
    api_body_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest JSON body accepted by the API.",
    )
    api_rate_limit_per_second: float = Field(
        default=20.0,
        gt=0,
        description="Sustained API requests per second per API key (per client IP without one).",
    )
    api_rate_limit_burst: int = Field(
        default=100,
        ge=1,
        description="API requests a key or IP may make at once after being idle.",
    )

    import_workers: int = Field(
        default=0,
        ge=0,
        description="Processes that validate a large upload; 0 means one per CPU core.",
    )
    worker_lease_seconds: float = Field(
        default=300.0,
        ge=1,
        description=(
            "Real seconds a worker holds the journeys it claimed. A worker that dies is "
            "replaced on its journeys once this has passed; keep it well above the time "
            "one batch takes, or a slow worker loses its journeys to another."
        ),
    )

    clock_speedup: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Run Herald's clock this many times faster than real time (demos and tests "
            "only: delivery windows and follow-ups pass faster)."
        ),
    )
    clock_epoch: datetime | None = Field(
        default=None,
        description="Moment from which a sped-up clock runs fast; give every process the same.",
    )

    whatsapp_templates_ttl_seconds: int = Field(
        default=3600,
        ge=0,
        le=7 * 86400,
        description=(
            "How long a WhatsApp integration's fetched template list is used before pages "
            "fetch it again; 0 fetches on every page that shows it."
        ),
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "How Herald writes its logs: text for people, json (one object per line, with "
            "campaign and contact ids as fields) for log collectors."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The least severe log records written."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "A bearer token that lets a Prometheus scraper read /metrics without an API "
            "key. Without it, /metrics needs a signed-in user or an API key like any page."
        ),
    )

    @field_validator("public_base_url")
    @classmethod
    def _http_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not _BASE_URL.fullmatch(value):
            raise ValueError(
                "HERALD_PUBLIC_BASE_URL must be an http(s) URL without query or fragment, "
                f"e.g. https://herald.example.com, not {value!r}"
            )
        return value

    @field_validator("session_secret")
    @classmethod
    def _refuse_placeholder_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for key in value.get_secret_value().split(","):
            check_secret_strength(key.strip(), "HERALD_SESSION_SECRET")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _refuse_placeholder_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        check_secret_strength(value.get_secret_value(), "HERALD_METRICS_TOKEN")
        return value

    @model_validator(mode="after")
    def _idle_within_lifetime(self) -> Settings:
        if self.session_idle_seconds > self.session_max_age_seconds:
            raise ValueError(
                "HERALD_SESSION_IDLE_SECONDS must not exceed HERALD_SESSION_MAX_AGE_SECONDS"
            )
        return self

    def uses_https(self) -> bool:
        """Whether people reach Herald over https (Secure cookies, HSTS)."""
        return self.public_base_url is not None and self.public_base_url.startswith("https://")

    def resolved_database_url(self) -> str:
        """The database URL to use: the configured one, else SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'herald.db').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


_BASE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "password", "placeholder", "xxx", "todo"}
)
MIN_SECRET_LENGTH = 32


def check_secret_strength(value: str, name: str) -> None:
    """Refuse secrets that are obviously not secret: placeholders and short strings."""
    if value.lower().strip("-_ ") in PLACEHOLDER_SECRETS or len(set(value)) < 8:
        raise ValueError(f"{name} is a placeholder; generate one with `herald secret-key`")
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} characters long")

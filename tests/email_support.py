"""Shared builders for the email channel tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herald.channels.email import EmailSettings

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "email"
RECEIVED_AT = datetime(2024, 6, 3, 16, 45, tzinfo=UTC)
UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests-0123"
INBOUND_SECRET = "sandbox-inbound-email-secret"


def make_settings(**overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 2525,
        "security": "none",
        "username": "sandbox",
        "password": "sandbox-smtp-password",
        "from_address": "orders@mail.example.test",
        "from_name": "Herald Orders",
        "reply_to_address": "reply@inbound.example.test",
        "reply_plus_addressing": True,
        "bounce_address": "bounce@mail.example.test",
        "public_base_url": "https://herald.example.test",
        "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        "inbound_webhook_secret": INBOUND_SECRET,
    }
    values.update(overrides)
    return EmailSettings.model_validate(values)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()

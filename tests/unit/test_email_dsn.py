"""Bounces (RFC 3464 DSNs) → delivery updates linked to our Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.channels.base import DeliveryStatus, DeliveryUpdate
from herald.channels.email import parse_dsn
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError
from tests.email_support import RECEIVED_AT, fixture_bytes, make_settings


def _updates(name: str) -> list[DeliveryUpdate]:
    events = parse_dsn(fixture_bytes(name), make_settings(), received_at=RECEIVED_AT)
    assert all(isinstance(e, DeliveryUpdate) for e in events)
    return [e for e in events if isinstance(e, DeliveryUpdate)]


def test_hard_bounce_with_the_original_message() -> None:
    (update,) = _updates("dsn_hard_bounce.eml")
    assert update.provider is IntegrationKind.EMAIL_SMTP
    assert update.status is DeliveryStatus.FAILED
    assert update.provider_message_id == (
        "<5f0c3d2a9b8e4f61a7c2d3e4f5a6b7c8.1a2b3c4d5e6f@mail.example.test>"
    )
    assert update.correlation_key == "c1029:j7:s0"
    assert update.occurred_at == datetime(2024, 6, 3, 16, 40, 2, tzinfo=UTC)
    assert update.failure is not None
    assert update.failure.code == "5.1.1"
    assert update.failure.title == "No such mailbox"
    assert update.failure.detail is not None
    assert update.failure.detail.startswith("550 5.1.1 <ana@example.org>: Recipient address")
    assert update.detail == {
        "action": "failed",
        "status": "5.1.1",
        "recipient": "ana@example.org",
        "bounce": "hard",
    }


def test_bounce_with_only_the_original_headers() -> None:
    (update,) = _updates("dsn_headers_only.eml")
    assert update.provider_message_id == (
        "<9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a59.0f1e2d3c4b5a@mail.example.test>"
    )
    assert update.correlation_key == "c77:j2:s1"
    assert update.failure is not None and update.failure.code == "5.2.2"
    assert update.occurred_at == datetime(2024, 6, 4, 16, 12, 45, tzinfo=UTC)


def test_delayed_warning_produces_no_event() -> None:
    assert _updates("dsn_delayed.eml") == []


def test_bounce_without_the_original_is_linked_by_the_verp_address() -> None:
    (update,) = _updates("dsn_verp_only.eml")
    assert update.provider_message_id == (
        "<0a1b2c3d4e5f60718293a4b5c6d7e8f9.aabbccddeeff@mail.example.test>"
    )
    assert update.correlation_key is None
    assert update.failure is not None and update.failure.code == "5.2.1"
    assert update.occurred_at == RECEIVED_AT  # the report states no time


def test_bounce_linked_by_envelope_id_uses_the_message_id_domain() -> None:
    raw = fixture_bytes("dsn_headers_only.eml")
    without_original = raw.split(b"--000000000000c0ffee\nContent-Type: text/rfc822-headers")[0]
    without_verp = without_original.replace(
        b"To: bounce+9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a59.0f1e2d3c4b5a@mail.example.test",
        b"To: bounces@mail.example.test",
    )
    settings = make_settings(message_id_domain="ids.example.test")
    (update,) = parse_dsn(
        without_verp + b"--000000000000c0ffee--\n", settings, received_at=RECEIVED_AT
    )
    assert isinstance(update, DeliveryUpdate)
    assert update.provider_message_id == (
        "<9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a59.0f1e2d3c4b5a@ids.example.test>"
    )


def test_a_message_that_is_not_a_report_is_ignored() -> None:
    assert (
        parse_dsn(fixture_bytes("auto_reply.eml"), make_settings(), received_at=RECEIVED_AT) == []
    )


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda raw: b"", "body"),
        (lambda raw: raw.replace(b"Status: 5.1.1", b"Status: bounced"), "Status"),
        (lambda raw: raw.replace(b"Action: failed", b"Action: exploded"), "Action"),
        (
            lambda raw: raw.replace(b"message/delivery-status", b"text/plain"),
            "message/delivery-status",
        ),
        (
            lambda raw: raw.replace(b"Message-ID: <5f0c", b"X-Old-ID: <5f0c").replace(
                b"bounce+5f0c", b"bounces-5f0c"
            ),
            "Message-ID",
        ),
    ],
)
def test_unreadable_reports_name_what_is_wrong(mutate: object, field: str) -> None:
    assert callable(mutate)
    raw = mutate(fixture_bytes("dsn_hard_bounce.eml"))
    with pytest.raises(ValidationError) as caught:
        parse_dsn(raw, make_settings(), received_at=RECEIVED_AT)
    assert caught.value.field == field

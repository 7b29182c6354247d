"""Small pure pieces of the webhook endpoints: requests, URLs, redaction, settings."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from herald.channels.twilio import TwilioSettings
from herald.services.unsubscribe import campaign_id_of
from herald.services.webhook_intake import WebhookIntake, WebhookRequest
from herald.settings import Settings
from herald.testing import FakeClock
from herald.web.webhooks.redaction import (
    QuerySecretFilter,
    install_query_secret_filter,
    redact,
)
from herald.web.webhooks.unsubscribe import mask_address


def test_request_headers_are_looked_up_in_any_case() -> None:
    request = WebhookRequest(b"", {"X-Twilio-Signature": "abc", "Empty": ""})
    assert request.header("x-twilio-signature") == "abc"
    assert request.header("X-TWILIO-SIGNATURE") == "abc"
    assert request.header("Empty") is None and request.header("Missing") is None


def test_request_query_keeps_the_first_of_repeated_names() -> None:
    request = WebhookRequest(b"", query_string="key=a%3Ab&key=other&lang=&x")
    assert request.query == {"key": "a:b", "lang": "", "x": ""}


def _intake(public_base_url: str | None) -> WebhookIntake:
    return WebhookIntake(None, FakeClock(), public_base_url, None)  # type: ignore[arg-type]


def _twilio(public_base_url: str) -> TwilioSettings:
    return TwilioSettings.model_validate(
        {
            "account_sid": "AC" + "0" * 32,
            "auth_token": "token",
            "caller_id": "+15017122661",
            "public_base_url": public_base_url,
        }
    )


def test_twilio_urls_use_the_configured_bases_and_the_raw_query() -> None:
    intake = _intake("https://herald.example.com")
    urls = intake.twilio_urls(
        _twilio("https://old.example.com/"), "/webhooks/twilio/status", "k=a%3Ab"
    )
    assert urls == [
        "https://herald.example.com/webhooks/twilio/status?k=a%3Ab",
        "https://old.example.com/webhooks/twilio/status?k=a%3Ab",
    ]


def test_twilio_urls_without_query_or_second_base() -> None:
    intake = _intake(None)
    settings = _twilio("https://herald.example.com")
    assert intake.twilio_urls(settings, "/webhooks/twilio/gather", "") == [
        "https://herald.example.com/webhooks/twilio/gather"
    ]
    same = _intake("https://herald.example.com")
    assert len(same.twilio_urls(settings, "/x", "")) == 1


@pytest.mark.parametrize(
    ("list_id", "campaign_id"),
    [("42", 42), ("", None), ("spring-sale", None), ("٤٢", None), ("12345678901", None)],
)
def test_numeric_list_ids_name_campaigns(list_id: str, campaign_id: int | None) -> None:
    assert campaign_id_of(list_id) == campaign_id


@pytest.mark.parametrize(
    ("address", "masked"),
    [("ana.ruiz@example.org", "a•••@example.org"), ("x@y.test", "x•••@y.test"), ("odd", "•••")],
)
def test_addresses_are_masked_on_pages(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/webhooks/infobip/delivery?secret=s3cr3t-value&x=1",
            "/webhooks/infobip/delivery?secret=***&x=1",
        ),
        (
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1",
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=***&hub.challenge=1",
        ),
        ("/webhooks/twilio/status?key=c1%3Aj1", "/webhooks/twilio/status?key=c1%3Aj1"),
        ("/x?notsecret=1&Secret=2", "/x?notsecret=1&Secret=***"),
    ],
)
def test_secrets_in_query_strings_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


_SECRET_CHARS = st.characters(
    blacklist_characters='&"', blacklist_categories=["Zs", "Zl", "Zp", "Cc"]
)


@given(st.text(alphabet=_SECRET_CHARS, min_size=1))
def test_no_secret_value_survives_redaction(secret: str) -> None:
    line = '127.0.0.1 - "POST /webhooks/infobip/delivery?{}={} HTTP/1.1" 200'
    assert redact(line.format("secret", secret)) == line.format("secret", "***")


def test_the_filter_rewrites_access_log_arguments_and_is_installed_once() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/webhooks/infobip/inbound?secret=abc", "1.1", 200), None,
    )  # fmt: skip
    assert QuerySecretFilter().filter(record)
    assert "secret=***" in record.getMessage() and "abc" not in record.getMessage()
    install_query_secret_filter()
    install_query_secret_filter()
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, QuerySecretFilter) for f in access.filters) == 1


def test_public_base_url_setting_is_normalised_or_refused() -> None:
    assert Settings(public_base_url="https://herald.example.com/").public_base_url == (
        "https://herald.example.com"
    )
    assert Settings(public_base_url="  ").public_base_url is None
    assert Settings().webhook_max_body_bytes == 1024 * 1024
    for bad in ("herald.example.com", "https://h.example.com/?x=1", "ftp://h.example.com"):
        with pytest.raises(ValidationError, match="HERALD_PUBLIC_BASE_URL"):
            Settings(public_base_url=bad)

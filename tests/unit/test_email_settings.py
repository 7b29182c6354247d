"""EmailSettings refuse what would make every send fail, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from herald.channels.email.settings import EmailSettings, SmtpSecurity, is_loopback_host
from tests.email_support import make_settings


def test_defaults_and_normalisation() -> None:
    settings = EmailSettings(host="SMTP.Example.TEST", from_address="Orders@Mail.Example.TEST")
    assert settings.host == "smtp.example.test"
    assert settings.port == 587
    assert settings.security is SmtpSecurity.STARTTLS
    assert settings.from_address == "Orders@mail.example.test"
    assert settings.effective_message_id_domain == "mail.example.test"
    assert settings.rate_limit_per_second == 10.0
    assert make_settings().password is not None
    assert "sandbox-smtp-password" not in repr(make_settings())


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.53"])
def test_plain_smtp_is_allowed_to_loopback(host: str) -> None:
    assert make_settings(host=host, security="none").security is SmtpSecurity.NONE
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["smtp.example.test", "10.0.0.5", "192.0.2.1"])
def test_plain_smtp_to_a_remote_host_is_refused(host: str) -> None:
    with pytest.raises(PydanticValidationError, match="only allowed to a loopback host"):
        make_settings(host=host, security="none")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"from_address": "not an address"}, "from_address"),
        ({"bounce_address": "bounce@"}, "bounce_address"),
        ({"from_name": "Herald\r\nBcc: victim@example.org"}, "line breaks"),
        ({"password": None}, "username and password go together"),
        ({"unsubscribe_secret": None}, "unsubscribe_secret is required"),
        ({"unsubscribe_secret": "short"}, "at least 16"),
        ({"public_base_url": "http://herald.example.test"}, "needs https"),
        ({"public_base_url": "ftp://herald.example.test"}, "not an http"),
        ({"security": "ssl"}, "security"),
        ({"port": 0}, "port"),
        ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
        ({"host": "smtp example"}, "not a host name"),
    ],
)
def test_invalid_settings_name_the_problem(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PydanticValidationError, match=message):
        make_settings(**overrides)


def test_public_url_over_http_is_allowed_on_loopback() -> None:
    settings = make_settings(public_base_url="http://127.0.0.1:8000/")
    assert settings.public_base_url == "http://127.0.0.1:8000"

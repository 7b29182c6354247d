"""WhatsApp integration settings: defaults, URLs, refusal of unusable values."""

from __future__ import annotations

from typing import Any

import pytest

from herald.channels.whatsapp.settings import WhatsAppSettings, parse_settings
from herald.errors import ValidationError


def _data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "access_token": "EAAG-real-looking-token",
        "app_secret": "0123456789abcdef",
        "webhook_verify_token": "herald-verify-7f3a",
    }
    data.update(overrides)
    return data


def test_defaults_point_at_meta_with_its_throughput() -> None:
    settings = parse_settings(_data())
    assert settings.graph_base_url == "https://graph.facebook.com"
    assert settings.api_version == "v21.0"
    assert settings.rate_limit_per_second == 80
    assert settings.messages_url == ("https://graph.facebook.com/v21.0/106540352242922/messages")
    assert settings.phone_number_url == "https://graph.facebook.com/v21.0/106540352242922"


def test_sandbox_base_url_is_normalised() -> None:
    settings = parse_settings(_data(graph_base_url="http://127.0.0.1:8025/", api_version="v19.0"))
    assert settings.messages_url == "http://127.0.0.1:8025/v19.0/106540352242922/messages"


def test_secrets_never_show_in_repr() -> None:
    text = repr(parse_settings(_data()))
    assert "EAAG-real-looking-token" not in text
    assert "0123456789abcdef" not in text


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"access_token": ""}, "access_token"),
        ({"access_token": "changeme"}, "access_token"),
        ({"app_secret": "<your app secret>"}, "app_secret"),
        ({"webhook_verify_token": "two words"}, "webhook_verify_token"),
        ({"phone_number_id": "+15550783881"}, "phone_number_id"),
        ({"waba_id": "abc"}, "waba_id"),
        ({"api_version": "21"}, "api_version"),
        ({"graph_base_url": "graph.facebook.com"}, "graph_base_url"),
        ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_unusable_settings_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_settings(_data(**overrides))
    assert caught.value.field == field
    assert field in caught.value.message


def test_missing_secret_is_named() -> None:
    data = _data()
    del data["app_secret"]
    with pytest.raises(ValidationError) as caught:
        parse_settings(data)
    assert caught.value.field == "app_secret"


def test_settings_are_frozen() -> None:
    settings = WhatsAppSettings.model_validate(_data())
    with pytest.raises(Exception, match="frozen"):
        settings.api_version = "v22.0"  # type: ignore[misc]

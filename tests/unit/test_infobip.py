"""Infobip SMS: settings, wire shape of sends, answer classification, webhooks."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.channels.base import (
    DeliveryStatus,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    SmsContent,
    VoiceContent,
)
from herald.channels.http import HttpAnswer
from herald.channels.infobip import (
    InfobipApiFlavour,
    InfobipSettings,
    build_request,
    classify_send_answer,
    message_id_for,
    parse_delivery_reports,
    parse_inbound,
    verify_webhook_secret,
)
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import build_catalog
from herald.domain.error_catalog import infobip as codes
from herald.errors import ValidationError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "infobip"
SECRET = "a-webhook-secret-of-some-length"
KIND = IntegrationKind.INFOBIP_SMS


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _settings(**overrides: Any) -> InfobipSettings:
    values: dict[str, Any] = {
        "base_url": "https://xk3z9.api.infobip.com/",
        "api_key": "0123456789abcdef0123456789abcdef-01234567-89ab",
        "sender": "HeraldCo",
        "webhook_secret": SECRET,
        "notify_url_base": "https://herald.example.test",
    }
    return InfobipSettings(**(values | overrides))


def _message(
    key: str = "c42:j9001:s0", text: str = "Hi Ana, order A-1029 ships today."
) -> OutboundMessage:
    return OutboundMessage(key=key, to="+34600111222", content=SmsContent(text))


# --- settings ------------------------------------------------------------------------


def test_settings_normalise_urls_and_numeric_senders() -> None:
    settings = _settings(sender="+447860099299")
    assert settings.base_url == "https://xk3z9.api.infobip.com"
    assert settings.sender == "447860099299"
    assert settings.api_flavour is InfobipApiFlavour.V3
    assert settings.rate_limit_per_second == 100
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender", "HeraldCompany", "at most 11"),
        ("sender", "Herald<Co>", "at most 11"),
        ("sender", "12", "3 to 15 digits"),
        ("sender", "12345", None),
        ("webhook_secret", "short", "at least 16"),
        ("api_key", "  ", "must not be blank"),
        ("base_url", "xk3z9.api.infobip.com", "http"),
        ("notify_url_base", "https://herald.example.test/?x=1", "http"),
        ("validity_period_minutes", 4000, "less than or equal to 2880"),
        ("rate_limit_per_second", 0, "greater than 0"),
    ],
)
def test_settings_refuse_bad_values_naming_them(
    field: str, value: object, message: str | None
) -> None:
    if message is None:
        assert getattr(_settings(**{field: value}), field) == value
        return
    with pytest.raises(pydantic.ValidationError, match=message) as caught:
        _settings(**{field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


# --- sending -------------------------------------------------------------------------


def test_v3_request_carries_key_as_callback_data_and_derived_message_id() -> None:
    settings = _settings(validity_period_minutes=720)
    path, body = build_request(settings, _message())
    assert path == "/sms/3/messages"
    message = body["messages"][0]
    assert message["sender"] == "HeraldCo"
    assert message["destinations"] == [
        {"to": "34600111222", "messageId": message_id_for("c42:j9001:s0")}
    ]
    assert message["content"] == {"text": "Hi Ana, order A-1029 ships today."}
    assert message["webhooks"]["callbackData"] == "c42:j9001:s0"
    delivery = message["webhooks"]["delivery"]
    assert delivery["url"] == (
        "https://herald.example.test/webhooks/infobip/delivery?secret=a-webhook-secret-of-some-length"
    )
    assert delivery["notify"] is True
    assert message["options"]["validityPeriod"] == {"amount": 720, "timeUnit": "MINUTES"}
    assert body["options"] == {"includeSmsCountInResponse": True}


def test_v2_request_uses_the_flat_legacy_shape() -> None:
    settings = _settings(api_flavour="v2", validity_period_minutes=60, notify_url_base=None)
    path, body = build_request(settings, _message(text="Olá — ünïcödé 😀"))
    assert path == "/sms/2/text/advanced"
    message = body["messages"][0]
    assert message["from"] == "HeraldCo"
    assert message["text"] == "Olá — ünïcödé 😀"
    assert message["callbackData"] == "c42:j9001:s0"
    assert message["validityPeriod"] == 60
    assert "notifyUrl" not in message


def test_a_voice_message_is_refused_by_the_sms_client() -> None:
    message = OutboundMessage("k", "+34600111222", VoiceContent("hello"))
    with pytest.raises(ValidationError, match="SmsContent") as caught:
        build_request(_settings(), message)
    assert caught.value.field == "content"


@given(st.text(min_size=1, max_size=300))
def test_message_ids_are_stable_safe_and_distinct(key: str) -> None:
    first = message_id_for(key)
    assert first == message_id_for(key)
    assert len(first) == 47 and first.startswith("herald-")
    assert re.fullmatch(r"herald-[0-9a-f]{40}", first)
    assert message_id_for(key + "x") != first


CLASSIFIED = [
    # fixture, HTTP status, headers, expected type, code, integration fault
    ("send-v3-accepted.json", 200, {}, SendAccepted, None, False),
    ("send-v2-accepted.json", 200, {}, SendAccepted, None, False),
    ("send-v3-rejected-destination.json", 200, {}, SendTerminal, "REJECTED_DESTINATION", False),
    ("send-v3-rejected-credits.json", 200, {}, SendTerminal, "REJECTED_NOT_ENOUGH_CREDITS", True),
    ("send-v2-rejected-sender.json", 200, {}, SendTerminal, "REJECTED_SENDER", True),
    ("send-v3-rejected-duplicate.json", 200, {}, SendUnknown, None, False),
    ("error-v2-validation.json", 400, {}, SendTerminal, "BAD_REQUEST", False),
    ("error-v3-violations.json", 400, {}, SendTerminal, "BAD_REQUEST", False),
    ("error-unauthorized.json", 401, {}, SendTerminal, "UNAUTHORIZED", True),
    ("error-unauthorized.json", 403, {}, SendTerminal, "FORBIDDEN", True),
    ("error-throttled.json", 429, {"retry-after": "7"}, SendRetryable, "TOO_MANY_REQUESTS", False),
    ("error-throttled.json", 503, {}, SendRetryable, "GENERAL_ERROR", False),
]


def _classify(name: str, status: int, headers: dict[str, str]) -> SendResult:
    return classify_send_answer(HttpAnswer(status, headers, _fixture(name)))


@pytest.mark.parametrize(("name", "status", "headers", "kind", "code", "fault"), CLASSIFIED)
def test_send_answers_are_classified(
    name: str, status: int, headers: dict[str, str], kind: type, code: str | None, fault: bool
) -> None:
    result = _classify(name, status, headers)
    assert isinstance(result, kind)
    if isinstance(result, SendRetryable | SendTerminal):
        assert result.failure.code == code
        assert result.failure.http_status == status
    if isinstance(result, SendTerminal):
        assert result.integration_fault is fault


def test_classification_agrees_with_the_error_catalog() -> None:
    catalog = build_catalog()
    for name, status, headers, *_ in CLASSIFIED:
        result = _classify(name, status, headers)
        if not isinstance(result, SendRetryable | SendTerminal):
            continue
        entry = catalog.find(KIND, result.failure.code)
        assert entry is not None, result.failure.code
        assert result.failure.title == entry.title
        assert entry.is_retryable is isinstance(result, SendRetryable)
        if isinstance(result, SendTerminal):
            assert entry.is_integration_fault is result.integration_fault


def test_accepted_answers_report_the_message_id_and_parts() -> None:
    result = _classify("send-v3-accepted.json", 200, {})
    assert result == SendAccepted(
        "herald-3f1c0a7e55b94d0f8c1e2a6b7d9e0f1a2b3c4d5e", "PENDING_ACCEPTED", segments=2
    )
    v2 = _classify("send-v2-accepted.json", 200, {})
    assert isinstance(v2, SendAccepted) and v2.segments == 1


def test_request_errors_explain_the_fields_at_fault() -> None:
    legacy = _classify("error-v2-validation.json", 400, {})
    current = _classify("error-v3-violations.json", 400, {})
    assert isinstance(legacy, SendTerminal) and isinstance(current, SendTerminal)
    assert legacy.failure.detail is not None
    assert "messages[0].destinations[0].to must not be blank" in legacy.failure.detail
    assert current.failure.detail == (
        "E400: Request cannot be processed.; messages[0].content.text must not be blank"
    )


def test_throttling_carries_retry_after() -> None:
    result = _classify("error-throttled.json", 429, {"Retry-After": "7"})
    assert isinstance(result, SendRetryable) and result.retry_after_seconds == 7.0


@pytest.mark.parametrize(
    "body",
    [
        b"<html>OK</html>",
        b"{}",
        b'{"messages": []}',
        b'{"messages": [{"status": {"groupId": 1}}]}',
        b'{"messages": [{"messageId": "m", "status": {"groupId": "1"}}]}',
        b'{"messages": [{"messageId": "m", "status": {"groupId": 9}}]}',
        b"[1, 2]",
    ],
)
def test_unreadable_success_answers_are_unknown_never_resent(body: bytes) -> None:
    assert isinstance(classify_send_answer(HttpAnswer(200, {}, body)), SendUnknown)


def test_garbage_error_bodies_still_classify_by_status() -> None:
    result = classify_send_answer(HttpAnswer(502, {}, b"<html>Bad gateway</html>"))
    assert isinstance(result, SendRetryable)
    assert result.failure.code == "GENERAL_ERROR"
    assert result.failure.detail == "<html>Bad gateway</html>"
    assert isinstance(classify_send_answer(HttpAnswer(302, {}, b"")), SendUnknown)


# --- webhook secret ------------------------------------------------------------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "query", "accepted"),
    [
        ({}, {"secret": SECRET}, True),
        ({"Authorization": _basic("infobip", SECRET)}, {}, True),
        ({"authorization": _basic("", SECRET)}, {}, True),
        ({"X-Herald-Webhook-Secret": SECRET}, {}, True),
        ({}, {}, False),
        ({}, {"secret": SECRET[:-1]}, False),
        ({}, {"secret": ""}, False),
        ({"Authorization": _basic(SECRET, "wrong")}, {}, False),
        ({"Authorization": "Basic !!!not-base64"}, {}, False),
        ({"Authorization": f"Bearer {SECRET}"}, {}, False),
        ({"X-Herald-Webhook-Secret": "nope"}, {"secret": "nope"}, False),
    ],
)
def test_webhook_secret_is_checked_in_every_accepted_place(
    headers: dict[str, str], query: dict[str, str], accepted: bool
) -> None:
    assert verify_webhook_secret(SECRET, headers=headers, query=query) is accepted


def test_an_empty_configured_secret_accepts_nothing() -> None:
    assert not verify_webhook_secret("", headers={}, query={"secret": ""})
    assert verify_webhook_secret(pydantic.SecretStr(SECRET), headers={}, query={"secret": SECRET})


# --- delivery reports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "code", "key", "occurred_at"),
    [
        ("dlr-v3-delivered.json", DeliveryStatus.DELIVERED, None, "c42:j9001:s0",
         datetime(2024, 6, 3, 16, 10, 4, tzinfo=UTC)),
        ("dlr-v3-failed-unknown-subscriber.json", DeliveryStatus.FAILED, "EC_UNKNOWN_SUBSCRIBER",
         "c42:j9002:s0", datetime(2024, 6, 3, 16, 10, 9, 213000, tzinfo=UTC)),
        ("dlr-v3-expired.json", DeliveryStatus.FAILED, "EC_ABSENT_SUBSCRIBER", "c42:j9003:s0",
         datetime(2024, 6, 5, 16, 10, tzinfo=UTC)),
        ("dlr-v2-rejected.json", DeliveryStatus.FAILED, "REJECTED_DESTINATION_BLOCKLISTED",
         "c42:j9004:s0", datetime(2024, 6, 3, 16, 11, 0, 412000, tzinfo=UTC)),
        ("dlr-v2-delivered.json", DeliveryStatus.DELIVERED, None, "c42:j9005:s0",
         datetime(2024, 6, 3, 15, 12, 3, 500000, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_delivery_reports_become_updates(
    name: str, status: DeliveryStatus, code: str | None, key: str, occurred_at: datetime
) -> None:
    [update] = parse_delivery_reports(_fixture(name))
    assert update.provider is KIND
    assert update.status is status
    assert update.correlation_key == key
    assert update.occurred_at == occurred_at
    assert (update.failure.code if update.failure else None) == code
    assert update.provider_message_id == json.loads(_fixture(name))["results"][0]["messageId"]


def test_failed_reports_explain_the_error() -> None:
    [update] = parse_delivery_reports(_fixture("dlr-v3-failed-unknown-subscriber.json"))
    assert update.failure is not None
    assert update.failure.title == "Unknown subscriber"
    assert update.failure.detail == "Unknown Subscriber"
    assert update.detail == {
        "status": "UNDELIVERABLE_NOT_DELIVERED",
        "error": "EC_UNKNOWN_SUBSCRIBER",
        "segments": "1",
        "to": "34600999000",
        "mccMnc": "21407",
        "bulkId": "campaign-42-batch-1",
    }
    [v2] = parse_delivery_reports(_fixture("dlr-v2-delivered.json"))
    assert v2.detail["segments"] == "2"


def test_a_batch_maps_each_report_on_its_own() -> None:
    updates = parse_delivery_reports(_fixture("dlr-v3-batch.json"))
    assert [(u.provider_message_id, u.status) for u in updates] == [
        ("herald-aa01", DeliveryStatus.SENT),  # delivered to the operator only
        ("herald-aa02", DeliveryStatus.SENT),
        ("herald-aa03", DeliveryStatus.DELIVERED),
        ("herald-aa04", DeliveryStatus.FAILED),
    ]
    assert updates[3].failure is not None and updates[3].failure.code == "EC_CONTENT_BLOCKED"
    assert len({u.dedupe_key for u in updates}) == 4


def test_reports_with_ids_only_are_named_from_the_wire_tables() -> None:
    body = {
        "results": [
            {
                "messageId": "m1",
                "doneAt": "2024-06-03T16:10:04.000Z",
                "status": {"groupId": 2, "id": 9},
                "error": {"groupId": 1, "id": 27},
            },
            {"messageId": "m2", "sentAt": "2024-06-03T16:10:04", "status": {"groupId": 5}},
        ]
    }
    first, second = parse_delivery_reports(json.dumps(body).encode())
    assert first.failure is not None and first.failure.code == "EC_ABSENT_SUBSCRIBER"
    assert second.failure is not None and second.failure.code == "REJECTED"
    assert second.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'{"result": []}', "results"),
        (b'{"results": ["x"]}', "results[0]"),
        (b'{"results": [{"status": {"groupId": 3}}]}', "results[0].messageId"),
        (b'{"results": [{"messageId": "m"}]}', "results[0].status"),
        (
            b'{"results": [{"messageId": "m", "status": {"groupId": "3"}}]}',
            "results[0].status.groupId",
        ),
        (b'{"results": [{"messageId": "m", "status": {"groupId": 3}}]}', "results[0].doneAt"),
        (
            b'{"results": [{"messageId": "m", "status": {"groupId": 3}, "doneAt": "yesterday"}]}',
            "results[0].doneAt",
        ),
    ],
)
def test_malformed_reports_are_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_delivery_reports(body)
    assert caught.value.field == field


# --- inbound SMS ---------------------------------------------------------------------


def test_inbound_text_becomes_a_message_from_an_e164_sender() -> None:
    [message] = parse_inbound(_fixture("mo-text.json"))
    assert message.provider is KIND
    assert message.provider_message_id == "817790313235066447"
    assert message.sender == "+34600111222"
    assert message.recipient == "34911000111"
    assert message.text == "Yes please, what colours do you have?"
    assert message.received_at == datetime(2024, 6, 3, 16, 20, tzinfo=UTC)
    assert message.dedupe_key == "infobip_sms:in:817790313235066447"


def test_inbound_stop_keeps_the_whole_text() -> None:
    [message] = parse_inbound(_fixture("mo-stop.json"))
    assert message.text == "STOP"
    assert message.sender == "+447700900123"


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ({"from": "34600111222", "to": "1", "text": "x", "receivedAt": "2024-06-03T16:20:00Z"},
         "results[0].messageId"),
        ({"messageId": "1", "from": "ana", "to": "1", "text": "x",
          "receivedAt": "2024-06-03T16:20:00Z"}, "results[0].from"),
        ({"messageId": "1", "from": "34600111222", "to": "1", "receivedAt": "2024-06-03T16:20:00Z"},
         "results[0].text"),
        ({"messageId": "1", "from": "34600111222", "to": "1", "text": "x"},
         "results[0].receivedAt"),
    ],
)  # fmt: skip
def test_malformed_inbound_is_refused_naming_the_field(result: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound(json.dumps({"results": [result]}).encode())
    assert caught.value.field == field


# --- catalog -------------------------------------------------------------------------


def test_every_failing_status_and_error_has_a_catalog_entry() -> None:
    catalog = build_catalog()
    failing = [name for name, code in codes.STATUSES.items() if code.group_id in (2, 4, 5)]
    errors = [name for name in codes.ERRORS if name != "NO_ERROR"]
    for name in [*failing, *errors, *codes.STATUS_GROUPS.values()]:
        if name in ("ACCEPTED", "PENDING", "DELIVERED"):
            continue
        assert catalog.find(KIND, name) is not None, name
    assert codes.status_name_for_id(23) == "REJECTED_DUPLICATE_MESSAGE_ID"
    assert codes.error_name_for_id(603) == "EC_CONTENT_BLOCKED"
    assert codes.error_name_for_id(999999) is None

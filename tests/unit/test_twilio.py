"""Twilio Voice: settings, call parameters and TwiML, classification, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from herald.channels.base import (
    DeliveryStatus,
    KeypressCapture,
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
from herald.channels.twilio import (
    MachineDetection,
    TwilioSettings,
    call_parameters,
    classify_send_answer,
    compute_signature,
    parse_gather,
    parse_status_callback,
    render_gather_reply,
    verify_signature,
)
from herald.channels.twiml import render_call, xml_text
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import build_catalog
from herald.errors import ValidationError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "twilio"
TOKEN = "12345678901234567890123456789012"
SID = "AC0123456789abcdef0123456789abcdef"
KIND = IntegrationKind.TWILIO_VOICE
ARRIVED = datetime(2024, 6, 3, 16, 40, tzinfo=UTC)


def _form(name: str) -> list[tuple[str, str]]:
    return parse_qsl((FIXTURES / name).read_text().strip(), keep_blank_values=True)


def _settings(**overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "caller_id": "+15017122661",
        "public_base_url": "https://herald.example.test/",
    }
    return TwilioSettings(**(values | overrides))


def _parse(document: str) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314 - Herald's own output


def reference_signature(url: str, params: list[tuple[str, str]], token: str) -> str:
    """The documented algorithm, written out independently of Herald's code."""
    names = sorted({name for name, _ in params})
    payload = url
    for name in names:
        for value in sorted(v for n, v in params if n == name):
            payload += name + value
    mac = hmac.new(token.encode(), payload.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# --- settings ------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = _settings()
    assert settings.api_base_url == "https://api.twilio.com"
    assert settings.public_base_url == "https://herald.example.test"
    assert settings.machine_detection is MachineDetection.DISABLED
    assert settings.machine_counts_as_delivered is True
    assert settings.rate_limit_per_second == 1.0
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_sid", "AC0123", "32 hexadecimal"),
        ("account_sid", "XX0123456789abcdef0123456789abcdef", "32 hexadecimal"),
        ("caller_id", "15017122661", "E.164"),
        ("caller_id", "+0501712266", "E.164"),
        ("auth_token", " ", "blank"),
        ("public_base_url", "herald.example.test", "http"),
        ("ring_timeout_seconds", 2, "greater than or equal to 5"),
        ("machine_detection", "Sometimes", "Enable"),
    ],
)
def test_settings_refuse_bad_values_naming_them(field: str, value: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message) as caught:
        _settings(**{field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


# --- call parameters and TwiML -------------------------------------------------------


def test_call_parameters_ask_for_every_progress_event_with_the_key() -> None:
    settings = _settings(machine_detection="DetectMessageEnd", ring_timeout_seconds=25)
    message = OutboundMessage("c42:j9001:s1", "+34600111222", VoiceContent("Hola Ana", "es-ES"))
    params = call_parameters(settings, message)
    form = dict(params)
    assert form["To"] == "+34600111222"
    assert form["From"] == "+15017122661"
    assert form["StatusCallback"] == (
        "https://herald.example.test/webhooks/twilio/status?key=c42%3Aj9001%3As1"
    )
    assert form["StatusCallbackMethod"] == "POST"
    assert [v for n, v in params if n == "StatusCallbackEvent"] == ["completed"]
    assert form["Timeout"] == "25"
    assert form["MachineDetection"] == "DetectMessageEnd"
    root = _parse(form["Twiml"])
    assert [(e.tag, e.get("language"), e.text) for e in root] == [("Say", "es-ES", "Hola Ana")]
    assert "MachineDetection" not in dict(call_parameters(_settings(), message))


def test_a_keypress_capture_wraps_the_prompt_in_a_gather() -> None:
    capture = KeypressCapture("Press 1 to confirm, 2 to cancel.", {"1": "yes", "2": "no"}, 7)
    content = VoiceContent("Your order ships today.", "en-GB", capture)
    params = call_parameters(_settings(), OutboundMessage("k&1", "+34600111222", content))
    root = _parse(dict(params)["Twiml"])
    gather, hangup = list(root)
    assert gather.tag == "Gather" and hangup.tag == "Hangup"
    assert gather.attrib == {
        "input": "dtmf",
        "numDigits": "1",
        "timeout": "7",
        "action": "https://herald.example.test/webhooks/twilio/gather?key=k%261&lang=en-GB",
        "method": "POST",
    }
    assert [s.text for s in gather.iter("Say")] == [
        "Your order ships today.",
        "Press 1 to confirm, 2 to cancel.",
    ]


def test_an_sms_message_is_refused_by_the_voice_client() -> None:
    with pytest.raises(ValidationError, match="VoiceContent"):
        call_parameters(_settings(), OutboundMessage("k", "+34600111222", SmsContent("hi")))


HOSTILE = [
    "</Say><Dial>+19005550100</Dial><Say>",
    'Ana" language="xx"><Play>http://evil.example/a.mp3</Play>',
    "<![CDATA[ ]]> &amp; &lt; ]]>",
    "Bell \x07 NUL \x00 escape \x1b and a lone surrogate \ud800 end",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_text(text: str) -> None:
    capture = KeypressCapture(prompt=text)
    twiml = render_call(
        VoiceContent(text, 'en"US', capture), gather_url="https://h.test/g?a=1&b=<2>"
    )
    root = _parse(twiml)
    assert [e.tag for e in root.iter()] == ["Response", "Gather", "Say", "Say", "Hangup"]
    assert [s.text or "" for s in root.iter("Say")] == [xml_text(text)] * 2
    assert root.find("Gather") is not None
    assert root.find("Gather").get("action") == "https://h.test/g?a=1&b=<2>"  # type: ignore[union-attr]
    assert {s.get("language") for s in root.iter("Say")} == {'en"US'}


@given(st.text())
def test_any_text_round_trips_through_twiml(text: str) -> None:
    root = _parse(render_call(VoiceContent(text)))
    assert [e.tag for e in root.iter()] == ["Response", "Say"]
    assert (root[0].text or "") == xml_text(text)


def test_only_characters_xml_cannot_carry_are_dropped() -> None:
    assert xml_text("a\tb\nc\rd\r\n é 😀 \ufffd") == "a\tb\nc\nd\n é 😀 \ufffd"
    assert xml_text("a\x00b\x08c\ufffed\ud800") == "abcd"


# --- classification ------------------------------------------------------------------

CLASSIFIED = [
    # fixture, HTTP status, headers, expected type, code, integration fault
    ("call-created.json", 201, {}, SendAccepted, None, False),
    ("error-21211.json", 400, {}, SendTerminal, "21211", False),
    ("error-21214.json", 400, {}, SendTerminal, "21214", False),
    ("error-21215.json", 400, {}, SendTerminal, "21215", True),
    ("error-21210.json", 400, {}, SendTerminal, "21210", True),
    ("error-20003.json", 401, {}, SendTerminal, "20003", True),
    ("error-20404.json", 404, {}, SendTerminal, "20404", True),
    ("error-20429.json", 429, {"Retry-After": "2"}, SendRetryable, "20429", False),
]


def _classify(name: str, status: int, headers: dict[str, str]) -> SendResult:
    return classify_send_answer(HttpAnswer(status, headers, (FIXTURES / name).read_bytes()))


@pytest.mark.parametrize(("name", "status", "headers", "kind", "code", "fault"), CLASSIFIED)
def test_call_answers_are_classified(
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
    extra = [
        HttpAnswer(500, {}, b"<html>oops</html>"),
        HttpAnswer(503, {}, b""),
        HttpAnswer(400, {}, b'{"code": 13224, "message": "invalid"}'),
    ]
    answers = [HttpAnswer(s, h, (FIXTURES / n).read_bytes()) for n, s, h, *_ in CLASSIFIED]
    for answer in [*answers, *extra]:
        result = classify_send_answer(answer)
        if not isinstance(result, SendRetryable | SendTerminal):
            continue
        entry = catalog.find(KIND, result.failure.code)
        assert entry is not None, result.failure.code
        assert entry.is_retryable is isinstance(result, SendRetryable)
        if isinstance(result, SendTerminal):
            assert entry.is_integration_fault is result.integration_fault


def test_accepted_calls_carry_the_call_sid() -> None:
    result = _classify("call-created.json", 201, {})
    assert result == SendAccepted("CA5f0e3a1b2c4d6e8f90a1b2c3d4e5f6a7", "queued")


def test_throttling_and_server_errors_are_retryable() -> None:
    throttled = _classify("error-20429.json", 429, {"retry-after": "2"})
    assert isinstance(throttled, SendRetryable) and throttled.retry_after_seconds == 2.0
    broken = classify_send_answer(HttpAnswer(502, {}, b"<html>Bad gateway</html>"))
    assert isinstance(broken, SendRetryable)
    assert broken.failure.code == "20500" and broken.retry_after_seconds is None


def test_unknown_codes_fail_the_contact_without_blaming_the_integration() -> None:
    result = classify_send_answer(HttpAnswer(400, {}, b'{"code": 21999, "message": "Odd"}'))
    assert isinstance(result, SendTerminal) and not result.integration_fault
    assert (result.failure.code, result.failure.detail) == ("21999", "Odd")
    bare = classify_send_answer(HttpAnswer(422, {}, b""))
    assert isinstance(bare, SendTerminal) and bare.failure.code == "http-422"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"status": "queued"}', b'{"sid": "SM123", "status": "queued"}'],
)
def test_unreadable_created_answers_are_unknown(body: bytes) -> None:
    assert isinstance(classify_send_answer(HttpAnswer(201, {}, body)), SendUnknown)
    assert isinstance(classify_send_answer(HttpAnswer(301, {}, body)), SendUnknown)


# --- signatures ----------------------------------------------------------------------

URL = "https://herald.example.test/webhooks/twilio/status?key=c42%3Aj9001%3As1"


def test_signature_matches_the_reference_algorithm_and_the_official_sdk() -> None:
    params = _form("status-completed-human.form")
    ours = compute_signature(URL, params, TOKEN)
    assert ours == reference_signature(URL, params, TOKEN)
    assert ours == RequestValidator(TOKEN).compute_signature(URL, dict(params))
    assert RequestValidator(TOKEN).validate(URL, dict(params), ours)


def test_repeated_names_sign_all_their_values_sorted() -> None:
    params = [("StatusCallbackEvent", "ringing"), ("A", "1"), ("StatusCallbackEvent", "answered")]
    expected = reference_signature(URL, params, TOKEN)
    assert compute_signature(URL, params, TOKEN) == expected
    assert compute_signature(URL, list(reversed(params)), TOKEN) == expected
    assert expected == reference_signature(URL, [("A", "1"), *params[::2]], TOKEN)


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)),
        max_size=6,
        unique_by=lambda pair: pair[0],
    ),
    st.text(max_size=20),
)
def test_signature_agrees_with_the_reference_for_any_form(
    params: list[tuple[str, str]], token: str
) -> None:
    expected = reference_signature(URL, params, token)
    assert compute_signature(URL, params, token) == expected
    assert compute_signature(URL, dict(params), token) == expected
    assert verify_signature(URL, params, expected, token)


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://herald.example.test/webhooks/twilio/status?key=a", "https://herald.example.test:443/webhooks/twilio/status?key=a"),
        ("https://herald.example.test:443/webhooks/twilio/status?key=a", "https://herald.example.test/webhooks/twilio/status?key=a"),
        ("http://127.0.0.1/webhooks/twilio/status", "http://127.0.0.1:80/webhooks/twilio/status"),
        ("http://127.0.0.1:8000/webhooks/twilio/status", "http://127.0.0.1:8000/webhooks/twilio/status"),
    ],
)  # fmt: skip
def test_default_ports_are_accepted_either_way(signed_url: str, received_url: str) -> None:
    params = _form("status-ringing.form")
    signature = compute_signature(signed_url, params, TOKEN)
    assert verify_signature(received_url, params, signature, TOKEN)


def test_unsigned_mis_signed_and_tampered_requests_are_refused() -> None:
    params = _form("status-completed-human.form")
    signature = compute_signature(URL, params, TOKEN)
    tampered = [(n, "busy" if n == "CallStatus" else v) for n, v in params]
    assert verify_signature(URL, params, signature, TOKEN)
    assert not verify_signature(URL, params, None, TOKEN)
    assert not verify_signature(URL, params, "", TOKEN)
    assert not verify_signature(URL, params, signature[:-2] + "==", TOKEN)
    assert not verify_signature(URL, params, "not base64 ✗", TOKEN)
    assert not verify_signature(URL, params, signature, TOKEN[::-1])
    assert not verify_signature(URL, tampered, signature, TOKEN)
    assert not verify_signature(URL.replace("s1", "s2"), params, signature, TOKEN)
    assert not verify_signature(
        URL.replace(":443", "").replace("https", "http"), params, signature, TOKEN
    )
    assert not verify_signature(URL, [*params, ("Digits", "9")], signature, TOKEN)


# --- status callbacks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("status-ringing.form", DeliveryStatus.SENT, None),
        ("status-answered.form", DeliveryStatus.SENT, None),
        ("status-completed-human.form", DeliveryStatus.DELIVERED, None),
        ("status-completed-no-amd.form", DeliveryStatus.DELIVERED, None),
        ("status-completed-machine.form", DeliveryStatus.DELIVERED, None),
        ("status-completed-fax.form", DeliveryStatus.FAILED, "fax"),
        ("status-busy.form", DeliveryStatus.FAILED, "busy"),
        ("status-no-answer.form", DeliveryStatus.FAILED, "no-answer"),
        ("status-canceled.form", DeliveryStatus.FAILED, "canceled"),
        ("status-failed-13224.form", DeliveryStatus.FAILED, "13224"),
        ("status-failed-plain.form", DeliveryStatus.FAILED, "failed"),
    ],
)
def test_status_callbacks_become_updates(
    name: str, status: DeliveryStatus, code: str | None
) -> None:
    [update] = parse_status_callback(
        _form(name), query={"key": "c42:j9001:s1"}, received_at=ARRIVED
    )
    assert update.provider is KIND
    assert update.provider_message_id == "CA5f0e3a1b2c4d6e8f90a1b2c3d4e5f6a7"
    assert update.status is status
    assert (update.failure.code if update.failure else None) == code
    assert update.correlation_key == "c42:j9001:s1"
    assert update.occurred_at.tzinfo is not None and update.occurred_at != ARRIVED


def test_voicemail_fails_when_the_integration_does_not_count_it() -> None:
    [update] = parse_status_callback(
        _form("status-completed-machine.form"),
        received_at=ARRIVED,
        machine_counts_as_delivered=False,
    )
    assert update.status is DeliveryStatus.FAILED
    assert update.failure is not None
    assert (update.failure.code, update.failure.title) == ("machine", "Answered by voicemail")
    assert update.detail["answered_by"] == "machine_end_beep"
    [human] = parse_status_callback(
        _form("status-completed-human.form"), received_at=ARRIVED, machine_counts_as_delivered=False
    )
    assert human.status is DeliveryStatus.DELIVERED
    assert human.detail == {
        "call_status": "completed",
        "answered_by": "human",
        "duration_seconds": "42",
        "sequence_number": "3",
        "to": "+34600111222",
    }
    assert human.occurred_at == datetime(2024, 6, 3, 16, 30, 51, tzinfo=UTC)


def test_failures_carry_the_error_message() -> None:
    [update] = parse_status_callback(_form("status-failed-13224.form"), received_at=ARRIVED)
    assert update.failure is not None
    assert update.failure.title == "Number invalid for calling"
    assert update.failure.detail == "Dial: Invalid phone number"


def test_callbacks_without_timestamp_use_the_arrival_time() -> None:
    params = [(n, v) for n, v in _form("status-busy.form") if n != "Timestamp"]
    [update] = parse_status_callback(params, received_at=ARRIVED)
    assert update.occurred_at == ARRIVED and update.correlation_key is None


@pytest.mark.parametrize(
    ("drop", "replace", "field"),
    [
        ("CallSid", None, "CallSid"),
        ("CallStatus", None, "CallStatus"),
        (None, ("CallStatus", "exploded"), "CallStatus"),
        (None, ("Timestamp", "sometime"), "Timestamp"),
    ],
)
def test_malformed_callbacks_are_refused_naming_the_parameter(
    drop: str | None, replace: tuple[str, str] | None, field: str
) -> None:
    params = [(n, v) for n, v in _form("status-busy.form") if n != drop]
    if replace is not None:
        params = [(n, replace[1] if n == replace[0] else v) for n, v in params]
    with pytest.raises(ValidationError) as caught:
        parse_status_callback(params, received_at=ARRIVED)
    assert caught.value.field == field


# --- gathers -------------------------------------------------------------------------


def test_a_keypress_becomes_an_inbound_message_from_the_callee() -> None:
    [message] = parse_gather(
        _form("gather-digits.form"),
        query={"key": "c42:j9001:s1", "lang": "es-ES"},
        received_at=ARRIVED,
    )
    assert message.sender == "+34600111222"
    assert message.recipient == "+15017122661"
    assert (message.text, message.payload) == ("1", "1")
    assert message.correlation_key == "c42:j9001:s1"
    assert message.in_reply_to == ("CA5f0e3a1b2c4d6e8f90a1b2c3d4e5f6a7",)
    assert message.dedupe_key == "twilio_voice:in:CA5f0e3a1b2c4d6e8f90a1b2c3d4e5f6a7:gather"
    assert message.received_at == ARRIVED


def test_speech_becomes_text_without_payload() -> None:
    [message] = parse_gather(_form("gather-speech.form"), received_at=ARRIVED)
    assert (message.text, message.payload) == ("Sí, confirmo el pedido.", None)


def test_nothing_pressed_means_no_message_and_inbound_calls_use_from() -> None:
    assert parse_gather(_form("gather-empty.form"), received_at=ARRIVED) == []
    inbound = [(n, "inbound" if n == "Direction" else v) for n, v in _form("gather-digits.form")]
    [message] = parse_gather(inbound, received_at=ARRIVED)
    assert message.sender == "+15017122661"


def test_gather_reply_thanks_in_the_call_language() -> None:
    root = _parse(render_gather_reply({"key": "k", "lang": "es-ES"}, "Gracias <3"))
    assert [(e.tag, e.get("language"), e.text) for e in root] == [
        ("Say", "es-ES", "Gracias <3"),
        ("Hangup", None, None),
    ]
    default = _parse(render_gather_reply({}))
    assert default[0].get("language") == "en-US"
    assert urlsplit(URL).query == "key=c42%3Aj9001%3As1"

"""Send answers classified from realistic payloads, in agreement with the catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.channels.base import SendAccepted, SendRetryable, SendTerminal, SendUnknown
from herald.channels.http import HttpAnswer
from herald.channels.whatsapp.classify import (
    PAIR_RATE_RETRY_SECONDS,
    classify_send_answer,
    retry_after_seconds,
)
from herald.domain.error_catalog.whatsapp import ENTRIES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "whatsapp"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _classify(status: int, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return classify_send_answer(HttpAnswer(status, headers or {}, body), now=NOW)


def _error(code: Any, **extra: Any) -> bytes:
    return json.dumps({"error": {"message": f"(#{code}) x", "code": code, **extra}}).encode()


def test_accepted_answer_carries_the_wamid_and_status() -> None:
    result = _classify(200, _fixture("send_accepted.json"))
    assert result == SendAccepted("wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI1RkE0QjY3", "accepted")


def test_pair_rate_limit_waits_for_that_recipient() -> None:
    result = _classify(400, _fixture("send_error_131056.json"))
    assert isinstance(result, SendRetryable)
    assert result.failure.code == "131056"
    assert result.failure.title == "(Business Account, Consumer Account) pair rate limit hit"
    assert result.failure.detail is not None and "same phone number" in result.failure.detail
    assert result.failure.http_status == 400
    assert result.retry_after_seconds == PAIR_RATE_RETRY_SECONDS


def test_throughput_limit_is_retryable() -> None:
    result = _classify(429, _fixture("send_error_130429.json"))
    assert isinstance(result, SendRetryable)
    assert result.failure.code == "130429"
    assert result.retry_after_seconds is None


def test_expired_token_is_an_integration_fault() -> None:
    result = _classify(401, _fixture("send_error_190.json"))
    assert isinstance(result, SendTerminal)
    assert result.integration_fault
    assert result.failure.code == "190"
    assert result.failure.title.startswith("Error validating access token")


@pytest.mark.parametrize(
    "name, code", [("send_error_132001.json", "132001"), ("send_error_100.json", "100")]
)
def test_request_errors_are_terminal_for_the_contact(name: str, code: str) -> None:
    result = _classify(400, _fixture(name))
    assert isinstance(result, SendTerminal)
    assert not result.integration_fault
    assert result.failure.code == code


def test_unknown_phone_number_id_is_an_integration_fault() -> None:
    result = _classify(400, _error(100, error_subcode=33, type="GraphMethodException"))
    assert isinstance(result, SendTerminal) and result.integration_fault


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.code)
def test_classification_agrees_with_the_catalog(entry: Any) -> None:
    for status in (400, 500):  # the code decides, whatever the HTTP status
        result = _classify(status, _error(int(entry.code)))
        if entry.is_retryable:
            assert isinstance(result, SendRetryable)
        else:
            assert isinstance(result, SendTerminal)
            assert result.integration_fault == entry.is_integration_fault
        assert result.failure.code == entry.code


def test_codes_given_as_strings_are_read() -> None:
    assert isinstance(_classify(400, _error("131056")), SendRetryable)


@pytest.mark.parametrize("code", ["1", "131000"])
def test_unknown_errors_get_only_a_few_tries(code: str) -> None:
    result = _classify(500, _error(int(code)))
    assert isinstance(result, SendRetryable)
    assert result.max_attempts == 3
    assert _classify(400, _error(130429)).max_attempts is None


@pytest.mark.parametrize(
    "status, extra, expected",
    [
        (400, {"is_transient": True}, SendRetryable),
        (503, {}, SendRetryable),
        (429, {}, SendRetryable),
        (400, {}, SendTerminal),
    ],
)
def test_uncatalogued_codes_fall_back_on_transience_hints(
    status: int, extra: dict[str, Any], expected: type
) -> None:
    assert isinstance(_classify(status, _error(987654, **extra)), expected)


def test_uncatalogued_code_with_401_is_an_integration_fault() -> None:
    result = _classify(401, _error(987654))
    assert isinstance(result, SendTerminal) and result.integration_fault


def test_retry_after_is_honoured_for_any_retryable_answer() -> None:
    result = _classify(429, _fixture("send_error_130429.json"), {"Retry-After": "7"})
    assert isinstance(result, SendRetryable) and result.retry_after_seconds == 7.0
    result = _classify(400, _fixture("send_error_131056.json"), {"retry-after": "20"})
    assert isinstance(result, SendRetryable) and result.retry_after_seconds == 20.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds({"Retry-After": "12"}, NOW) == 12.0
    assert retry_after_seconds({"retry-after": "Mon, 10 Mar 2025 12:00:30 GMT"}, NOW) == 30.0
    assert retry_after_seconds({"Retry-After": "Mon, 10 Mar 2025 11:00:00 GMT"}, NOW) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}, NOW) is None
    assert retry_after_seconds({}, NOW) is None


@pytest.mark.parametrize(
    "status, body",
    [
        (200, b"<html>gateway</html>"),
        (200, b""),
        (200, b'{"messaging_product": "whatsapp"}'),
        (200, b'{"messages": [{"message_status": "accepted"}]}'),
        (200, b'{"messages": [{"id": ""}]}'),
        (200, b'{"messages": [{"id": "wamid.trunc'),
        (201, b"[]"),
    ],
)
def test_unreadable_success_is_unknown_not_resent(status: int, body: bytes) -> None:
    result = _classify(status, body)
    assert isinstance(result, SendUnknown)
    assert str(status) in result.reason


@pytest.mark.parametrize(
    "status, expected, fault",
    [
        (502, SendRetryable, False),
        (503, SendRetryable, False),
        (429, SendRetryable, False),
        (408, SendRetryable, False),
        (400, SendTerminal, False),
        (422, SendTerminal, False),
        (401, SendTerminal, True),
        (403, SendTerminal, True),
        (404, SendTerminal, True),
        (302, SendTerminal, True),
    ],
)
def test_answers_without_a_code_are_classified_by_status(
    status: int, expected: type, fault: bool
) -> None:
    result = _classify(status, b"<html>upstream error</html>", {"Retry-After": "3"})
    assert isinstance(result, expected)
    assert result.failure.code == f"http_{status}"
    if isinstance(result, SendTerminal):
        assert result.integration_fault == fault
    else:
        assert result.retry_after_seconds == 3.0


def test_error_object_without_a_code_falls_back_on_status() -> None:
    body = json.dumps({"error": {"message": "boom", "code": None}}).encode()
    assert isinstance(_classify(500, body), SendRetryable)
    assert isinstance(_classify(200, body), SendUnknown)


@given(status=st.integers(100, 599), body=st.binary(max_size=200))
def test_any_answer_gets_exactly_one_classification(status: int, body: bytes) -> None:
    result = _classify(status, body)
    assert isinstance(result, SendAccepted | SendRetryable | SendTerminal | SendUnknown)
    if 200 <= status < 300 and b'"code"' not in body:
        assert isinstance(result, SendAccepted | SendUnknown)


@given(code=st.integers(0, 10_000_000), status=st.sampled_from([200, 400, 401, 429, 500]))
def test_a_code_always_wins_over_a_success_status(code: int, status: int) -> None:
    result = _classify(status, _error(code))
    assert isinstance(result, SendRetryable | SendTerminal)
    assert result.failure.code == str(code)

"""What a round of sends says about an integration's health."""

from __future__ import annotations

import pytest

from herald.channels.base import (
    ProviderFailure,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.domain.channels import IntegrationKind
from herald.engine.integration_health import summarise
from herald.engine.results import is_throttle

SMS = IntegrationKind.INFOBIP_SMS


def _retry(code: str, status: int | None) -> SendRetryable:
    return SendRetryable(ProviderFailure(SMS, code, "title", http_status=status))


@pytest.mark.parametrize(
    ("results", "health", "reason_part"),
    [
        ([SendAccepted("1"), _retry("E500", 503)], "healthy", None),
        ([_retry("E500", 503), _retry("E500", 503)], "unhealthy", "HTTP 503 (E500) × 2"),
        ([_retry("request_not_sent", None)], "unhealthy", "request_not_sent × 1"),
        ([SendUnknown("no answer within 30 s")], "unhealthy", "no answer: no answer within 30 s"),
        ([_retry("E429", 429), _retry("E429", 429)], "degraded", "throttling: HTTP 429 (E429) × 2"),
        (
            [SendTerminal(ProviderFailure(SMS, "401", "bad key", http_status=401), True)],
            "unhealthy",
            "401 (bad key) × 1",
        ),
        # A definite answer about the message (invalid number) proves the provider works.
        ([SendTerminal(ProviderFailure(SMS, "EC_INVALID", "invalid number"))], "healthy", None),
    ],
)
def test_round_verdicts(results: list[SendResult], health: str, reason_part: str | None) -> None:
    verdict = summarise((1, result) for result in results)[1].verdict()
    assert verdict is not None
    assert verdict[0] == health
    if reason_part is None:
        assert verdict[1] is None
    else:
        assert verdict[1] is not None and reason_part in verdict[1]


def test_rounds_are_kept_per_integration() -> None:
    rounds = summarise([(1, SendAccepted("a")), (2, _retry("E500", 500))])
    assert rounds[1].verdict() == ("healthy", None)
    verdict = rounds[2].verdict()
    assert verdict is not None and verdict[0] == "unhealthy"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (IntegrationKind.WHATSAPP, "not_sent"),
        (IntegrationKind.INFOBIP_SMS, "CONNECTION_ERROR"),
        (IntegrationKind.TWILIO_VOICE, "CONNECTION_ERROR"),
        (IntegrationKind.EMAIL_SMTP, "connection_failed"),
    ],
)
def test_an_unreachable_provider_is_waited_for_not_blamed_on_the_contact(
    kind: IntegrationKind, code: str
) -> None:
    """Each client's "could not connect" code counts as throttling (a large retry
    budget, no fallback) and marks the integration unhealthy."""
    failure = ProviderFailure(kind, code, "cannot connect")
    assert is_throttle(failure)
    verdict = summarise([(1, SendRetryable(failure))])[1].verdict()
    assert verdict is not None and verdict[0] == "unhealthy"

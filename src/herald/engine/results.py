"""A provider's answer to a send, as a journey event, a message row and a log line.

Retryable answers are split into throttling (the provider asks us to slow
down or is unavailable — not the contact's fault, so a large retry budget)
and errors (something about this send failed — a few attempts, then the
next fallback). Integration faults (bad credentials, suspended account) are
throttling too: the contact waits while the integration is marked unhealthy
and the user fixes it, instead of every contact failing one by one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from herald.channels.base import (
    ProviderFailure,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.domain.journey_events import (
    JourneyEvent,
    SendOutcomeUnknown,
    SendRejectedRetryable,
    SendRejectedTerminal,
)
from herald.domain.journey_events import SendAccepted as Accepted
from herald.engine.batch import PendingSend

# The provider could not be reached at all (the request never left): waiting
# is right, the contact is not at fault. Each client names it its own way.
UNREACHABLE_CODES = frozenset(
    {
        "connection_failed",  # SMTP
        "connection_error",
        "CONNECTION_ERROR",  # Infobip, Twilio (channels.send_outcome)
        "not_sent",  # WhatsApp
        "request_not_sent",
    }
)
# Provider codes meaning "too fast" or "try later", whatever the HTTP status.
THROTTLE_CODES = (
    frozenset(
        {
            "130429",  # WhatsApp throughput limit
            "131056",  # WhatsApp pair rate limit
            "80007",  # WhatsApp WABA rate limit
            "4",  # WhatsApp app-level rate limit
            "131057",  # WhatsApp account in maintenance
            "20429",  # Twilio too many requests
            "E429",  # Infobip throttled
        }
    )
    | UNREACHABLE_CODES
)
INTEGRATION_FAULT_RETRY = timedelta(minutes=1)


def is_throttle(failure: ProviderFailure) -> bool:
    status = failure.http_status
    return failure.code in THROTTLE_CODES or status == 429 or (status is not None and status >= 500)


def result_effects(
    send: PendingSend, result: SendResult, now: datetime
) -> tuple[JourneyEvent, dict[str, Any], dict[str, Any]]:
    """(journey event, message row update, timeline entry) for one answer."""
    base = {"key": send.message.key, "status_at": now, "from_statuses": ["pending"]}
    log: dict[str, Any] = {"kind": "", "step": send.step, "channel": send.channel}
    match result:
        case SendAccepted():
            message = base | {
                "status": "accepted",
                "provider_message_id": result.provider_message_id,
                "sent_at": now,
            }
            log |= {"kind": "accepted", "provider_message_id": result.provider_message_id}
            event: JourneyEvent = Accepted(send.step, send.attempt, result.provider_message_id)
        case SendRetryable():
            message = base | _failure_columns(result.failure) | {"status": "retry_wait"}
            log |= {
                "kind": "retry",
                "error_code": result.failure.code,
                "detail": result.failure.title,
            }
            retry_after = (
                None
                if result.retry_after_seconds is None
                else timedelta(seconds=result.retry_after_seconds)
            )
            event = SendRejectedRetryable(
                send.step,
                send.attempt,
                result.failure.code,
                retry_after,
                is_throttle=is_throttle(result.failure),
            )
        case SendTerminal() if result.integration_fault:
            message = base | _failure_columns(result.failure) | {"status": "retry_wait"}
            log |= {
                "kind": "integration_fault",
                "error_code": result.failure.code,
                "detail": result.failure.title,
            }
            event = SendRejectedRetryable(
                send.step,
                send.attempt,
                result.failure.code,
                INTEGRATION_FAULT_RETRY,
                is_throttle=True,
            )
        case SendTerminal():
            message = base | _failure_columns(result.failure) | {"status": "rejected"}
            log |= {
                "kind": "rejected",
                "error_code": result.failure.code,
                "detail": result.failure.title,
            }
            event = SendRejectedTerminal(send.step, send.attempt, result.failure.code)
        case SendUnknown():
            message = base | {"status": "unknown", "sent_at": now, "error_detail": result.reason}
            log |= {"kind": "unknown", "detail": result.reason}
            event = SendOutcomeUnknown(send.step, send.attempt)
    return event, message, log


def _failure_columns(failure: ProviderFailure) -> dict[str, Any]:
    return {
        "error_code": failure.code,
        "error_title": failure.title,
        "error_detail": failure.detail,
    }

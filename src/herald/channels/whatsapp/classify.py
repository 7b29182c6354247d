"""Every answer to a send, classified into one :data:`SendResult`.

The Graph API error ``code`` decides, through the WhatsApp error catalog, so
the catalog and the classification cannot disagree. The HTTP status is only
a fallback for answers without a readable code (Meta's status for a given
code is not stable: 131056 is seen as 400 and as 429)::

    answer has error.code ─── catalogued ── retryable        → SendRetryable
            │                    │         ├─ integration fault → SendTerminal(integration_fault)
            │                    │         └─ otherwise         → SendTerminal
            │                    │    (100 with subcode 33, unknown object: integration fault)
            │                    └ not catalogued: is_transient / 5xx / 429 → retryable,
            │                                      401 / 403 → integration fault, else terminal
            └── no code ── 2xx with messages[0].id → SendAccepted
                         ├─ 2xx unreadable → SendUnknown (the message may have gone)
                         └─ by HTTP status as above
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from herald.channels.base import (
    ProviderFailure,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.channels.http import HttpAnswer
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry
from herald.domain.error_catalog.whatsapp import ENTRIES

_CATALOG: dict[str, ErrorEntry] = {entry.code: entry for entry in ENTRIES}
# Codes worth a few tries only: Meta cannot say whether they are transient.
LIMITED_RETRY_ATTEMPTS = {"1": 3, "131000": 3}
# Meta's guide for the pair rate limit: about one message per 6 s per person.
PAIR_RATE_RETRY_SECONDS = 6.0
# Graph's "object does not exist or cannot be loaded" (code 100): wrong phone number id.
MISSING_OBJECT_SUBCODE = 33
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
_CONFIG_STATUSES = frozenset({401, 403, 404, 405})


def classify_send_answer(answer: HttpAnswer, *, now: datetime) -> SendResult:
    """Classify one answer to ``POST .../messages``; ``now`` reads HTTP-date Retry-After."""
    data = _json_or_none(answer.body)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and _code_of(error) is not None:
        return _classify_error(error, answer, now)
    if 200 <= answer.status < 300:
        return _accepted(data, answer)
    return _classify_status(answer, now, data)


def _classify_error(error: Mapping[str, Any], answer: HttpAnswer, now: datetime) -> SendResult:
    code = _code_of(error)
    assert code is not None
    failure = ProviderFailure(
        provider=IntegrationKind.WHATSAPP,
        code=code,
        title=_title(error, code),
        detail=_details(error),
        http_status=answer.status,
    )
    if code == "100" and error.get("error_subcode") == MISSING_OBJECT_SUBCODE:
        # The phone number id does not exist or the token cannot see it: a
        # configuration fault that would fail every send the same way.
        return SendTerminal(failure, integration_fault=True)
    entry = _CATALOG.get(code)
    if entry is not None:
        if entry.is_retryable:
            return _retryable(failure, answer, now)
        return SendTerminal(failure, integration_fault=entry.is_integration_fault)
    if error.get("is_transient") is True or _is_transient_status(answer.status):
        return _retryable(failure, answer, now)
    return SendTerminal(failure, integration_fault=answer.status in _CONFIG_STATUSES)


def _retryable(failure: ProviderFailure, answer: HttpAnswer, now: datetime) -> SendRetryable:
    retry_after = retry_after_seconds(answer.headers, now)
    if retry_after is None and failure.code == "131056":
        retry_after = PAIR_RATE_RETRY_SECONDS
    return SendRetryable(
        failure,
        retry_after_seconds=retry_after,
        max_attempts=LIMITED_RETRY_ATTEMPTS.get(failure.code),
    )


def _accepted(data: Any, answer: HttpAnswer) -> SendResult:
    message = _first_message(data)
    message_id = message.get("id") if message else None
    if not isinstance(message_id, str) or not message_id:
        excerpt = answer.body[:200].decode("utf-8", errors="replace")
        return SendUnknown(
            f"HTTP {answer.status} without a readable message id (it may have been sent): "
            f"{excerpt!r}"
        )
    status = message.get("message_status") if message else None
    return SendAccepted(message_id, status if isinstance(status, str) else None)


def _classify_status(answer: HttpAnswer, now: datetime, data: Any) -> SendResult:
    failure = ProviderFailure(
        provider=IntegrationKind.WHATSAPP,
        code=f"http_{answer.status}",
        title=f"HTTP {answer.status} without a WhatsApp error code",
        detail=_excerpt(answer.body, data),
        http_status=answer.status,
    )
    if _is_transient_status(answer.status):
        return _retryable(failure, answer, now)
    is_config = answer.status in _CONFIG_STATUSES or 300 <= answer.status < 400
    return SendTerminal(failure, integration_fault=is_config)


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now`` (delta-seconds or HTTP-date), or None."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def _is_transient_status(status: int) -> bool:
    return status == 429 or status == 408 or 500 <= status < 600


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _code_of(error: Mapping[str, Any]) -> str | None:
    code = error.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return str(code)
    if isinstance(code, str) and code.strip().isdigit():
        return code.strip()
    return None


def _title(error: Mapping[str, Any], code: str) -> str:
    for key in ("error_user_title", "title", "message"):
        value = error.get(key)
        if isinstance(value, str) and value.strip():
            return _CODE_PREFIX.sub("", value.strip()) or value.strip()
    entry = _CATALOG.get(code)
    return entry.title if entry else f"WhatsApp error {code}"


def _details(error: Mapping[str, Any]) -> str | None:
    error_data = error.get("error_data")
    if isinstance(error_data, dict):
        details = error_data.get("details")
        if isinstance(details, str) and details:
            return details
    message = error.get("message")
    return message if isinstance(message, str) and message else None


def _first_message(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    messages = data.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return messages[0]
    return None


def _excerpt(body: bytes, data: Any) -> str | None:
    if not body:
        return None
    if data is not None:
        return json.dumps(data)[:300]
    return body[:300].decode("utf-8", errors="replace")

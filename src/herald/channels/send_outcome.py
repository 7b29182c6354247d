"""From a catalogued provider code to a send result, and transport errors to results.

The error catalog is the single source of what a code means for sending:
``is_retryable`` → :class:`SendRetryable`, ``is_integration_fault`` →
:class:`SendTerminal` with ``integration_fault=True``, anything else → a
plain :class:`SendTerminal`. Clients that classify through
:func:`result_for_failure` therefore always agree with the catalog, and a code
the catalog does not know is treated as a terminal failure for the contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from herald.channels.base import ProviderFailure, SendRetryable, SendTerminal, SendUnknown
from herald.channels.http import HttpAnswer, OutcomeUnknownError, ProviderHttp, RequestNotSentError
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorCatalog, build_catalog

CONNECTION_ERROR = "CONNECTION_ERROR"


@cache
def error_catalog() -> ErrorCatalog:
    """The process-wide catalog, built once on first use."""
    return build_catalog()


def provider_failure(
    provider: IntegrationKind,
    code: str,
    *,
    detail: str | None = None,
    http_status: int | None = None,
    title: str | None = None,
) -> ProviderFailure:
    """A failure titled from the catalog (``title`` is the fallback for unknown codes)."""
    entry = error_catalog().find(provider, code)
    chosen = entry.title if entry is not None else (title or f"{provider} error {code}")
    return ProviderFailure(provider, code, chosen, detail, http_status)


def result_for_failure(
    failure: ProviderFailure, *, retry_after_seconds: float | None = None
) -> SendRetryable | SendTerminal:
    entry = error_catalog().describe(failure.provider, failure.code)
    if entry.is_retryable:
        return SendRetryable(failure, retry_after_seconds)
    return SendTerminal(failure, integration_fault=entry.is_integration_fault)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is ignored (no clock here)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value.strip())
            except ValueError:
                return None
            return seconds if seconds >= 0 else None
    return None


async def request_or_result(
    http: ProviderHttp,
    provider: IntegrationKind,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    json: Any = None,
    data: Any = None,
) -> HttpAnswer | SendRetryable | SendUnknown:
    """The provider's answer, or the send result a transport failure stands for.

    Not sent at all → retryable (``CONNECTION_ERROR``); sent but unanswered →
    unknown, which the engine never resends.
    """
    try:
        return await http.request(method, url, headers=headers, json=json, data=data)
    except RequestNotSentError as exc:
        return SendRetryable(provider_failure(provider, CONNECTION_ERROR, detail=str(exc)))
    except OutcomeUnknownError as exc:
        return SendUnknown(str(exc))

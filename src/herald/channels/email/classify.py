"""What an SMTP answer means for the journey: pure functions, no I/O.

The reply code's first digit decides between retryable (4) and terminal
(5); *where* in the transaction the answer came decides whose fault it is::

    phase      4xx          5xx
    CONNECT    retryable    terminal, integration fault (no mail service there)
    AUTH       retryable    terminal, integration fault (535 bad credentials)
    MAIL       retryable    terminal, integration fault (our sender refused)
    RCPT       retryable    terminal for this contact (5.1.1 no such mailbox),
                            unless the catalog marks the code as ours (5.7.26)
    DATA       retryable    terminal for this contact (content refused),
                            same exception

The failure code is the enhanced status code (``5.1.1``) when the server
sent one, the reply code (``550``) otherwise, so the catalog explains it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from herald.channels.base import ProviderFailure, SendResult, SendRetryable, SendTerminal
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorCatalog
from herald.domain.error_catalog.smtp import ENTRIES

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)")
CATALOG = ErrorCatalog(ENTRIES)
KIND = IntegrationKind.EMAIL_SMTP


class Phase(StrEnum):
    CONNECT = "connect"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"


_OUR_PHASES = frozenset({Phase.CONNECT, Phase.AUTH, Phase.MAIL})


def enhanced_code(text: str) -> str | None:
    """``"5.1.1 <a@b>: User unknown"`` → ``"5.1.1"``; None without one."""
    match = _ENHANCED.match(text)
    return ".".join(match.groups()) if match else None


def failure(code: str, detail: str | None = None) -> ProviderFailure:
    """A failure titled from the catalog (uncatalogued codes say so)."""
    entry = CATALOG.describe(KIND, code)
    return ProviderFailure(provider=KIND, code=code, title=entry.title, detail=detail)


def classify_reply(reply_code: int, text: str, phase: Phase) -> SendResult:
    """Classify a non-success SMTP reply received during ``phase``."""
    if reply_code < 400 or reply_code > 599:
        raise ValueError(f"reply {reply_code} is not a failure")
    detail = f"{reply_code} {text}".strip()
    code = enhanced_code(text) or str(reply_code)
    if reply_code < 500:
        return SendRetryable(failure(code, detail))
    if phase is Phase.MAIL:
        return SendTerminal(failure("sender_refused", detail), integration_fault=True)
    entry = CATALOG.find(KIND, code)
    is_ours = phase in _OUR_PHASES or (entry is not None and entry.is_integration_fault)
    return SendTerminal(failure(code, detail), integration_fault=is_ours)


def retryable(code: str, detail: str) -> SendRetryable:
    return SendRetryable(failure(code, detail))


def integration_fault(code: str, detail: str) -> SendTerminal:
    return SendTerminal(failure(code, detail), integration_fault=True)

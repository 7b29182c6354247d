"""SMTP answers → send results, in agreement with the SMTP error catalog."""

from __future__ import annotations

import pytest

from herald.channels.base import SendRetryable, SendTerminal
from herald.channels.email.classify import Phase, classify_reply, enhanced_code
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry, build_catalog
from herald.domain.error_catalog.smtp import ENTRIES


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("5.1.1 <ana@example.org>: Recipient address rejected", "5.1.1"),
        ("4.7.1 Greylisted, try again", "4.7.1"),
        ("5.7.26 Unauthenticated email is not accepted", "5.7.26"),
        ("5.1.10 RESOLVER.ADR.RecipientNotFound", "5.1.10"),
        ("Recipient address rejected", None),
        ("5.1.1234 nonsense", None),
    ],
)
def test_enhanced_code_is_read_from_the_reply_text(text: str, code: str | None) -> None:
    assert enhanced_code(text) == code


@pytest.mark.parametrize(
    ("reply", "text", "phase", "kind", "code", "is_fault"),
    [
        (550, "5.1.1 <ana@example.org>: User unknown", Phase.RCPT, SendTerminal, "5.1.1", False),
        (550, "Mailbox unavailable", Phase.RCPT, SendTerminal, "550", False),
        (552, "5.2.2 Mailbox full", Phase.RCPT, SendTerminal, "5.2.2", False),
        (451, "4.7.1 Greylisted", Phase.RCPT, SendRetryable, "4.7.1", False),
        (421, "Service not available", Phase.MAIL, SendRetryable, "421", False),
        (452, "4.3.1 Insufficient system storage", Phase.DATA, SendRetryable, "4.3.1", False),
        (554, "5.7.1 Message rejected as spam", Phase.DATA, SendTerminal, "5.7.1", False),
        (550, "5.7.26 Unauthenticated email", Phase.DATA, SendTerminal, "5.7.26", True),
        (535, "5.7.8 Authentication credentials invalid", Phase.AUTH, SendTerminal, "5.7.8", True),
        (535, "Authentication failed", Phase.AUTH, SendTerminal, "535", True),
        (454, "4.7.0 Temporary authentication failure", Phase.AUTH, SendRetryable, "4.7.0", False),
        (553, "5.7.1 Sender address rejected", Phase.MAIL, SendTerminal, "sender_refused", True),
        (554, "No SMTP service here", Phase.CONNECT, SendTerminal, "554", True),
    ],
)
def test_replies_are_classified_by_class_and_phase(
    reply: int, text: str, phase: Phase, kind: type, code: str, is_fault: bool
) -> None:
    result = classify_reply(reply, text, phase)
    assert isinstance(result, kind)
    assert isinstance(result, SendRetryable | SendTerminal)
    assert result.failure.code == code
    assert result.failure.detail == f"{reply} {text}"
    assert result.failure.provider is IntegrationKind.EMAIL_SMTP
    if isinstance(result, SendTerminal):
        assert result.integration_fault is is_fault


def test_success_codes_are_not_failures() -> None:
    with pytest.raises(ValueError, match="not a failure"):
        classify_reply(250, "OK", Phase.DATA)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.code[0] in "45"], ids=lambda e: e.code)
def test_classification_agrees_with_the_catalog(entry: ErrorEntry) -> None:
    """Every catalogued SMTP code, answered at RCPT, is classified as the catalog says."""
    reply = int(entry.code) if entry.code.isdigit() else (451 if entry.code[0] == "4" else 550)
    text = "" if entry.code.isdigit() else f"{entry.code} detail"
    result = classify_reply(reply, text, Phase.RCPT)
    assert isinstance(result, SendRetryable | SendTerminal)
    assert result.failure.code == entry.code
    assert result.failure.title == entry.title
    assert isinstance(result, SendRetryable) is entry.is_retryable
    if isinstance(result, SendTerminal):
        assert result.integration_fault is entry.is_integration_fault


def test_smtp_entries_are_in_the_global_catalog() -> None:
    catalog = build_catalog()
    entry = catalog.find(IntegrationKind.EMAIL_SMTP, "5.1.1")
    assert entry is not None and not entry.is_retryable
    assert catalog.describe(IntegrationKind.EMAIL_SMTP, "5.9.9").title.startswith("Uncatalogued")
    codes = {e.code for e in catalog.entries(IntegrationKind.EMAIL_SMTP)}
    assert {"5.1.1", "5.1.2", "5.2.1", "5.2.2", "5.7.1", "5.7.26", "535", "4.4.7"} <= codes

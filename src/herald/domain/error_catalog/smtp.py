"""SMTP reply codes and enhanced status codes (RFC 5321, RFC 3463, RFC 7372).

An SMTP answer has a three-digit reply code (``550``) and, on servers that
speak ENHANCEDSTATUSCODES, a class.subject.detail code (``5.1.1``) that says
more precisely what went wrong. Herald files a failure under the enhanced
code when the server gave one and under the reply code otherwise; bounces
(DSNs) always carry an enhanced code in their ``Status:`` field.

The first digit decides retryability: 4 is transient, 5 is permanent. A few
codes mean our own account or domain is misconfigured (authentication, SPF,
DKIM, DMARC); those pause the integration instead of failing contacts one by
one. Codes that are not SMTP's own (``connection_failed``...) describe
failures Herald observed on the connection itself.
"""

from __future__ import annotations

from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry

_KIND = IntegrationKind.EMAIL_SMTP


def _transient(code: str, title: str, explanation: str, action: str) -> ErrorEntry:
    return ErrorEntry(_KIND, code, title, explanation, is_retryable=True, action=action)


def _permanent(code: str, title: str, explanation: str, action: str) -> ErrorEntry:
    return ErrorEntry(_KIND, code, title, explanation, is_retryable=False, action=action)


def _ours(code: str, title: str, explanation: str, action: str) -> ErrorEntry:
    """A permanent failure caused by the sending account or domain, not the recipient."""
    return ErrorEntry(
        _KIND,
        code,
        title,
        explanation,
        is_retryable=False,
        action=action,
        is_integration_fault=True,
    )


_RETRY = "Nothing to do: Herald retries with backoff."

REPLY_CODES: tuple[ErrorEntry, ...] = (
    _transient(
        "421",
        "Service not available",
        "The server is closing the connection (overload, shutdown).",
        _RETRY,
    ),
    _transient(
        "450", "Mailbox unavailable (temporary)", "The mailbox is busy or greylisted.", _RETRY
    ),
    _transient("451", "Local error in processing", "The server hit a temporary error.", _RETRY),
    _transient(
        "452",
        "Insufficient storage (temporary)",
        "The server or mailbox is out of space for now.",
        _RETRY,
    ),
    _transient(
        "454",
        "Temporary authentication failure",
        "The server cannot authenticate right now.",
        _RETRY,
    ),
    _ours(
        "530",
        "Authentication required",
        "The server refuses to send without a login.",
        "Set the username and password of the SMTP account.",
    ),
    _ours(
        "534",
        "Authentication mechanism too weak",
        "The server wants a stronger login method or TLS.",
        "Use security starttls or tls.",
    ),
    _ours(
        "535",
        "Authentication failed",
        "The server rejected the username or password.",
        "Check the SMTP username and password (an app password for some providers).",
    ),
    _permanent(
        "550",
        "Mailbox unavailable",
        "The server refused the message for this recipient.",
        "Check the address; the detail says why.",
    ),
    _permanent(
        "551",
        "User not local",
        "The server does not accept mail for this recipient.",
        "Check the address.",
    ),
    _permanent(
        "552",
        "Storage exceeded",
        "The mailbox is full or the message too large.",
        "Try another channel; shorten the message.",
    ),
    _permanent(
        "553",
        "Mailbox name not allowed",
        "The address is syntactically invalid or not allowed.",
        "Correct the address in the audience.",
    ),
    _permanent(
        "554",
        "Transaction failed",
        "The server refused the message (often policy or spam).",
        "Read the detail; check the content and sending domain.",
    ),
)

ENHANCED_CODES: tuple[ErrorEntry, ...] = (
    _transient("4.0.0", "Temporary failure", "The server gave no more precise reason.", _RETRY),
    _transient(
        "4.2.1",
        "Mailbox disabled (temporary)",
        "The mailbox does not accept mail right now.",
        _RETRY,
    ),
    _transient(
        "4.2.2",
        "Mailbox full (temporary)",
        "The recipient's mailbox is over quota for now.",
        _RETRY,
    ),
    _transient(
        "4.3.0", "Mail system problem", "The receiving system has a temporary fault.", _RETRY
    ),
    _transient("4.3.1", "Mail system full", "The receiving system is out of storage.", _RETRY),
    _transient("4.4.1", "No answer from host", "The next mail server did not answer.", _RETRY),
    _transient(
        "4.4.2", "Connection dropped", "The connection to the next server was lost.", _RETRY
    ),
    _transient("4.4.7", "Delivery time expired", "The message waited too long in a queue.", _RETRY),
    _transient(
        "4.7.0",
        "Temporary policy rejection",
        "Rate limited or temporarily blocked by policy.",
        "Lower the integration's send rate if this repeats.",
    ),
    _transient(
        "4.7.1",
        "Try again later (greylisting)",
        "The server defers unknown senders on first contact.",
        _RETRY,
    ),
    _permanent(
        "5.0.0",
        "Permanent failure",
        "The server gave no more precise reason.",
        "Read the detail from the server.",
    ),
    _permanent(
        "5.1.0",
        "Bad address",
        "Something is wrong with the recipient address.",
        "Correct the address in the audience.",
    ),
    _permanent(
        "5.1.1",
        "No such mailbox",
        "The recipient's mail server says the mailbox does not exist.",
        "Correct or remove the address; a hard bounce suppresses it.",
    ),
    _permanent(
        "5.1.2",
        "No such domain",
        "The recipient's domain does not exist or accepts no mail.",
        "Correct the domain (typo such as gmial.com?).",
    ),
    _permanent(
        "5.1.3",
        "Invalid address syntax",
        "The recipient address is not a valid email address.",
        "Correct the address in the audience.",
    ),
    _permanent(
        "5.1.6",
        "Mailbox moved",
        "The recipient has moved and left no forwarding address.",
        "Ask the contact for their new address.",
    ),
    _permanent(
        "5.1.10",
        "Domain accepts no mail",
        "The recipient's domain publishes a null MX.",
        "Remove the address.",
    ),
    _permanent(
        "5.2.1",
        "Mailbox disabled",
        "The mailbox exists but accepts no mail.",
        "Remove the address or use another channel.",
    ),
    _permanent(
        "5.2.2",
        "Mailbox full",
        "The recipient's mailbox is over quota.",
        "Use another channel; try later campaigns.",
    ),
    _permanent(
        "5.2.3",
        "Message too large for mailbox",
        "The message exceeds the recipient's size limit.",
        "Shorten the message.",
    ),
    _permanent(
        "5.3.4",
        "Message too big",
        "The message exceeds the server's size limit.",
        "Shorten the message.",
    ),
    _permanent(
        "5.4.0",
        "Routing failure",
        "The message could not be routed.",
        "Check the recipient domain.",
    ),
    _permanent(
        "5.4.1",
        "Recipient address rejected",
        "The domain's server refused the recipient (no such user or access denied).",
        "Correct or remove the address.",
    ),
    _permanent(
        "5.4.4",
        "Unable to route",
        "The recipient domain has no usable mail server.",
        "Check the recipient domain.",
    ),
    _permanent(
        "5.4.6",
        "Routing loop",
        "The message looped between servers.",
        "Check the recipient domain's forwarding.",
    ),
    _permanent(
        "5.5.0",
        "Protocol error",
        "The server did not understand a command.",
        "Report it: Herald or the server misbehaves.",
    ),
    _permanent(
        "5.7.0",
        "Policy rejection",
        "Refused for a security or policy reason.",
        "Read the detail from the server.",
    ),
    _permanent(
        "5.7.1",
        "Delivery not authorized",
        "The recipient's server refused the message by policy (blocked sender, spam, relay).",
        "Check the content, sending domain reputation and relay permissions.",
    ),
    _ours(
        "5.7.8",
        "Authentication credentials invalid",
        "The server rejected the login.",
        "Check the SMTP username and password.",
    ),
    _ours(
        "5.7.9",
        "Authentication mechanism too weak",
        "The server wants a stronger login method.",
        "Use security starttls or tls.",
    ),
    _ours(
        "5.7.23",
        "SPF validation failed",
        "The sending server is not allowed by the domain's SPF record.",
        "Add the SMTP relay to the sending domain's SPF record.",
    ),
    _ours(
        "5.7.25",
        "Reverse DNS missing",
        "The sending server's IP has no matching PTR record.",
        "Use a relay with proper reverse DNS.",
    ),
    _ours(
        "5.7.26",
        "Sender not authenticated (DMARC)",
        "The message failed SPF and DKIM alignment for the From domain.",
        "Set up DKIM signing and SPF for the From domain.",
    ),
    _ours(
        "5.7.27",
        "Sender domain accepts no mail",
        "The From domain publishes a null MX, so bounces cannot return.",
        "Use a From domain that receives mail.",
    ),
)

# Failures Herald observes itself rather than codes a server sent.
CONNECTION_CODES: tuple[ErrorEntry, ...] = (
    _transient(
        "connection_failed",
        "Cannot connect to the SMTP server",
        "The connection was refused, reset or timed out before anything was sent.",
        "Check host and port if it persists; Herald retries.",
    ),
    _transient(
        "timeout",
        "SMTP server too slow",
        "The server did not answer a command in time before the message was handed over.",
        _RETRY,
    ),
    _transient(
        "disconnected",
        "Connection lost",
        "The server closed the connection before the message was handed over.",
        _RETRY,
    ),
    _ours(
        "tls_failed",
        "TLS negotiation failed",
        "STARTTLS or TLS failed (certificate not trusted, wrong port for the security mode).",
        "Check the security mode and port (587 starttls, 465 tls) and the server certificate.",
    ),
    _ours(
        "auth_unsupported",
        "Server offers no login",
        "Credentials are set but the server offers no AUTH (often because TLS is off).",
        "Use security starttls or tls, or remove the credentials for a relay.",
    ),
    _ours(
        "sender_refused",
        "Sender address refused",
        "The server refused our envelope sender (MAIL FROM).",
        "Check the from and bounce addresses are allowed for this account.",
    ),
    _permanent(
        "smtputf8_unsupported",
        "Internationalized address not supported",
        "The address has non-ASCII characters and the server cannot carry them.",
        "Use an ASCII address for this contact.",
    ),
)

ENTRIES: tuple[ErrorEntry, ...] = REPLY_CODES + ENHANCED_CODES + CONNECTION_CODES

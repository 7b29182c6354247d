"""Twilio Voice codes: REST API errors of call creation and call outcomes.

Numeric codes come from the REST API's error body (``{"code": 21211, ...}``)
or a status callback's ``ErrorCode``. Calls that end without being answered
have no code of their own; Herald names them by their final ``CallStatus``
(``busy``, ``no-answer``, ``failed``, ``canceled``), and a completed call
that reached voicemail, when the integration does not count voicemail as
delivered, by ``machine`` (``fax`` for a fax tone).

The send classification of :mod:`herald.channels.twilio` is driven by this
table: ``is_retryable`` → retry later, ``is_integration_fault`` → pause the
integration, anything else → fail the step for this contact.
"""

from __future__ import annotations

from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry

_KIND = IntegrationKind.TWILIO_VOICE


def _entry(
    code: str,
    title: str,
    explanation: str,
    action: str,
    *,
    retry: bool = False,
    fault: bool = False,
    reasons: tuple[str, ...] = (),
) -> ErrorEntry:
    return ErrorEntry(
        provider=_KIND,
        code=code,
        title=title,
        explanation=explanation,
        is_retryable=retry,
        action=action,
        possible_reasons=reasons,
        is_integration_fault=fault,
    )


_FIX_NUMBER = "Fix the contact's phone number (E.164 with country code, e.g. +34600111222)."

_API_ENTRIES = (
    _entry(
        "20003",
        "Authentication failed",
        "Twilio did not accept the Account SID and Auth Token.",
        "Copy the Account SID and Auth Token from the Twilio console into the integration.",
        fault=True,
    ),
    _entry(
        "20404",
        "Resource not found",
        "The account or endpoint does not exist at the configured API base URL.",
        "Check the Account SID and the API base URL.",
        fault=True,
    ),
    _entry(
        "20429",
        "Too many requests",
        "Too many concurrent API requests for the account.",
        "Nothing: Herald retries after the delay Twilio asks for.",
        retry=True,
    ),
    _entry(
        "20500",
        "Twilio server error",
        "Twilio failed to process the request (HTTP 5xx).",
        "Nothing: Herald retries with backoff.",
        retry=True,
    ),
    _entry(
        "20503",
        "Twilio unavailable",
        "Twilio's API is temporarily unavailable.",
        "Nothing: Herald retries with backoff.",
        retry=True,
    ),
    _entry(
        "21205",
        "Invalid call instructions",
        "The call request had no valid Url, Twiml or ApplicationSid.",
        "Report it: Herald builds the instructions itself.",
        fault=True,
    ),
    _entry(
        "21210",
        "Caller ID not verified",
        "The caller ID is neither a Twilio number of the account nor a verified caller ID.",
        "Buy or verify the number in the Twilio console, or change the integration's caller ID.",
        fault=True,
    ),
    _entry(
        "21211",
        "Invalid 'To' number",
        "The number called is not a valid phone number.",
        _FIX_NUMBER,
    ),
    _entry(
        "21212",
        "Invalid caller ID",
        "The caller ID is not a valid phone number.",
        "Set the integration's caller ID to an E.164 number of the account.",
        fault=True,
    ),
    _entry(
        "21214",
        "Number cannot be reached",
        "The number called cannot be reached by Twilio.",
        "Use another channel for this contact.",
    ),
    _entry(
        "21215",
        "Country not enabled",
        "The account's Geo Permissions do not allow calls to this country or prefix.",
        "Enable the destination in the Twilio console (Voice → Settings → Geo Permissions).",
        fault=True,
    ),
    _entry(
        "21216",
        "Number not allowed",
        "The account is not allowed to call this number (e.g. premium-rate ranges).",
        "Use another channel for this contact.",
    ),
    _entry(
        "21217",
        "Number not valid",
        "The number called does not appear to be a valid phone number.",
        _FIX_NUMBER,
    ),
    _entry(
        "21219",
        "Number not verified (trial)",
        "Trial accounts can only call verified numbers.",
        "Upgrade the Twilio account or verify the number in the console.",
        fault=True,
    ),
    _entry(
        "21609",
        "Invalid status callback URL",
        "Twilio refused Herald's status callback URL.",
        "Set Herald's public base URL to an address Twilio can reach over HTTPS.",
        fault=True,
    ),
    _entry(
        "12100",
        "Call instructions unreadable",
        "Twilio could not parse the call's TwiML.",
        "Report it: Herald builds the TwiML itself.",
        fault=True,
    ),
    _entry(
        "13224",
        "Number invalid for calling",
        "The number is not E.164, has a nonexistent prefix, or no carrier routes to it.",
        _FIX_NUMBER,
    ),
    _entry(
        "13227",
        "No international authorization",
        "The account is not authorized to call this country.",
        "Enable the destination in the Twilio console's Geo Permissions.",
        fault=True,
    ),
    _entry(
        "CONNECTION_ERROR",
        "Twilio unreachable",
        "Herald could not connect to Twilio; the request was not sent.",
        "Nothing: Herald retries with backoff; check the API base URL if it persists.",
        retry=True,
    ),
)

_MOVE_ON = "Herald moves the contact to the next fallback step."

_OUTCOME_ENTRIES = (
    _entry(
        "busy",
        "Line busy",
        "The callee's line was busy.",
        _MOVE_ON,
        retry=True,
    ),
    _entry(
        "no-answer",
        "No answer",
        "The phone rang until the ring timeout without being answered.",
        _MOVE_ON + " A longer ring timeout may help.",
        retry=True,
    ),
    _entry(
        "failed",
        "Call failed",
        "Twilio could not place the call (invalid or unroutable number, carrier error).",
        _MOVE_ON,
        reasons=("number does not exist", "carrier rejected the call", "network error"),
    ),
    _entry(
        "canceled",
        "Call canceled",
        "The call was canceled before it was answered.",
        _MOVE_ON,
    ),
    _entry(
        "machine",
        "Answered by voicemail",
        "An answering machine took the call; the integration does not count voicemail as "
        "delivered.",
        _MOVE_ON + " Allow voicemail in the integration to count it as delivered.",
    ),
    _entry(
        "fax",
        "Answered by a fax",
        "A fax machine answered, so nobody heard the message.",
        _MOVE_ON,
    ),
)

ENTRIES: tuple[ErrorEntry, ...] = (*_API_ENTRIES, *_OUTCOME_ENTRIES)

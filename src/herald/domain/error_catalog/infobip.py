"""Infobip SMS codes: status groups, status names, DLR error names, request errors.

Herald's failure code for Infobip is always a *name* (``REJECTED_DESTINATION``,
``EC_UNKNOWN_SUBSCRIBER``, ``UNAUTHORIZED``), never the numeric id, because
ids of statuses and errors overlap (status 5 and error 5 mean different
things). A delivery report that carries a real error (id ≠ 0) is reported
with the error's name, which is the more precise of the two; otherwise with
the status name, or the group name when the status name is missing.

The wire tables (:data:`STATUSES`, :data:`ERRORS`) give the numeric ids and
groups for each name, so the sandbox can build faithful status and error
objects and the parsers can name codes that arrive with ids only.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry

_KIND = IntegrationKind.INFOBIP_SMS


@dataclass(frozen=True)
class StatusCode:
    group_id: int
    group_name: str
    id: int


@dataclass(frozen=True)
class ErrorCode:
    group_id: int
    group_name: str
    id: int
    is_permanent: bool


STATUS_GROUPS: dict[int, str] = {
    0: "ACCEPTED",
    1: "PENDING",
    2: "UNDELIVERABLE",
    3: "DELIVERED",
    4: "EXPIRED",
    5: "REJECTED",
}

STATUSES: dict[str, StatusCode] = {
    "PENDING_WAITING_DELIVERY": StatusCode(1, "PENDING", 3),
    "PENDING_ENROUTE": StatusCode(1, "PENDING", 7),
    "PENDING_ACCEPTED": StatusCode(1, "PENDING", 26),
    "UNDELIVERABLE_REJECTED_OPERATOR": StatusCode(2, "UNDELIVERABLE", 4),
    "UNDELIVERABLE_NOT_DELIVERED": StatusCode(2, "UNDELIVERABLE", 9),
    "UNDELIVERABLE_NOT_SENT": StatusCode(2, "UNDELIVERABLE", 31),
    "DELIVERED_TO_OPERATOR": StatusCode(3, "DELIVERED", 2),
    "DELIVERED_TO_HANDSET": StatusCode(3, "DELIVERED", 5),
    "EXPIRED_EXPIRED": StatusCode(4, "EXPIRED", 15),
    "EXPIRED_DLR_UNKNOWN": StatusCode(4, "EXPIRED", 29),
    "REJECTED_NETWORK": StatusCode(5, "REJECTED", 6),
    "REJECTED_PREFIX_MISSING": StatusCode(5, "REJECTED", 8),
    "REJECTED_DND": StatusCode(5, "REJECTED", 10),
    "REJECTED_SOURCE": StatusCode(5, "REJECTED", 11),
    "REJECTED_NOT_ENOUGH_CREDITS": StatusCode(5, "REJECTED", 12),
    "REJECTED_SENDER": StatusCode(5, "REJECTED", 13),
    "REJECTED_DESTINATION_BLOCKLISTED": StatusCode(5, "REJECTED", 14),
    "REJECTED_DESTINATION_NOT_REGISTERED": StatusCode(5, "REJECTED", 18),
    "REJECTED_ROUTE_NOT_AVAILABLE": StatusCode(5, "REJECTED", 19),
    "REJECTED_FLOODING_FILTER": StatusCode(5, "REJECTED", 20),
    "REJECTED_SYSTEM_ERROR": StatusCode(5, "REJECTED", 21),
    "REJECTED_DUPLICATE_MESSAGE_ID": StatusCode(5, "REJECTED", 23),
    "REJECTED_MESSAGE_TOO_LONG": StatusCode(5, "REJECTED", 25),
    "MISSING_TO": StatusCode(5, "REJECTED", 51),
    "REJECTED_DESTINATION": StatusCode(5, "REJECTED", 52),
}

ERROR_GROUPS: dict[int, str] = {
    0: "OK",
    1: "HANDSET_ERRORS",
    2: "USER_ERRORS",
    3: "OPERATOR_ERRORS",
}

ERRORS: dict[str, ErrorCode] = {
    "NO_ERROR": ErrorCode(0, "OK", 0, False),
    "EC_UNKNOWN_SUBSCRIBER": ErrorCode(1, "HANDSET_ERRORS", 1, True),
    "EC_ABSENT_SUBSCRIBER_SM": ErrorCode(1, "HANDSET_ERRORS", 6, False),
    "EC_ILLEGAL_SUBSCRIBER": ErrorCode(1, "HANDSET_ERRORS", 9, True),
    "EC_TELESERVICE_NOT_PROVISIONED": ErrorCode(1, "HANDSET_ERRORS", 11, True),
    "EC_CALL_BARRED": ErrorCode(1, "HANDSET_ERRORS", 13, False),
    "EC_ABSENT_SUBSCRIBER": ErrorCode(1, "HANDSET_ERRORS", 27, False),
    "EC_SM_DELIVERY_FAILURE": ErrorCode(1, "HANDSET_ERRORS", 32, False),
    "EC_SM_DF_MEMORYCAPACITYEXCEEDED": ErrorCode(1, "HANDSET_ERRORS", 256, False),
    "EC_INVALID_DESTINATION_ADDRESS": ErrorCode(3, "OPERATOR_ERRORS", 351, False),
    "EC_USER_OUT_OF_CREDIT": ErrorCode(2, "USER_ERRORS", 581, False),
    "EC_CONTENT_BLOCKED": ErrorCode(2, "USER_ERRORS", 603, True),
    "EC_REJECTED_SPAM_BY_OPERATOR": ErrorCode(3, "OPERATOR_ERRORS", 607, True),
    "EC_BLACKLISTED_DESTINATIONADDRESS": ErrorCode(3, "OPERATOR_ERRORS", 2052, True),
    "EC_DEACTIVATED_LIST": ErrorCode(3, "OPERATOR_ERRORS", 3041, True),
    "EC_MESSAGE_CANCELED": ErrorCode(3, "OPERATOR_ERRORS", 4100, True),
    "EC_VALIDITY_EXPIRED": ErrorCode(3, "OPERATOR_ERRORS", 4101, True),
    "EC_DESTINATION_FLOODING": ErrorCode(3, "OPERATOR_ERRORS", 4103, True),
    "EC_DESTINATION_TXT_FLOODING": ErrorCode(3, "OPERATOR_ERRORS", 4104, True),
}


def status_name_for_id(status_id: int) -> str | None:
    """The status name for a numeric id, for payloads that carry ids only."""
    return next((name for name, code in STATUSES.items() if code.id == status_id), None)


def error_name_for_id(error_id: int) -> str | None:
    return next((name for name, code in ERRORS.items() if code.id == error_id), None)


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


_FALLBACK = "Herald moves the contact to the next fallback step."

_GROUP_ENTRIES = (
    _entry(
        "UNDELIVERABLE",
        "Undeliverable",
        "The operator could not deliver the message and gave no more precise status.",
        _FALLBACK,
    ),
    _entry(
        "EXPIRED",
        "Expired",
        "No final delivery report arrived within the validity period.",
        _FALLBACK,
    ),
    _entry(
        "REJECTED",
        "Rejected by Infobip",
        "Infobip refused the message before sending it to an operator.",
        "Check the destination number and the account's routing in the Infobip portal.",
    ),
)

_STATUS_ENTRIES = (
    _entry(
        "UNDELIVERABLE_REJECTED_OPERATOR",
        "Rejected by the operator",
        "The mobile operator refused the message (content filtering, unsupported sender, "
        "or the number cannot receive SMS).",
        _FALLBACK,
    ),
    _entry(
        "UNDELIVERABLE_NOT_DELIVERED",
        "Not delivered",
        "The operator accepted the message but the handset never received it; the error "
        "object of the report usually says why.",
        _FALLBACK,
    ),
    _entry(
        "UNDELIVERABLE_NOT_SENT",
        "Not sent",
        "Infobip could not send the message to the operator.",
        _FALLBACK,
    ),
    _entry(
        "EXPIRED_EXPIRED",
        "Validity period elapsed",
        "The handset stayed unreachable (off, no coverage) until the message's validity "
        "period ran out.",
        _FALLBACK,
    ),
    _entry(
        "EXPIRED_DLR_UNKNOWN",
        "Delivery unknown",
        "The operator never reported whether the message was delivered.",
        _FALLBACK,
    ),
    _entry(
        "REJECTED_NETWORK",
        "Network not covered",
        "The destination's network is not covered by the account's routes.",
        "Ask Infobip to enable the destination network.",
    ),
    _entry(
        "REJECTED_PREFIX_MISSING",
        "Country prefix missing",
        "The number has no valid international prefix.",
        "Fix the contact's phone number (E.164, with country code).",
    ),
    _entry(
        "REJECTED_DND",
        "Do-not-disturb list",
        "The number is on a do-not-disturb register (e.g. India's DND).",
        "Do not message this number for promotional traffic.",
    ),
    _entry(
        "REJECTED_SOURCE",
        "Invalid sender address",
        "The sender (alphanumeric name or number) is not valid for this account.",
        "Change the integration's sender to one registered in the Infobip portal.",
        fault=True,
    ),
    _entry(
        "REJECTED_NOT_ENOUGH_CREDITS",
        "Not enough credit",
        "The Infobip account has no balance left.",
        "Top up the Infobip account; Herald pauses the integration until then.",
        fault=True,
    ),
    _entry(
        "REJECTED_SENDER",
        "Sender not allowed",
        "The sender is blocked or not registered for the destination country.",
        "Register the sender ID with Infobip for the destination countries.",
        fault=True,
    ),
    _entry(
        "REJECTED_DESTINATION_BLOCKLISTED",
        "Destination blocklisted",
        "The number is on the account's or Infobip's blocklist.",
        "Remove the number from the audience or from the blocklist.",
    ),
    _entry(
        "REJECTED_DESTINATION_NOT_REGISTERED",
        "Destination not registered",
        "On a trial account only registered numbers can receive messages.",
        "Register the number in the Infobip portal or upgrade the account.",
    ),
    _entry(
        "REJECTED_ROUTE_NOT_AVAILABLE",
        "No route",
        "The account has no route to the destination.",
        "Ask Infobip to enable routing to this destination.",
    ),
    _entry(
        "REJECTED_FLOODING_FILTER",
        "Flooding filter",
        "Too many messages to this number in a short time (default: 20 different or 6 "
        "identical per hour).",
        "Send fewer messages to the same number.",
    ),
    _entry(
        "REJECTED_SYSTEM_ERROR",
        "Infobip system error",
        "Infobip rejected the message because of an internal error.",
        "Contact Infobip support if it happens repeatedly.",
    ),
    _entry(
        "REJECTED_DUPLICATE_MESSAGE_ID",
        "Duplicate message id",
        "A message with the same id was already submitted. Herald derives the id from the "
        "journey step, so this refuses a second send of the same step.",
        "Nothing: the first submission's delivery report decides the outcome.",
    ),
    _entry(
        "REJECTED_MESSAGE_TOO_LONG",
        "Message too long",
        "The text needs more than 25 parts or 4000 bytes.",
        "Shorten the message (UCS-2 characters such as emoji take twice the room).",
    ),
    _entry(
        "MISSING_TO",
        "Destination missing",
        "The request named no destination number.",
        "Fix the contact's phone number.",
    ),
    _entry(
        "REJECTED_DESTINATION",
        "Invalid destination",
        "The destination is not a valid phone number.",
        "Fix the contact's phone number (E.164, with country code).",
    ),
)

_HANDSET_LATER = "The phone may receive messages later; Herald moves on to the next fallback."

_ERROR_ENTRIES = (
    _entry(
        "EC_UNKNOWN_SUBSCRIBER",
        "Unknown subscriber",
        "The number does not exist on the mobile network.",
        "Remove or correct the number.",
        reasons=("number never assigned", "number ported and retired", "typo in the number"),
    ),
    _entry(
        "EC_ABSENT_SUBSCRIBER_SM",
        "Phone unreachable",
        "The phone is switched off or out of coverage.",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_ABSENT_SUBSCRIBER",
        "Phone unreachable",
        "The phone is switched off or out of coverage.",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_ILLEGAL_SUBSCRIBER",
        "Illegal subscriber",
        "The network refused the subscriber (failed authentication on the network).",
        "Remove the number.",
    ),
    _entry(
        "EC_TELESERVICE_NOT_PROVISIONED",
        "SMS not provisioned",
        "The subscription cannot receive SMS (data-only SIM, landline).",
        "Use another channel for this contact.",
    ),
    _entry(
        "EC_CALL_BARRED",
        "Barred",
        "The operator barred the subscriber from receiving messages (e.g. unpaid bills).",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_SM_DELIVERY_FAILURE",
        "Delivery failure",
        "The handset or network failed to take the message.",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_SM_DF_MEMORYCAPACITYEXCEEDED",
        "Inbox full",
        "The phone's message memory is full.",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_INVALID_DESTINATION_ADDRESS",
        "Invalid destination address",
        "The operator considers the destination address invalid.",
        "Check the number's format and country code.",
        retry=True,
    ),
    _entry(
        "EC_USER_OUT_OF_CREDIT",
        "Recipient out of credit",
        "The recipient's prepaid balance is too low to receive (roaming, premium).",
        _HANDSET_LATER,
        retry=True,
    ),
    _entry(
        "EC_CONTENT_BLOCKED",
        "Recipient opted out",
        "The recipient replied STOP to this sender (North American carriers block further "
        "messages).",
        "Treat the contact as opted out of SMS.",
    ),
    _entry(
        "EC_REJECTED_SPAM_BY_OPERATOR",
        "Blocked as spam",
        "The operator's filter classified the message as spam.",
        "Review the content and the sender registration.",
    ),
    _entry(
        "EC_BLACKLISTED_DESTINATIONADDRESS",
        "Destination blacklisted",
        "The operator blocks messages to this number.",
        "Remove the number from the audience.",
    ),
    _entry(
        "EC_DEACTIVATED_LIST",
        "Number deactivated",
        "The number was deactivated by its operator.",
        "Remove the number from the audience.",
    ),
    _entry(
        "EC_MESSAGE_CANCELED",
        "Message canceled",
        "The message was canceled before delivery.",
        _FALLBACK,
    ),
    _entry(
        "EC_VALIDITY_EXPIRED",
        "Validity period elapsed",
        "The message could not be delivered before its validity period ended.",
        _FALLBACK,
    ),
    _entry(
        "EC_DESTINATION_FLOODING",
        "Flooding filter",
        "Too many messages to this number in a short time.",
        "Send fewer messages to the same number.",
    ),
    _entry(
        "EC_DESTINATION_TXT_FLOODING",
        "Identical-text flooding filter",
        "Too many identical messages to this number in a short time.",
        "Vary the text or send less often.",
    ),
)

# Request-level answers. Herald names them by HTTP status because the body
# comes in two shapes (legacy ``requestError`` and ``errorCode``/``violations``)
# whose codes are not stable; the body's own code is kept in the detail.
_REQUEST_ENTRIES = (
    _entry(
        "BAD_REQUEST",
        "Request refused",
        "Infobip refused the request as invalid; the detail lists the fields at fault.",
        "Check the contact's number and the message text.",
    ),
    _entry(
        "UNAUTHORIZED",
        "Invalid API key",
        "Infobip did not accept the API key.",
        "Create a new API key in the Infobip portal and update the integration.",
        fault=True,
    ),
    _entry(
        "FORBIDDEN",
        "API key lacks permission",
        "The API key is valid but has no permission (scope) to send SMS.",
        "Give the API key the 'sms:message:send' scope or use another key.",
        fault=True,
    ),
    _entry(
        "NOT_FOUND",
        "Wrong base URL",
        "The endpoint does not exist at the configured base URL.",
        "Copy your personal base URL from the Infobip portal into the integration.",
        fault=True,
    ),
    _entry(
        "TOO_MANY_REQUESTS",
        "Throttled",
        "Infobip throttled the account's requests.",
        "Nothing: Herald retries later; lower the integration's rate limit if it persists.",
        retry=True,
    ),
    _entry(
        "GENERAL_ERROR",
        "Infobip server error",
        "Infobip failed to process the request (HTTP 5xx).",
        "Nothing: Herald retries with backoff.",
        retry=True,
    ),
    _entry(
        "CONNECTION_ERROR",
        "Infobip unreachable",
        "Herald could not connect to Infobip; the request was not sent.",
        "Nothing: Herald retries with backoff; check the base URL if it persists.",
        retry=True,
    ),
)

ENTRIES: tuple[ErrorEntry, ...] = (
    *_GROUP_ENTRIES,
    *_STATUS_ENTRIES,
    *_ERROR_ENTRIES,
    *_REQUEST_ENTRIES,
)

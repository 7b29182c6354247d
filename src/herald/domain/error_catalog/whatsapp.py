"""WhatsApp Cloud API error codes (Meta Graph API), explained.

Meta may report a code synchronously (the send's error body) or later in a
``failed`` status webhook, so every entry is written to make sense on both
paths. ``is_retryable`` says whether re-sending the same request later can
succeed; ``is_integration_fault`` marks problems with our account, token,
permissions or billing: every send through the integration would fail the
same way, so the integration is paused instead of contacts being failed one
by one.

Codes 200 to 299 are Graph API permission errors, one code per permission;
they share one explanation and are generated below.
"""

from __future__ import annotations

from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import ErrorEntry

_WA = IntegrationKind.WHATSAPP

UNDELIVERABLE_REASONS = (
    "The number is not registered on WhatsApp.",
    "The person has not accepted WhatsApp's current Terms of Service.",
    "The person uses an outdated version of WhatsApp.",
    "The person blocked the business (Meta does not say so explicitly).",
    "Authentication templates are not allowed for the recipient's country (e.g. India).",
)


def _entry(
    code: str,
    title: str,
    explanation: str,
    action: str,
    *,
    retryable: bool = False,
    integration_fault: bool = False,
    reasons: tuple[str, ...] = (),
) -> ErrorEntry:
    return ErrorEntry(
        provider=_WA,
        code=code,
        title=title,
        explanation=explanation,
        is_retryable=retryable,
        action=action,
        possible_reasons=reasons,
        is_integration_fault=integration_fault,
    )


_FIX_CREDENTIALS = "Check the access token and the app's permissions, then re-test the connection."

_ACCOUNT = (
    _entry(
        "0",
        "Authentication exception",
        "Meta could not authenticate the request with the configured access token.",
        _FIX_CREDENTIALS,
        integration_fault=True,
    ),
    _entry(
        "3",
        "API method not allowed",
        "The app lacks the capability to call this endpoint (e.g. WhatsApp product not added).",
        "Add the WhatsApp product to the app and grant whatsapp_business_messaging.",
        integration_fault=True,
    ),
    _entry(
        "10",
        "Permission denied",
        "The token does not carry the permission this call needs, or it was revoked.",
        _FIX_CREDENTIALS,
        integration_fault=True,
    ),
    _entry(
        "190",
        "Access token expired or invalid",
        "The access token has expired, was revoked, or is not a valid token at all.",
        "Generate a new (preferably system-user) token, update the integration, re-test it.",
        integration_fault=True,
    ),
    _entry(
        "368",
        "Temporarily blocked for policy violations",
        "Meta blocked the WhatsApp Business Account for violating its messaging policies.",
        "Review the account's policy notices in WhatsApp Manager; sending is paused until lifted.",
        integration_fault=True,
    ),
    _entry(
        "131005",
        "Access denied",
        "The token is not allowed to send from this phone number.",
        _FIX_CREDENTIALS,
        integration_fault=True,
    ),
    _entry(
        "131031",
        "Business account locked",
        "The WhatsApp Business Account is restricted or disabled (policy or verification).",
        "Resolve the restriction in WhatsApp Manager or with Meta support.",
        integration_fault=True,
    ),
    _entry(
        "131042",
        "Business eligibility payment issue",
        "Meta refused the message because of a problem with the account's payment method.",
        "Fix the payment method or credit line in Meta Business settings.",
        integration_fault=True,
    ),
    _entry(
        "131045",
        "Phone number not registered",
        "The sending phone number is not (or no longer) registered with the Cloud API.",
        "Register the number with the Cloud API (two-step PIN) and re-test the connection.",
        integration_fault=True,
    ),
    _entry(
        "131048",
        "Spam rate limit hit",
        "Too many recipients blocked or reported this number; Meta limits what it may send.",
        "Cut volume, improve message relevance and opt-in quality; resume later.",
        integration_fault=True,
    ),
)

_TRANSIENT = (
    _entry(
        "1",
        "Unknown API error",
        "Meta reported an unspecified failure, possibly on its side.",
        "Herald retries a few times with backoff; if it persists, check Meta's status page.",
        retryable=True,
    ),
    _entry(
        "2",
        "API service unavailable",
        "The WhatsApp API is temporarily down or overloaded.",
        "Herald retries with backoff; nothing to change.",
        retryable=True,
    ),
    _entry(
        "4",
        "Application request limit reached",
        "The app made too many API calls in a short time.",
        "Herald retries later; lower the integration's rate limit if this recurs.",
        retryable=True,
    ),
    _entry(
        "80007",
        "Business account rate limit reached",
        "The WhatsApp Business Account made too many API calls.",
        "Herald retries later; lower the integration's rate limit if this recurs.",
        retryable=True,
    ),
    _entry(
        "130429",
        "Throughput limit reached",
        "The number exceeded its messages-per-second throughput (80/s by default).",
        "Herald backs off and retries; lower the integration's rate limit if this recurs.",
        retryable=True,
    ),
    _entry(
        "131000",
        "Something went wrong",
        "Meta failed to send the message for an unknown reason.",
        "Herald retries a few times; if it persists, check Meta's status page.",
        retryable=True,
    ),
    _entry(
        "131016",
        "Service unavailable",
        "A WhatsApp service is temporarily unavailable.",
        "Herald retries with backoff; nothing to change.",
        retryable=True,
    ),
    _entry(
        "131056",
        "Pair rate limit hit",
        "Too many messages went to the same person in a short time (about one per 6 s).",
        "Herald waits before retrying this recipient only; other contacts are unaffected.",
        retryable=True,
    ),
    _entry(
        "131057",
        "Account in maintenance mode",
        "The business account is in maintenance (e.g. a throughput upgrade in progress).",
        "Herald retries later; nothing to change.",
        retryable=True,
    ),
)

_RECIPIENT = (
    _entry(
        "131026",
        "Message undeliverable",
        "WhatsApp could not deliver the message to this person; Meta never says why.",
        "Reach the contact on another channel (the journey's fallback does so).",
        reasons=UNDELIVERABLE_REASONS,
    ),
    _entry(
        "131047",
        "Re-engagement message",
        "More than 24 hours passed since the person last wrote, so free-form text is refused.",
        "Send an approved template instead; free-form text needs a reply within 24 hours.",
    ),
    _entry(
        "470",
        "Re-engagement message (legacy)",
        "Older code for a free-form message outside the 24-hour customer service window.",
        "Send an approved template instead.",
    ),
    _entry(
        "131049",
        "Not delivered to maintain ecosystem health",
        "Meta chose not to deliver this marketing message (per-person limits or engagement).",
        "Fall back to another channel; do not retry on WhatsApp for at least 24 hours.",
    ),
    _entry(
        "131050",
        "Marketing messages stopped by the person",
        "The person chose to stop receiving marketing messages from this business.",
        "Treat as a marketing opt-out; do not send them marketing templates.",
    ),
    _entry(
        "130472",
        "Number is part of an experiment",
        "Meta withheld this marketing message because the number is in a Meta experiment.",
        "Reach the contact on another channel.",
    ),
    _entry(
        "131030",
        "Recipient not in allowed list",
        "A test number may only message up to five pre-registered recipients.",
        "Add the recipient in the app dashboard, or use a production number.",
    ),
    _entry(
        "131021",
        "Recipient cannot be sender",
        "The message was addressed to the business number itself.",
        "Fix the contact's phone number.",
    ),
    _entry(
        "131051",
        "Unsupported message type",
        "The message type is not supported (or the person sent one WhatsApp cannot relay).",
        "Send a supported type (text, template, media, interactive).",
    ),
    _entry(
        "131052",
        "Media download error",
        "Media the person sent could not be downloaded.",
        "Ask the person to send the media again if it matters.",
    ),
    _entry(
        "131053",
        "Media upload error",
        "Our media (header image, document...) was unreachable or of an unsupported type.",
        "Check the media URL is public over HTTPS and of a supported type and size.",
    ),
)

_REQUEST = (
    _entry(
        "100",
        "Invalid parameter",
        "A request parameter is invalid, unsupported or misspelled "
        "(sometimes also returned when the recipient is not on WhatsApp).",
        "Check the phone number and the message fields.",
    ),
    _entry(
        "131008",
        "Required parameter is missing",
        "The request lacks a parameter WhatsApp requires.",
        "Check the template's parameters and the message fields.",
    ),
    _entry(
        "131009",
        "Parameter value is not valid",
        "A parameter has a value WhatsApp does not accept (e.g. a malformed phone number).",
        "Check the contact's phone number and the template's parameter values.",
    ),
    _entry(
        "132000",
        "Template parameter count mismatch",
        "The number of parameters differs from the template's variables.",
        "Bind exactly one value per template variable in the journey step.",
    ),
    _entry(
        "132001",
        "Template does not exist",
        "No approved template with this name exists in this language.",
        "Check the template's name and language in WhatsApp Manager.",
    ),
    _entry(
        "132005",
        "Translated text too long",
        "The template's text with its parameters filled in is too long.",
        "Shorten the parameter values.",
    ),
    _entry(
        "132007",
        "Template format character policy violated",
        "The filled-in template violates WhatsApp's formatting policy.",
        "Remove forbidden characters (newlines, tabs, many spaces) from parameter values.",
    ),
    _entry(
        "132012",
        "Template parameter format mismatch",
        "A parameter has the wrong format (e.g. text where the header expects an image).",
        "Match each parameter to the template's definition.",
    ),
    _entry(
        "132015",
        "Template is paused",
        "Meta paused the template because of low quality ratings.",
        "Edit the template or wait until it is unpaused; use another template meanwhile.",
    ),
    _entry(
        "132016",
        "Template is disabled",
        "Meta disabled the template permanently after repeated pauses.",
        "Create a new template and use it in the journey.",
    ),
    _entry(
        "135000",
        "Generic user error",
        "Meta refused the request for an unspecified reason in the request itself.",
        "Check the message content and parameters.",
    ),
)

_PERMISSIONS = tuple(
    _entry(
        str(code),
        "API permission error",
        f"The token lacks the permission behind code {code} for this call.",
        _FIX_CREDENTIALS,
        integration_fault=True,
    )
    for code in range(200, 300)
)

ENTRIES: tuple[ErrorEntry, ...] = _ACCOUNT + _TRANSIENT + _RECIPIENT + _REQUEST + _PERMISSIONS

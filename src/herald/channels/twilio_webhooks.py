"""Twilio's webhooks: ``X-Twilio-Signature``, call status callbacks and gathers.

Signature (what Twilio and its SDK compute): the full URL Twilio requested,
query string included, followed by ``name + value`` of every POST parameter,
names sorted, the values of a repeated name sorted (duplicates counted once,
like the official SDK); HMAC-SHA1 keyed with the account's Auth Token,
base64. The URL is tried as given and with its default port added or
removed (``:443`` / ``:80``), because Twilio is inconsistent about it.

Herald puts its correlation key in the query string of both callback URLs
(``?key=…``); the signature covers it, so it cannot be forged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from herald.channels.base import DeliveryStatus, DeliveryUpdate, InboundMessage, ProviderFailure
from herald.channels.twiml import render_reply
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import twilio as codes
from herald.errors import ValidationError

KIND = IntegrationKind.TWILIO_VOICE
STATUS_PATH = "/webhooks/twilio/status"
GATHER_PATH = "/webhooks/twilio/gather"
SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_REPLY_TEXT = "Thank you. Goodbye."

FormParams = Mapping[str, str] | Sequence[tuple[str, str]]

_IN_PROGRESS = {"queued", "initiated", "ringing", "in-progress"}
_NOT_ANSWERED = {"busy", "no-answer", "failed", "canceled"}
_DEFAULT_PORTS = {"https": 443, "http": 80}


def _pairs(params: FormParams) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def compute_signature(url: str, params: FormParams, auth_token: str | SecretStr) -> str:
    """The ``X-Twilio-Signature`` value for a form POST to ``url``."""
    token = auth_token.get_secret_value() if isinstance(auth_token, SecretStr) else auth_token
    values: dict[str, set[str]] = {}
    for name, value in _pairs(params):
        values.setdefault(name, set()).add(value)
    payload = url + "".join(name + v for name in sorted(values) for v in sorted(values[name]))
    digest = hmac.new(token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """``url`` as given, plus the same URL with its default port toggled."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return [url]
    if default is None or not parts.hostname or port not in (None, default):
        return [url]
    userinfo, at, host_port = parts.netloc.rpartition("@")
    toggled = f"{host_port}:{default}" if port is None else host_port.rsplit(":", 1)[0]
    return [url, urlunsplit(parts._replace(netloc=userinfo + at + toggled))]


def verify_signature(
    url: str, params: FormParams, signature: str | None, auth_token: str | SecretStr
) -> bool:
    """Whether ``signature`` (the header's value) signs this request; constant-time."""
    if not signature:
        return False
    given = signature.strip().encode("ascii", "replace")
    checks = [
        hmac.compare_digest(compute_signature(u, params, auth_token).encode("ascii"), given)
        for u in _url_variants(url)
    ]
    return any(checks)


# --- status callbacks ----------------------------------------------------------------


def parse_status_callback(
    params: FormParams,
    *,
    query: Mapping[str, str] | None = None,
    received_at: datetime,
    machine_counts_as_delivered: bool = True,
) -> list[DeliveryUpdate]:
    """One call-progress event as a delivery update.

    ``completed`` is delivered, unless ``AnsweredBy`` says a machine
    answered and the integration does not count voicemail (failure code
    ``machine``), or a fax answered (``fax``). ``busy``, ``no-answer``,
    ``failed`` and ``canceled`` fail with the callback's ``ErrorCode`` when
    present, else the status itself. Earlier stages are ``sent``.
    """
    form = _form(params)
    call_sid = _required(form, "CallSid")
    call_status = _required(form, "CallStatus")
    answered_by = form.get("AnsweredBy", "")
    status, failure = _outcome(form, call_status, answered_by, machine_counts_as_delivered)
    return [
        DeliveryUpdate(
            provider=KIND,
            provider_message_id=call_sid,
            status=status,
            occurred_at=_event_time(form, received_at),
            failure=failure,
            correlation_key=(query or {}).get("key") or None,
            detail=_status_detail(form),
        )
    ]


def _outcome(
    form: dict[str, str], call_status: str, answered_by: str, machine_counts: bool
) -> tuple[DeliveryStatus, ProviderFailure | None]:
    if call_status in _IN_PROGRESS:
        return DeliveryStatus.SENT, None
    if call_status == "completed":
        if answered_by == "fax":
            return DeliveryStatus.FAILED, _failure("fax", f"AnsweredBy={answered_by}")
        if answered_by.startswith("machine") and not machine_counts:
            return DeliveryStatus.FAILED, _failure("machine", f"AnsweredBy={answered_by}")
        return DeliveryStatus.DELIVERED, None
    if call_status in _NOT_ANSWERED:
        code = form.get("ErrorCode") or call_status
        return DeliveryStatus.FAILED, _failure(code, form.get("ErrorMessage") or None)
    raise ValidationError(f"twilio: unknown CallStatus {call_status!r}", field="CallStatus")


def _failure(code: str, detail: str | None) -> ProviderFailure:
    title = next((e.title for e in codes.ENTRIES if e.code == code), f"Twilio error {code}")
    return ProviderFailure(KIND, code, title, detail)


def _status_detail(form: dict[str, str]) -> dict[str, str]:
    names = {
        "CallStatus": "call_status",
        "AnsweredBy": "answered_by",
        "CallDuration": "duration_seconds",
        "SequenceNumber": "sequence_number",
        "SipResponseCode": "sip_response_code",
        "To": "to",
    }
    return {ours: form[theirs] for theirs, ours in names.items() if form.get(theirs)}


# --- gathers -------------------------------------------------------------------------


def parse_gather(
    params: FormParams, *, query: Mapping[str, str] | None = None, received_at: datetime
) -> list[InboundMessage]:
    """The key pressed (``Digits``) or words said (``SpeechResult``) during a call.

    An empty gather (nothing pressed or said) yields no message. The sender
    is the callee: ``To`` on calls Herald placed, ``From`` on inbound calls.
    """
    form = _form(params)
    call_sid = _required(form, "CallSid")
    digits = form.get("Digits", "").strip()
    speech = form.get("SpeechResult", "").strip()
    if not digits and not speech:
        return []
    outbound = form.get("Direction", "outbound-api").startswith("outbound")
    sender = _required(form, "To" if outbound else "From")
    recipient = form.get("From" if outbound else "To", "")
    return [
        InboundMessage(
            provider=KIND,
            provider_message_id=f"{call_sid}:gather",
            sender=sender,
            recipient=recipient,
            text=digits or speech,
            received_at=received_at,
            in_reply_to=(call_sid,),
            payload=digits or None,
            correlation_key=(query or {}).get("key") or None,
        )
    ]


def render_gather_reply(query: Mapping[str, str], text: str = DEFAULT_REPLY_TEXT) -> str:
    """TwiML answering a gather request: thank the callee, in the call's language."""
    return render_reply(text, (query.get("lang") or "en-US"))


# --- readers -------------------------------------------------------------------------


def _form(params: FormParams) -> dict[str, str]:
    form: dict[str, str] = {}
    for name, value in _pairs(params):
        form.setdefault(name, value)
    return form


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ValidationError(f"twilio: parameter {name} is missing", field=name)
    return value


def _event_time(form: dict[str, str], received_at: datetime) -> datetime:
    """The callback's ``Timestamp`` (RFC 2822) when present, else when it arrived."""
    stamp = form.get("Timestamp")
    if not stamp:
        return received_at
    try:
        moment = parsedate_to_datetime(stamp)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"twilio: Timestamp {stamp!r} is not a date", field="Timestamp"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

"""Twilio Programmable Voice: settings, the call client and its answer classification.

A voice "message" is an outbound call whose inline TwiML speaks the
rendered text (``<Say>``) and, with a :class:`KeypressCapture`, gathers one
key. Herald's correlation key rides in the query string of the status
callback URL (``/webhooks/twilio/status?key=…``) and of the gather action
URL, so every callback names its journey step even when the create-call
answer was lost.

Classification of the create-call answer: HTTP 201 with a ``CA…`` sid is
accepted; an error body's ``code`` is looked up in
:mod:`herald.domain.error_catalog.twilio` (retryable → retry, e.g. 20429
with ``Retry-After``; integration fault → pause the integration, e.g. 20003
or 21210; otherwise a terminal failure for the contact, e.g. 21211); a body
without a known code is named from the HTTP status (401 → 20003,
404 → 20404, 429 → 20429, 5xx → 20500). An unreadable 2xx answer is
:class:`SendUnknown`.

The webhook side lives in :mod:`herald.channels.twilio_webhooks` and is
re-exported here.
"""

from __future__ import annotations

import base64
import re
from enum import StrEnum
from urllib.parse import urlencode

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from herald.channels.base import (
    ConnectionCheck,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendUnknown,
    VoiceContent,
)
from herald.channels.http import DEFAULT_TIMEOUT_SECONDS, HttpAnswer, ProviderHttp
from herald.channels.send_outcome import (
    error_catalog,
    provider_failure,
    request_or_result,
    result_for_failure,
    retry_after_seconds,
)
from herald.channels.twilio_webhooks import (
    GATHER_PATH,
    SIGNATURE_HEADER,
    STATUS_PATH,
    compute_signature,
    parse_gather,
    parse_status_callback,
    render_gather_reply,
    verify_signature,
)
from herald.channels.twiml import render_call
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

__all__ = [
    "GATHER_PATH",
    "SIGNATURE_HEADER",
    "STATUS_PATH",
    "MachineDetection",
    "TwilioSettings",
    "TwilioVoiceClient",
    "call_parameters",
    "classify_send_answer",
    "compute_signature",
    "create_client",
    "parse_gather",
    "parse_status_callback",
    "render_gather_reply",
    "verify_signature",
]

KIND = IntegrationKind.TWILIO_VOICE
API_VERSION = "2010-04-01"
# Only the final status matters to a journey: busy, no-answer, failed and
# canceled arrive as the "completed" event too. Asking for the intermediate
# events would triple the webhooks for nothing.
STATUS_EVENTS = ("completed",)

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class MachineDetection(StrEnum):
    """Answering machine detection asked of Twilio (billed per call when on)."""

    DISABLED = "disabled"
    ENABLE = "Enable"  # decides quickly: human / machine_start / fax / unknown
    DETECT_MESSAGE_END = "DetectMessageEnd"  # waits for the greeting's end (beep)


class TwilioSettings(BaseModel):
    """A Twilio account and caller ID, as configured in an integration.

    ``public_base_url`` is Herald's own public base URL: Twilio posts call
    progress to ``{public_base_url}/webhooks/twilio/status`` and gathered
    keys to ``{public_base_url}/webhooks/twilio/gather``.
    ``machine_counts_as_delivered`` decides whether a call answered by
    voicemail (``AnsweredBy=machine_*``, known only with machine detection
    on) counts as delivered; by default it does, because the message was
    left and the contact can hear it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(description="Account SID: AC followed by 32 hex digits")
    auth_token: SecretStr = Field(description="Auth Token of the account")
    caller_id: str = Field(description="a Twilio number or verified caller ID, E.164")
    public_base_url: str = Field(description="Herald's public base URL for callbacks")
    api_base_url: str = "https://api.twilio.com"
    machine_detection: MachineDetection = MachineDetection.DISABLED
    machine_counts_as_delivered: bool = True
    ring_timeout_seconds: int = Field(default=30, ge=5, le=600)
    rate_limit_per_second: float = Field(default=1.0, gt=0)

    @field_validator("account_sid")
    @classmethod
    def _check_account_sid(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", value):
            raise ValueError("account_sid must be 'AC' followed by 32 hexadecimal digits")
        return value

    @field_validator("auth_token")
    @classmethod
    def _check_auth_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("auth_token must not be blank")
        return value

    @field_validator("caller_id")
    @classmethod
    def _check_caller_id(cls, value: str) -> str:
        value = value.strip()
        if not _E164.fullmatch(value):
            raise ValueError("caller_id must be an E.164 number such as +15017122661")
        return value

    @field_validator("public_base_url", "api_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL without query, e.g. https://herald.example")
        return value

    def status_callback_url(self, key: str) -> str:
        return f"{self.public_base_url}{STATUS_PATH}?{urlencode({'key': key})}"

    def gather_url(self, key: str, language: str) -> str:
        return f"{self.public_base_url}{GATHER_PATH}?{urlencode({'key': key, 'lang': language})}"


def call_parameters(settings: TwilioSettings, message: OutboundMessage) -> list[tuple[str, str]]:
    """The form parameters of ``POST …/Calls.json`` for ``message``; pure."""
    content = message.content
    if not isinstance(content, VoiceContent):
        raise ValidationError(
            f"Twilio Voice sends VoiceContent, not {type(content).__name__}", field="content"
        )
    gather = settings.gather_url(message.key, content.language) if content.capture else None
    params = [
        ("To", message.to.strip()),
        ("From", settings.caller_id),
        ("Twiml", render_call(content, gather_url=gather)),
        ("StatusCallback", settings.status_callback_url(message.key)),
        ("StatusCallbackMethod", "POST"),
        *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
        ("Timeout", str(settings.ring_timeout_seconds)),
    ]
    if settings.machine_detection is not MachineDetection.DISABLED:
        params.append(("MachineDetection", settings.machine_detection.value))
    return params


# --- classification ------------------------------------------------------------------

_CODE_BY_HTTP_STATUS = {401: "20003", 404: "20404", 429: "20429", 503: "20503"}


def classify_send_answer(answer: HttpAnswer) -> SendResult:
    """Turn Twilio's answer to a create-call request into a :data:`SendResult`."""
    if 200 <= answer.status < 300:
        return _classify_created(answer)
    if answer.status < 400:
        return SendUnknown(f"Twilio answered HTTP {answer.status}, which is not a call answer")
    code, message = _error_body(answer.body)
    if code is None or error_catalog().find(KIND, code) is None:
        fallback = "20500" if answer.status >= 500 else (code or f"http-{answer.status}")
        code = _CODE_BY_HTTP_STATUS.get(answer.status, fallback)
    failure = provider_failure(KIND, code, detail=message, http_status=answer.status)
    return result_for_failure(failure, retry_after_seconds=retry_after_seconds(answer.headers))


def _classify_created(answer: HttpAnswer) -> SendResult:
    try:
        data = answer.json()
        sid = data["sid"]
    except (ValueError, KeyError, TypeError):
        return SendUnknown(f"Twilio answered HTTP {answer.status} with an unreadable body")
    if not isinstance(sid, str) or not sid.startswith("CA"):
        return SendUnknown(f"Twilio answered HTTP {answer.status} without a call sid")
    status = data.get("status")
    return SendAccepted(sid, provider_status=status if isinstance(status, str) else None)


def _error_body(body: bytes) -> tuple[str | None, str | None]:
    """The error's code and message; either may be missing from a broken body."""
    try:
        data = HttpAnswer(0, {}, body).json()
    except ValueError:
        return None, body.decode("utf-8", "replace").strip()[:300] or None
    if not isinstance(data, dict):
        return None, None
    code = data.get("code")
    message = data.get("message")
    return (
        str(code) if isinstance(code, int | str) and str(code) else None,
        message if isinstance(message, str) else None,
    )


# --- the client ----------------------------------------------------------------------


class TwilioVoiceClient:
    """Places calls through one Twilio account over a shared aiohttp session."""

    def __init__(self, settings: TwilioSettings, http: ProviderHttp) -> None:
        self._settings = settings
        self._http = http
        credentials = f"{settings.account_sid}:{settings.auth_token.get_secret_value()}"
        self._auth = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")

    @property
    def kind(self) -> IntegrationKind:
        return KIND

    @property
    def settings(self) -> TwilioSettings:
        return self._settings

    def _account_url(self, suffix: str) -> str:
        sid = self._settings.account_sid
        return f"{self._settings.api_base_url}/{API_VERSION}/Accounts/{sid}{suffix}"

    async def send(self, message: OutboundMessage) -> SendResult:
        body = urlencode(call_parameters(self._settings, message)).encode("ascii")
        headers = {
            "Authorization": self._auth,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        url = self._account_url("/Calls.json")
        answer = await request_or_result(self._http, KIND, "POST", url, headers=headers, data=body)
        if not isinstance(answer, HttpAnswer):
            return answer
        return classify_send_answer(answer)

    async def check_connection(self) -> ConnectionCheck:
        """Fetch the account resource: read-only, and fails with bad credentials."""
        headers = {"Authorization": self._auth, "Accept": "application/json"}
        url = self._account_url(".json")
        answer = await request_or_result(self._http, KIND, "GET", url, headers=headers)
        if isinstance(answer, SendUnknown):
            return ConnectionCheck(False, f"no answer from Twilio: {answer.reason}")
        if not isinstance(answer, HttpAnswer):
            return ConnectionCheck(False, f"cannot reach Twilio: {answer.failure.detail}")
        if answer.status != 200:
            code, message = _error_body(answer.body)
            code = code or _CODE_BY_HTTP_STATUS.get(answer.status, f"http-{answer.status}")
            return ConnectionCheck(False, f"{code} (HTTP {answer.status}): {message or 'refused'}")
        return _account_check(answer)


def _account_check(answer: HttpAnswer) -> ConnectionCheck:
    try:
        data = answer.json()
        status, name = data["status"], data.get("friendly_name") or data["sid"]
    except (ValueError, KeyError, TypeError):
        return ConnectionCheck(True, "connected; the credentials were accepted")
    if status != "active":
        return ConnectionCheck(False, f"account '{name}' is {status}")
    return ConnectionCheck(True, f"connected; account '{name}' is active")


def create_client(
    settings: TwilioSettings,
    session: aiohttp.ClientSession,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_in_flight: int = 200,
) -> TwilioVoiceClient:
    http = ProviderHttp(session, max_in_flight=max_in_flight, timeout_seconds=timeout_seconds)
    return TwilioVoiceClient(settings, http)

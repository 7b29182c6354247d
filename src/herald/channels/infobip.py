"""Infobip SMS: settings, the send client and the classification of its answers.

One :class:`OutboundMessage` becomes one message with one destination,
sent through ``POST /sms/3/messages`` (default) or the older
``POST /sms/2/text/advanced``. Herald's correlation key travels twice:

- as ``callbackData``, echoed verbatim in every delivery report;
- hashed into the destination's ``messageId`` (:func:`message_id_for`), so
  the provider message id is known before the answer arrives and a second
  submission of the same journey step is refused by Infobip with
  ``REJECTED_DUPLICATE_MESSAGE_ID``. That refusal is classified as
  :class:`SendUnknown`: the first submission exists and its delivery report
  decides the outcome.

Answers are classified by the status group of the message (0/1 accepted,
2/4/5 failed) and, for request errors, by HTTP status; every failure code
is a name from :mod:`herald.domain.error_catalog.infobip`.

The webhook side (secret check, delivery reports, inbound SMS) lives in
:mod:`herald.channels.infobip_webhooks` and is re-exported here.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from herald.channels.base import (
    ConnectionCheck,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendUnknown,
    SmsContent,
)
from herald.channels.http import DEFAULT_TIMEOUT_SECONDS, HttpAnswer, ProviderHttp
from herald.channels.infobip_webhooks import (
    DELIVERY_PATH,
    INBOUND_PATH,
    parse_delivery_reports,
    parse_inbound,
    verify_webhook_secret,
)
from herald.channels.send_outcome import (
    provider_failure,
    request_or_result,
    result_for_failure,
    retry_after_seconds,
)
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

__all__ = [
    "DELIVERY_PATH",
    "INBOUND_PATH",
    "InfobipApiFlavour",
    "InfobipSettings",
    "InfobipSmsClient",
    "build_request",
    "classify_send_answer",
    "create_client",
    "message_id_for",
    "parse_delivery_reports",
    "parse_inbound",
    "verify_webhook_secret",
]

KIND = IntegrationKind.INFOBIP_SMS
BALANCE_PATH = "/account/1/balance"
MAX_VALIDITY_MINUTES = 2880  # v2 caps at 48 h; the same cap keeps both flavours alike

_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 .&_-]{1,11}")
_NUMERIC_SENDER = re.compile(r"\+?[0-9]{3,15}")


class InfobipApiFlavour(StrEnum):
    V3 = "v3"  # POST /sms/3/messages
    V2 = "v2"  # POST /sms/2/text/advanced


def _http_url(value: str, field: str) -> str:
    value = value.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ValueError(f"{field} must be an http(s) URL without query, e.g. https://x.example")
    return value


class InfobipSettings(BaseModel):
    """An Infobip account and sender, as configured in an integration.

    ``base_url`` is the account's personal API base URL shown on the Infobip
    portal's home page (``https://xxxxx.api.infobip.com``). ``notify_url_base``
    is Herald's public base URL: when set, every message asks for its
    delivery report at ``{notify_url_base}/webhooks/infobip/delivery?secret=…``
    (per-message notify URLs cannot carry headers, so the shared secret rides
    in the query string).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="personal API base URL, https://xxxxx.api.infobip.com")
    api_key: SecretStr = Field(description="API key (Authorization: App …)")
    sender: str = Field(description="alphanumeric sender ID (≤ 11 characters) or a number")
    webhook_secret: SecretStr = Field(description="shared secret Herald's Infobip webhooks demand")
    api_flavour: InfobipApiFlavour = InfobipApiFlavour.V3
    validity_period_minutes: int | None = Field(default=None, ge=1, le=MAX_VALIDITY_MINUTES)
    rate_limit_per_second: float = Field(default=100.0, gt=0)
    notify_url_base: str | None = Field(default=None, description="Herald's public base URL")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _http_url(value, "base_url")

    @field_validator("notify_url_base")
    @classmethod
    def _check_notify_url_base(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, "notify_url_base")

    @field_validator("api_key")
    @classmethod
    def _check_api_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("api_key must not be blank")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("webhook_secret must be at least 16 characters (use a random one)")
        return value

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        value = value.strip()
        if _NUMERIC_SENDER.fullmatch(value):
            return value.removeprefix("+")
        if _ALPHANUMERIC_SENDER.fullmatch(value) and re.search(r"[A-Za-z]", value):
            return value
        raise ValueError(
            "sender must be a number (3 to 15 digits) or an alphanumeric ID of at most "
            "11 letters, digits, spaces or . & _ - with at least one letter"
        )

    def delivery_url(self) -> str | None:
        """Where each message asks for its delivery report, secret included."""
        if self.notify_url_base is None:
            return None
        query = urlencode({"secret": self.webhook_secret.get_secret_value()})
        return f"{self.notify_url_base}{DELIVERY_PATH}?{query}"


def message_id_for(key: str) -> str:
    """Infobip ``messageId`` for a correlation key: stable, short and URL-safe."""
    return "herald-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def build_request(
    settings: InfobipSettings, message: OutboundMessage
) -> tuple[str, dict[str, Any]]:
    """Path and JSON body that send ``message``; pure, so tests read the wire shape."""
    content = message.content
    if not isinstance(content, SmsContent):
        raise ValidationError(
            f"Infobip SMS sends SmsContent, not {type(content).__name__}", field="content"
        )
    destination = {
        "to": message.to.strip().removeprefix("+"),
        "messageId": message_id_for(message.key),
    }
    if settings.api_flavour is InfobipApiFlavour.V2:
        v2 = _v2_message(settings, message.key, content.text, destination)
        return "/sms/2/text/advanced", {"messages": [v2]}
    body = {
        "messages": [_v3_message(settings, message.key, content.text, destination)],
        "options": {"includeSmsCountInResponse": True},
    }
    return "/sms/3/messages", body


def _v3_message(
    settings: InfobipSettings, key: str, text: str, destination: dict[str, str]
) -> dict[str, Any]:
    webhooks: dict[str, Any] = {"callbackData": key}
    url = settings.delivery_url()
    if url is not None:
        webhooks["delivery"] = {"url": url, "intermediateReport": False, "notify": True}
        webhooks["contentType"] = "application/json"
    body: dict[str, Any] = {
        "sender": settings.sender,
        "destinations": [destination],
        "content": {"text": text},
        "webhooks": webhooks,
    }
    if settings.validity_period_minutes is not None:
        body["options"] = {
            "validityPeriod": {"amount": settings.validity_period_minutes, "timeUnit": "MINUTES"}
        }
    return body


def _v2_message(
    settings: InfobipSettings, key: str, text: str, destination: dict[str, str]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": settings.sender,
        "destinations": [destination],
        "text": text,
        "callbackData": key,
    }
    url = settings.delivery_url()
    if url is not None:
        body |= {"notifyUrl": url, "notifyContentType": "application/json"}
        body["intermediateReport"] = False
    if settings.validity_period_minutes is not None:
        body["validityPeriod"] = settings.validity_period_minutes
    return body


# --- classification ------------------------------------------------------------------

_CODE_BY_HTTP_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
}
_ACCEPTED_GROUPS = {0, 1, 3}
_FAILED_GROUPS = {2: "UNDELIVERABLE", 4: "EXPIRED", 5: "REJECTED"}
DUPLICATE_MESSAGE_ID = "REJECTED_DUPLICATE_MESSAGE_ID"


def classify_send_answer(answer: HttpAnswer) -> SendResult:
    """Turn Infobip's answer to a one-message send into a :data:`SendResult`."""
    if 200 <= answer.status < 300:
        return _classify_success(answer)
    if answer.status >= 400:
        fallback = "GENERAL_ERROR" if answer.status >= 500 else "BAD_REQUEST"
        code = _CODE_BY_HTTP_STATUS.get(answer.status, fallback)
        failure = provider_failure(
            KIND, code, detail=request_error_text(answer.body), http_status=answer.status
        )
        return result_for_failure(failure, retry_after_seconds=retry_after_seconds(answer.headers))
    return SendUnknown(f"Infobip answered HTTP {answer.status}, which is not a send answer")


def _classify_success(answer: HttpAnswer) -> SendResult:
    try:
        item = answer.json()["messages"][0]
        message_id = item["messageId"]
        status = item["status"]
        group = status["groupId"]
    except (ValueError, KeyError, IndexError, TypeError):
        return SendUnknown(f"Infobip answered HTTP {answer.status} with an unreadable body")
    if not isinstance(message_id, str) or not isinstance(group, int):
        return SendUnknown("Infobip's answer lacks a message id or status group")
    name = status.get("name") if isinstance(status.get("name"), str) else None
    if group in _ACCEPTED_GROUPS:
        return SendAccepted(message_id, provider_status=name, segments=_segments(item))
    if name == DUPLICATE_MESSAGE_ID:
        return SendUnknown(
            f"Infobip already has message {message_id}: this journey step was submitted before"
        )
    if group not in _FAILED_GROUPS:
        return SendUnknown(f"Infobip answered with unknown status group {group}")
    code = name or _FAILED_GROUPS[group]
    detail = status.get("description") if isinstance(status.get("description"), str) else None
    failure = provider_failure(KIND, code, detail=detail, http_status=answer.status)
    return result_for_failure(failure)


def _segments(item: dict[str, Any]) -> int | None:
    details = item.get("details")
    count = details.get("messageCount") if isinstance(details, dict) else item.get("smsCount")
    return count if isinstance(count, int) else None


def request_error_text(body: bytes) -> str | None:
    """The explanation inside either error body shape, field errors included."""
    try:
        data = HttpAnswer(0, {}, body).json()
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300] or None
    if not isinstance(data, dict):
        return None
    legacy = data.get("requestError")
    exception = legacy.get("serviceException") if isinstance(legacy, dict) else None
    parts = _legacy_parts(exception) if isinstance(exception, dict) else _current_parts(data)
    return "; ".join(p for p in parts if p) or None


def _legacy_parts(exception: dict[str, Any]) -> list[str]:
    parts = [f"{exception.get('messageId', '')}: {exception.get('text', '')}".strip(": ")]
    problems = exception.get("validationErrors")
    if isinstance(problems, dict):
        for field, texts in problems.items():
            listed = texts if isinstance(texts, list) else [texts]
            parts.append(f"{field} {', '.join(str(t) for t in listed)}")
    return parts


def _current_parts(data: dict[str, Any]) -> list[str]:
    parts = [f"{data.get('errorCode', '')}: {data.get('description', '')}".strip(": ")]
    violations = data.get("violations")
    for violation in violations if isinstance(violations, list) else []:
        if isinstance(violation, dict):
            parts.append(f"{violation.get('property', '?')} {violation.get('violation', '')}")
    return parts


# --- the client ----------------------------------------------------------------------


class InfobipSmsClient:
    """Sends SMS through one Infobip account over a shared aiohttp session."""

    def __init__(self, settings: InfobipSettings, http: ProviderHttp) -> None:
        self._settings = settings
        self._http = http

    @property
    def kind(self) -> IntegrationKind:
        return KIND

    @property
    def settings(self) -> InfobipSettings:
        return self._settings

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"App {self._settings.api_key.get_secret_value()}",
            "Accept": "application/json",
        }

    async def send(self, message: OutboundMessage) -> SendResult:
        path, body = build_request(self._settings, message)
        answer = await request_or_result(
            self._http,
            KIND,
            "POST",
            self._settings.base_url + path,
            headers=self._headers(),
            json=body,
        )
        if not isinstance(answer, HttpAnswer):
            return answer
        return classify_send_answer(answer)

    async def check_connection(self) -> ConnectionCheck:
        """Read the account balance: cheap, read-only, and needs a valid key."""
        url = self._settings.base_url + BALANCE_PATH
        answer = await request_or_result(self._http, KIND, "GET", url, headers=self._headers())
        if isinstance(answer, SendUnknown):
            return ConnectionCheck(False, f"no answer from Infobip: {answer.reason}")
        if not isinstance(answer, HttpAnswer):
            return ConnectionCheck(False, f"cannot reach Infobip: {answer.failure.detail}")
        if answer.status == 200:
            return ConnectionCheck(True, _balance_text(answer))
        code = _CODE_BY_HTTP_STATUS.get(answer.status, f"HTTP {answer.status}")
        reason = request_error_text(answer.body)
        return ConnectionCheck(
            False, f"{code} (HTTP {answer.status})" + (f": {reason}" if reason else "")
        )


def _balance_text(answer: HttpAnswer) -> str:
    try:
        data = answer.json()
        return f"connected; balance {data['balance']} {data['currency']}"
    except (ValueError, KeyError, TypeError):
        return "connected; the API key was accepted"


def create_client(
    settings: InfobipSettings,
    session: aiohttp.ClientSession,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_in_flight: int = 200,
) -> InfobipSmsClient:
    http = ProviderHttp(session, max_in_flight=max_in_flight, timeout_seconds=timeout_seconds)
    return InfobipSmsClient(settings, http)

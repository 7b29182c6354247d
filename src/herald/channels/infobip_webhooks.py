"""Infobip's webhooks: the shared-secret check, delivery reports and inbound SMS.

Infobip does not sign webhooks. Herald protects its two Infobip URLs with a
shared secret, accepted in any of three places (whichever the account can
configure):

- ``?secret=…`` in the URL: the only option for per-message notify URLs,
  which Herald sets on every send when the integration has a notify URL base;
- ``Authorization: Basic …`` whose *password* is the secret (user name
  ignored): for URLs registered in the portal's subscriptions or number
  forwarding with basic authentication;
- an ``X-Herald-Webhook-Secret: …`` header: for subscriptions with custom
  headers.

Every comparison is constant-time. Parsers are pure: raw body in, typed
events out, :class:`herald.errors.ValidationError` naming the offending
field for anything malformed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from herald.channels.base import DeliveryStatus, DeliveryUpdate, InboundMessage, ProviderFailure
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import infobip as codes
from herald.errors import ValidationError

KIND = IntegrationKind.INFOBIP_SMS
DELIVERY_PATH = "/webhooks/infobip/delivery"
INBOUND_PATH = "/webhooks/infobip/inbound"
SECRET_HEADER = "X-Herald-Webhook-Secret"  # noqa: S105 - a header name, not a secret

_FAILED_GROUPS = {2, 4, 5}
_DELIVERED = (3, 5)  # group DELIVERED, status DELIVERED_TO_HANDSET


def verify_webhook_secret(
    secret: str | SecretStr, *, headers: Mapping[str, str], query: Mapping[str, str]
) -> bool:
    """Whether the request carries the shared secret in any accepted place."""
    expected = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not expected:
        return False
    candidates = [query.get("secret")]
    for name, value in headers.items():
        if name.lower() == SECRET_HEADER.lower():
            candidates.append(value)
        elif name.lower() == "authorization":
            candidates.append(_basic_password(value))
    matches = [hmac.compare_digest(c.encode(), expected.encode()) for c in candidates if c]
    return any(matches)


def _basic_password(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, separator, password = decoded.partition(":")
    return password if separator else None


def basic_authorization(secret: str, user: str = "herald") -> str:
    """The ``Authorization`` header value that carries ``secret`` as the password."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")


# --- delivery reports ----------------------------------------------------------------


def parse_delivery_reports(raw_body: bytes) -> list[DeliveryUpdate]:
    """Delivery reports of ``/sms/3`` and ``/sms/2`` sends (both shapes) as updates."""
    results = _results(raw_body, "delivery report")
    return [_delivery_update(item, f"results[{i}]") for i, item in enumerate(results)]


def _delivery_update(item: dict[str, Any], where: str) -> DeliveryUpdate:
    message_id = _text(item, "messageId", where)
    status = _object(item, "status", where)
    group = _integer(status, "groupId", f"{where}.status")
    status_name = _status_name(status)
    error = item.get("error") if isinstance(item.get("error"), dict) else None
    mapped, failure = _map_status(group, status, status_name, error)
    callback = item.get("callbackData")
    return DeliveryUpdate(
        provider=KIND,
        provider_message_id=message_id,
        status=mapped,
        occurred_at=_report_time(item, where),
        failure=failure,
        correlation_key=callback if isinstance(callback, str) and callback else None,
        detail=_report_detail(item, status, status_name, error),
    )


def _map_status(
    group: int, status: dict[str, Any], status_name: str | None, error: dict[str, Any] | None
) -> tuple[DeliveryStatus, ProviderFailure | None]:
    if (group, status.get("id")) == _DELIVERED or status_name == "DELIVERED_TO_HANDSET":
        return DeliveryStatus.DELIVERED, None
    if group not in _FAILED_GROUPS:
        return DeliveryStatus.SENT, None
    code = _error_name(error) or status_name or codes.STATUS_GROUPS[group]
    entry_title = _title(code) or _described(error) or _described(status) or code
    detail = _described(error) if _error_name(error) else _described(status)
    return DeliveryStatus.FAILED, ProviderFailure(KIND, code, entry_title, detail)


def _status_name(status: dict[str, Any]) -> str | None:
    name = status.get("name")
    if isinstance(name, str) and name:
        return name
    status_id = status.get("id")
    return codes.status_name_for_id(status_id) if isinstance(status_id, int) else None


def _error_name(error: dict[str, Any] | None) -> str | None:
    """The error's name, or None when the report carries no real error (id 0)."""
    if error is None or error.get("id") == 0 or error.get("name") == "NO_ERROR":
        return None
    name = error.get("name")
    if isinstance(name, str) and name:
        return name
    error_id = error.get("id")
    return codes.error_name_for_id(error_id) if isinstance(error_id, int) else None


def _title(code: str) -> str | None:
    return next((e.title for e in codes.ENTRIES if e.code == code), None)


def _described(part: dict[str, Any] | None) -> str | None:
    text = part.get("description") if part else None
    return text if isinstance(text, str) and text else None


def _report_time(item: dict[str, Any], where: str) -> datetime:
    for name in ("doneAt", "sentAt"):
        if isinstance(item.get(name), str):
            return _timestamp(item[name], f"{where}.{name}")
    raise ValidationError(
        f"infobip: {where} has neither doneAt nor sentAt", field=f"{where}.doneAt"
    )


def _report_detail(
    item: dict[str, Any],
    status: dict[str, Any],
    status_name: str | None,
    error: dict[str, Any] | None,
) -> dict[str, str]:
    detail = {"status": status_name or str(status.get("groupId"))}
    if _error_name(error):
        detail["error"] = str(_error_name(error))
    segments = item.get("messageCount", item.get("smsCount"))
    if isinstance(segments, int):
        detail["segments"] = str(segments)
    for name in ("to", "mccMnc", "bulkId"):
        if isinstance(item.get(name), str):
            detail[name] = item[name]
    return detail


# --- inbound SMS ---------------------------------------------------------------------


def parse_inbound(raw_body: bytes) -> list[InboundMessage]:
    """Mobile-originated SMS forwarded by Infobip, one message per result."""
    results = _results(raw_body, "inbound message")
    return [_inbound(item, f"results[{i}]") for i, item in enumerate(results)]


def _inbound(item: dict[str, Any], where: str) -> InboundMessage:
    sender = _text(item, "from", where).strip().removeprefix("+")
    if not sender.isdigit() or not 3 <= len(sender) <= 15:
        raise ValidationError(
            f"infobip: {where}.from is not an international number: {sender!r}",
            field=f"{where}.from",
        )
    text = item.get("text")
    if not isinstance(text, str):
        raise ValidationError(f"infobip: {where}.text is missing", field=f"{where}.text")
    return InboundMessage(
        provider=KIND,
        provider_message_id=_text(item, "messageId", where),
        sender="+" + sender,
        recipient=_text(item, "to", where),
        text=text,
        received_at=_timestamp(_text(item, "receivedAt", where), f"{where}.receivedAt"),
    )


# --- shared readers ------------------------------------------------------------------


def _results(raw_body: bytes, what: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"infobip {what}: body is not JSON: {exc}", field="body") from exc
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValidationError(f"infobip {what}: 'results' must be a list", field="results")
    for index, item in enumerate(results):
        if not isinstance(item, dict):
            raise ValidationError(
                f"infobip {what}: results[{index}] is not an object", field=f"results[{index}]"
            )
    return results


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"infobip: {where}.{name} is missing", field=f"{where}.{name}")
    return value


def _object(item: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = item.get(name)
    if not isinstance(value, dict):
        raise ValidationError(f"infobip: {where}.{name} is missing", field=f"{where}.{name}")
    return value


def _integer(item: dict[str, Any], name: str, where: str) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(
            f"infobip: {where}.{name} must be an integer", field=f"{where}.{name}"
        )
    return value


def _timestamp(text: str, where: str) -> datetime:
    """Infobip's ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``; a time without offset is read as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"infobip: {where} is not a timestamp: {text!r}", field=where
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

"""What the emulated WhatsApp number sends back: signed status and message webhooks.

Bodies follow Meta's ``messages`` webhook envelope; each is signed with the
sandbox App Secret over the exact bytes posted (``X-Hub-Signature-256``,
plus the legacy SHA-1 ``X-Hub-Signature``). The service-window tracker
remembers when each person last wrote, including replies scheduled for the
future, which open the window only once their moment has come.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.scenario import SandboxCredentials
from herald.domain.error_catalog.whatsapp import ENTRIES

WEBHOOK_PATH = "/webhooks/whatsapp"
ERROR_DOCS_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
_TITLES = {entry.code: entry.title for entry in ENTRIES}
SERVICE_WINDOW_SECONDS = 24 * 3600


def error_title(code: str) -> str:
    return _TITLES.get(code, "Sandbox error")


class ServiceWindows:
    """Per person (bare digits): the moments they wrote to the business number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inbound: dict[str, list[datetime]] = {}

    def record(self, wa_id: str, at: datetime) -> None:
        with self._lock:
            self._inbound.setdefault(wa_id, []).append(at)

    def is_open(self, wa_id: str, now: datetime, length: timedelta) -> bool:
        with self._lock:
            moments = [t for t in self._inbound.get(wa_id, []) if now - t < length]
            self._inbound[wa_id] = moments
        return any(t <= now for t in moments)


def envelope(credentials: SandboxCredentials, value: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": credentials.whatsapp_display_phone_number,
            "phone_number_id": credentials.whatsapp_phone_number_id,
        },
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": credentials.whatsapp_business_account_id,
                "changes": [{"field": "messages", "value": value}],
            }
        ],
    }


def status_value(
    wamid: str,
    status: str,
    at: datetime,
    wa_id: str,
    *,
    callback_data: str | None,
    category: str,
    error_code: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": wa_id,
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if error_code is not None:
        item["errors"] = [_error_item(error_code)]
    elif status != "read":
        item["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if category == "service" else "regular",
        }
    return {"statuses": [item]}


def _error_item(code: str) -> dict[str, Any]:
    title = error_title(code)
    return {
        "code": int(code) if code.isdigit() else code,
        "title": title,
        "message": title,
        "error_data": {"details": f"{title} (sandbox scenario)."},
        "href": ERROR_DOCS_URL,
    }


def text_message_value(
    wa_id: str, wamid: str, body: str, at: datetime, *, name: str = "Sandbox Contact"
) -> dict[str, Any]:
    return {
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": wamid,
                "timestamp": str(int(at.timestamp())),
                "type": "text",
                "text": {"body": body},
            }
        ],
    }


def signed(payload: Mapping[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The exact bytes to post and the headers that sign them."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    key = app_secret.encode("utf-8")
    sha256 = hmac.new(key, body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(key, body, hashlib.sha1).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": f"sha256={sha256}",
        "X-Hub-Signature": f"sha1={sha1}",
        "User-Agent": "facebookexternalua",
    }
    return body, headers


def post_webhook(context: SandboxContext, value: dict[str, Any], delay_seconds: float) -> bool:
    """Sign and schedule one webhook to Herald; False when no webhook URL is configured."""
    url = context.webhook_url(WEBHOOK_PATH)
    if url is None:
        return False
    credentials = context.scenario.credentials
    body, headers = signed(envelope(credentials, value), credentials.whatsapp_app_secret)
    context.webhooks.schedule(url, body, headers, delay_seconds=delay_seconds)
    return True

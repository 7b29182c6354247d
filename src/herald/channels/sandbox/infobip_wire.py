"""Infobip's wire shapes for the sandbox: request reading, status/error objects, errors.

Requests of both API flavours are read into one :class:`Submission` per
message; what is missing or malformed is answered with HTTP 400 in the body
shape of that flavour (``violations[]`` for v3, legacy ``requestError`` with
``validationErrors`` for v2), each problem named by its JSON path.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from herald.channels.sandbox.scenario import ChannelScenario
from herald.domain.error_catalog import infobip as codes
from herald.errors import ValidationError


class RequestRefusedError(Exception):
    """A whole request answered with an HTTP error instead of per-message statuses."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True)
class Destination:
    to: str
    message_id: str


@dataclass(frozen=True)
class Submission:
    sender: str
    text: str
    destinations: tuple[Destination, ...]
    bulk_id: str
    callback_data: str | None
    notify_url: str | None
    wants_report: bool


def status_object(name: str) -> dict[str, Any]:
    code = codes.STATUSES[name]
    return {
        "groupId": code.group_id,
        "groupName": code.group_name,
        "id": code.id,
        "name": name,
        "description": name.replace("_", " ").capitalize(),
    }


def error_object(name: str) -> dict[str, Any]:
    code = codes.ERRORS[name]
    return {
        "groupId": code.group_id,
        "groupName": code.group_name,
        "id": code.id,
        "name": name,
        "description": name.removeprefix("EC_").replace("_", " ").capitalize(),
        "permanent": code.is_permanent,
    }


# --- request errors ------------------------------------------------------------------


def _legacy(
    status: int, message_id: str, text: str, problems: dict[str, list[str]]
) -> web.Response:
    exception: dict[str, Any] = {"messageId": message_id, "text": text}
    if problems:
        exception["validationErrors"] = problems
    return web.json_response({"requestError": {"serviceException": exception}}, status=status)


def _current(status: int, description: str, problems: dict[str, list[str]]) -> web.Response:
    body = {
        "errorCode": f"E{status}",
        "description": description,
        "action": "Check the request against the API reference and retry.",
        "violations": [
            {"property": field, "violation": text}
            for field, texts in problems.items()
            for text in texts
        ],
        "resources": [],
    }
    return web.json_response(body, status=status)


def _error(flavour: str, status: int, message_id: str, text: str) -> web.Response:
    if flavour == "v2":
        return _legacy(status, message_id, text, {})
    return _current(status, text, {})


def _throttled(flavour: str) -> web.Response:
    response = _error(flavour, 429, "TOO_MANY_REQUESTS", "Too many requests")
    response.headers["Retry-After"] = "1"
    return response


def _server_error(flavour: str) -> web.Response:
    return _error(flavour, 500, "GENERAL_ERROR", "Something went wrong, please try again")


REQUEST_ERRORS: dict[str, Callable[[str], web.Response]] = {
    "TOO_MANY_REQUESTS": _throttled,
    "GENERAL_ERROR": _server_error,
}


def validation_failed(flavour: str, problems: dict[str, list[str]]) -> RequestRefusedError:
    if flavour == "v2":
        return RequestRefusedError(_legacy(400, "BAD_REQUEST", "Bad request", problems))
    return RequestRefusedError(_current(400, "Request cannot be processed.", problems))


# --- reading requests ----------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, text: str) -> None:
        self.found.setdefault(path, []).append(text)

    def text(self, data: Any, path: str) -> str:
        if not isinstance(data, str) or not data.strip():
            self.add(path, "must not be blank")
            return ""
        return data

    def items(self, data: Any, path: str) -> list[Any]:
        if not isinstance(data, list) or not data:
            self.add(path, "must not be empty")
            return []
        return data


def read_submissions(raw_body: bytes, flavour: str) -> list[Submission]:
    """Every message of a send request; :class:`RequestRefusedError` when any is malformed."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise validation_failed(flavour, {"body": ["is not valid JSON"]}) from None
    problems = _Problems()
    messages = problems.items(data.get("messages") if isinstance(data, dict) else None, "messages")
    bulk_id = data.get("bulkId") if isinstance(data, dict) else None
    read = _read_v3 if flavour == "v3" else _read_v2
    submissions = [
        read(message if isinstance(message, dict) else {}, f"messages[{i}]", problems)
        for i, message in enumerate(messages)
    ]
    if problems.found:
        raise validation_failed(flavour, problems.found)
    bulk = bulk_id if isinstance(bulk_id, str) and bulk_id else secrets.token_hex(8)
    return [replace(s, bulk_id=bulk) for s in submissions]


def _destinations(data: Any, path: str, problems: _Problems) -> tuple[Destination, ...]:
    found = []
    for i, item in enumerate(problems.items(data, path)):
        item = item if isinstance(item, dict) else {}
        to = problems.text(item.get("to"), f"{path}[{i}].to")
        message_id = item.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            message_id = secrets.token_hex(12)  # Infobip generates one when none is given
        found.append(Destination(to, message_id))
    return tuple(found)


def _member(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _read_v3(message: dict[str, Any], path: str, problems: _Problems) -> Submission:
    content = _member(message, "content")
    webhooks = _member(message, "webhooks")
    delivery = _member(webhooks, "delivery")
    callback = webhooks.get("callbackData")
    url = delivery.get("url")
    return Submission(
        sender=problems.text(message.get("sender"), f"{path}.sender"),
        text=problems.text(content.get("text"), f"{path}.content.text"),
        destinations=_destinations(message.get("destinations"), f"{path}.destinations", problems),
        bulk_id="",
        callback_data=callback if isinstance(callback, str) and callback else None,
        notify_url=url if isinstance(url, str) and url else None,
        wants_report=delivery.get("notify", True) is not False,
    )


def _read_v2(message: dict[str, Any], path: str, problems: _Problems) -> Submission:
    callback = message.get("callbackData")
    url = message.get("notifyUrl")
    return Submission(
        sender=problems.text(message.get("from"), f"{path}.from"),
        text=problems.text(message.get("text"), f"{path}.text"),
        destinations=_destinations(message.get("destinations"), f"{path}.destinations", problems),
        bulk_id="",
        callback_data=callback if isinstance(callback, str) and callback else None,
        notify_url=url if isinstance(url, str) and url else None,
        wants_report=True,
    )


# --- scenario codes ------------------------------------------------------------------


def _known_reject(code: str) -> bool:
    if code.isdigit():
        name = codes.status_name_for_id(int(code))
        return name is not None and codes.STATUSES[name].group_id == 5
    known_status = code in codes.STATUSES and codes.STATUSES[code].group_id == 5
    return known_status or code in REQUEST_ERRORS


def _known_fail(code: str) -> bool:
    if code.isdigit():
        return codes.error_name_for_id(int(code)) not in (None, "NO_ERROR")
    if code in codes.STATUSES:
        return codes.STATUSES[code].group_id in (2, 4)
    return code in codes.ERRORS and code != "NO_ERROR"


def validate_codes(scenario: ChannelScenario) -> None:
    """Refuse reject/fail codes the emulated Infobip cannot produce, naming them."""
    rejects = [*scenario.reject_codes, *(r.reject for r in scenario.rules if r.reject)]
    fails = [*scenario.fail_codes, *(r.fail for r in scenario.rules if r.fail)]
    for code in rejects:
        if not _known_reject(code):
            raise ValidationError(
                f"scenario sms: {code!r} is not an Infobip rejection (a REJECTED_* status "
                "name or id, TOO_MANY_REQUESTS or GENERAL_ERROR)",
                field="sms.reject_codes",
            )
    for code in fails:
        if not _known_fail(code):
            raise ValidationError(
                f"scenario sms: {code!r} is not an Infobip delivery failure (an EC_* error "
                "name or id, or an UNDELIVERABLE_*/EXPIRED_* status)",
                field="sms.fail_codes",
            )

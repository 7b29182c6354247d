"""The emulated template list: ``GET /{version}/{waba-id}/message_templates``.

Answers from the same fixture catalogue the send checks use, one entry per
template and language, with Meta's shape: ``data`` (name, language, status,
category, id, components) and ``paging`` (``cursors.before/after``, and
``next`` while more remain). ``limit`` sets the page size (1 to
:data:`MAX_LIMIT`, default :data:`DEFAULT_LIMIT`); ``after`` continues from a
cursor. The token is checked like a send (190), then the account id (100
subcode 33); a bad ``limit`` or cursor is a code 100 error.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.whatsapp import (
    STATE_KEY,
    check_object_id,
    check_token,
    graph_error,
)
from herald.channels.sandbox.whatsapp_templates import MEDIA_FORMATS, TEMPLATES, TemplateSpec

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_CURSOR_PREFIX = "sbx:"
_BUTTON_TEXTS = {"quick_reply": ("Yes", "No"), "url": ("Track", "Track")}


def install(app: web.Application, context: SandboxContext) -> None:
    """Add the template list route (the WhatsApp sandbox state must be installed first)."""
    del context  # the route reads the shared WhatsApp sandbox state
    app.router.add_get(r"/{version:v\d+\.\d+}/{waba_id}/message_templates", _list_templates)


def catalogue_entries() -> list[dict[str, Any]]:
    """Every (template, language) of the fixture catalogue as Meta lists it, in a stable order."""
    entries = [
        _entry(spec, language, number)
        for number, (spec, language) in enumerate(
            (spec, language) for spec in TEMPLATES.values() for language in sorted(spec.languages)
        )
    ]
    return sorted(entries, key=lambda entry: (entry["name"], entry["language"]))


def _entry(spec: TemplateSpec, language: str, number: int) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if spec.header == "text":
        components.append({"type": "HEADER", "format": "TEXT", "text": "Update {{1}}"})
    elif spec.header in MEDIA_FORMATS:
        components.append({"type": "HEADER", "format": str(spec.header).upper()})
    components.append({"type": "BODY", "text": spec.body})
    if spec.category == "marketing":
        components.append({"type": "FOOTER", "text": "Reply STOP to opt out"})
    if spec.buttons:
        buttons = [
            _button(sub_type, _BUTTON_TEXTS[sub_type][index % 2])
            for index, sub_type in enumerate(spec.buttons)
        ]
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": spec.name,
        "language": language,
        "status": spec.status,
        "category": spec.category.upper(),
        "id": str(1_500_000_000_000_000 + number),
        "components": components,
    }


def _button(sub_type: str, text: str) -> dict[str, Any]:
    if sub_type == "url":
        return {"type": "URL", "text": text, "url": "https://shop.example.test/track/{{1}}"}
    return {"type": "QUICK_REPLY", "text": text}


async def _list_templates(request: web.Request) -> web.Response:
    context = request.app[STATE_KEY].context
    await context.simulate_latency(context.scenario.whatsapp)
    expected = context.scenario.credentials.whatsapp_business_account_id
    refusal = check_token(request, context) or check_object_id(
        request, context, request.match_info["waba_id"], expected
    )
    if refusal is not None:
        return refusal
    limit = _limit(request.query.get("limit"))
    if limit is None:
        return _parameter_error(context, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    entries = catalogue_entries()
    start = _start(request.query.get("after"), len(entries))
    if start is None:
        return _parameter_error(context, "after is not a cursor of this list")
    page = entries[start : start + limit]
    body: dict[str, Any] = {"data": page}
    if page:
        body["paging"] = {
            "cursors": {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
        }
        if start + len(page) < len(entries):
            query = urlencode({"limit": limit, "after": _cursor(start + len(page) - 1)})
            body["paging"]["next"] = f"{request.url.with_query(None)}?{query}"
    return web.json_response(body)


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        return None
    return int(raw)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{index}".encode()).decode()


def _start(cursor: str | None, total: int) -> int | None:
    """The index after the cursor's entry; None for a cursor this list never gave."""
    if cursor is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    index = decoded.removeprefix(_CURSOR_PREFIX)
    if not decoded.startswith(_CURSOR_PREFIX) or not index.isdigit() or int(index) >= total:
        return None
    return int(index) + 1


def _parameter_error(context: SandboxContext, message: str) -> web.Response:
    error = {"message": f"(#100) {message}", "type": "OAuthException", "code": 100}
    return graph_error(context, 400, error)

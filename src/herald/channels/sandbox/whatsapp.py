"""The emulated WhatsApp Cloud API.

Routes (same paths and shapes as ``graph.facebook.com``):

- ``POST /{version}/{phone-number-id}/messages`` — text and template sends,
  checked like Meta does (token → 190, unknown number id → 100, missing or
  invalid fields → 131008 / 131009 / 100, templates against the fixture
  catalogue → 132001 / 132000 / 132012 / 132015 / 132016, free-form text
  outside the person's 24-hour window → 131047), then the scenario's
  scripted and random rejections; accepted sends are recorded in the
  sandbox log and answered with signed status webhooks and maybe a reply.
- ``GET /{version}/{phone-number-id}`` — the phone number object, for
  connection checks.
- ``GET /{version}/{waba-id}/message_templates`` — the template list, in
  :mod:`herald.channels.sandbox.whatsapp_catalogue`.
- ``POST /_sandbox/whatsapp/inbound`` ``{"from": "+346...", "text": "..."}`` —
  a person writes first: opens their window and posts the inbound webhook.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.log import AcceptedSend
from herald.channels.sandbox.scenario import ScriptedRule
from herald.channels.sandbox.whatsapp_templates import RequestError, check_template
from herald.channels.sandbox.whatsapp_webhooks import (
    SERVICE_WINDOW_SECONDS,
    WEBHOOK_PATH,
    ServiceWindows,
    error_title,
    post_webhook,
    status_value,
    text_message_value,
)
from herald.domain.channels import IntegrationKind

_VERSION = r"{version:v\d+\.\d+}"
MESSAGE_TYPES = frozenset(
    {"text", "template", "image", "audio", "video", "document", "sticker", "location"}
    | {"contacts", "interactive", "reaction"}
)
TEXT_BODY_MAX_CHARS = 4096
CALLBACK_DATA_MAX_CHARS = 512
# Meta's HTTP status for a code is not documented everywhere; these are the observed ones.
HTTP_STATUS_OF_CODE = {"0": 401, "190": 401, "10": 403, "368": 403, "130429": 429}
HTTP_STATUS_OF_CODE |= {"1": 500, "131000": 500, "2": 503}


@dataclass(frozen=True)
class _Send:
    wa_id: str
    callback_data: str | None
    category: str  # pricing category echoed in status webhooks
    is_template: bool


class WhatsAppSandbox:
    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self.windows = ServiceWindows()

    def window_is_open(self, wa_id: str) -> bool:
        length = timedelta(seconds=self.context.scenario.seconds(SERVICE_WINDOW_SECONDS))
        return self.windows.is_open(wa_id, self.context.now(), length)


STATE_KEY = web.AppKey("whatsapp_sandbox", WhatsAppSandbox)


def install(app: web.Application, context: SandboxContext) -> None:
    app[STATE_KEY] = WhatsAppSandbox(context)
    app.router.add_post(f"/{_VERSION}/{{phone_number_id}}/messages", _send_message)
    app.router.add_get(f"/{_VERSION}/{{phone_number_id}}", _phone_number)
    app.router.add_post("/_sandbox/whatsapp/inbound", _person_writes)


def error_response(code: str, details: str) -> web.Response:
    """Meta's error body; the HTTP status follows what Meta is seen to use per code."""
    status = HTTP_STATUS_OF_CODE.get(
        code, 403 if code.isdigit() and 200 <= int(code) < 300 else 400
    )
    error: dict[str, Any] = {
        "message": f"(#{code}) {error_title(code)}",
        "type": "OAuthException",
        "code": int(code) if code.isdigit() else code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": _trace_id(),
    }
    return web.json_response({"error": error}, status=status)


def _trace_id() -> str:
    return "Sbx" + secrets.token_urlsafe(12)


def _refuse(context: SandboxContext, code: str, details: str) -> web.Response:
    context.log.requests_rejected += 1
    return error_response(code, details)


def _graph_error(context: SandboxContext, status: int, error: dict[str, Any]) -> web.Response:
    context.log.requests_rejected += 1
    return web.json_response({"error": error | {"fbtrace_id": _trace_id()}}, status=status)


def _check_access(request: web.Request, context: SandboxContext) -> web.Response | None:
    """Token first (401, code 190), then the phone number id (400, code 100 subcode 33)."""
    credentials = context.scenario.credentials
    return check_token(request, context) or check_object_id(
        request,
        context,
        request.match_info["phone_number_id"],
        credentials.whatsapp_phone_number_id,
    )


def check_token(request: web.Request, context: SandboxContext) -> web.Response | None:
    """Meta's answer to a missing or wrong bearer token (401, code 190), or None."""
    credentials = context.scenario.credentials
    given = request.headers.get("Authorization", "").encode()
    expected = f"Bearer {credentials.whatsapp_access_token}".encode()
    if hmac.compare_digest(given, expected):
        return None
    return _graph_error(
        context,
        401,
        {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException",
            "code": 190,
        },
    )


def check_object_id(
    request: web.Request, context: SandboxContext, given: str, expected: str
) -> web.Response | None:
    """Graph's answer for an object id the token cannot see (400, code 100 subcode 33)."""
    if given == expected:
        return None
    verb = request.method.lower()
    message = (
        f"Unsupported {verb} request. Object with ID '{given}' does not exist, cannot "
        "be loaded due to missing permissions, or does not support this operation."
    )
    error = {"message": message, "type": "GraphMethodException", "code": 100}
    return _graph_error(context, 400, error | {"error_subcode": 33})


def graph_error(context: SandboxContext, status: int, error: dict[str, Any]) -> web.Response:
    """A Graph error body with a trace id, counted as a rejected request."""
    return _graph_error(context, status, error)


async def _send_message(request: web.Request) -> web.Response:
    sandbox = request.app[STATE_KEY]
    context = sandbox.context
    await context.simulate_latency(context.scenario.whatsapp)
    refusal = _check_access(request, context)
    if refusal is not None:
        return refusal
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return _refuse(context, "100", "the request body must be a JSON object")
    send, problem = _validate(payload)
    if problem is None and send is not None:
        problem = _window_or_scenario_refusal(sandbox, send)
    if problem is not None or send is None:
        assert problem is not None
        return _refuse(context, str(problem.code), problem.details)
    return _accept(sandbox, send, str(payload["to"]))


def _validate(payload: dict[str, Any]) -> tuple[_Send | None, RequestError | None]:
    product = payload.get("messaging_product")
    if product is None:
        return None, RequestError(131008, "messaging_product is required")
    if product != "whatsapp":
        return None, RequestError(100, f"messaging_product must be 'whatsapp', not {product!r}")
    wa_id = _wa_id(payload.get("to"))
    if wa_id is None:
        code = 131008 if not payload.get("to") else 131009
        return None, RequestError(code, f"to: {payload.get('to')!r} is not a valid phone number")
    callback = payload.get("biz_opaque_callback_data")
    if callback is not None and (
        not isinstance(callback, str) or len(callback) > CALLBACK_DATA_MAX_CHARS
    ):
        return None, RequestError(100, "biz_opaque_callback_data must be text of ≤ 512 chars")
    kind = payload.get("type", "text")
    if kind == "text":
        problem = _check_text(payload.get("text"))
        return _Send(wa_id, callback, "service", False), problem
    if kind == "template":
        spec, problem = check_template(payload.get("template"))
        category = spec.category if spec is not None else "utility"
        return _Send(wa_id, callback, category, True), problem
    if kind in MESSAGE_TYPES:
        return None, RequestError(100, f"the sandbox emulates text and template only, not {kind}")
    return None, RequestError(100, f"type must be one of {sorted(MESSAGE_TYPES)}, not {kind!r}")


def _wa_id(to: Any) -> str | None:
    if not isinstance(to, str):
        return None
    digits = to.strip().removeprefix("+")
    is_number = digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15
    return digits if is_number and digits[0] != "0" else None


def _check_text(text: Any) -> RequestError | None:
    body = text.get("body") if isinstance(text, dict) else None
    if not isinstance(body, str) or not body.strip():
        return RequestError(131008, "text.body is required for type text")
    if len(body) > TEXT_BODY_MAX_CHARS:
        return RequestError(100, f"text.body must be at most {TEXT_BODY_MAX_CHARS} characters")
    return None


def _window_or_scenario_refusal(sandbox: WhatsAppSandbox, send: _Send) -> RequestError | None:
    context = sandbox.context
    if not send.is_template and not sandbox.window_is_open(send.wa_id):
        return RequestError(
            131047,
            "Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        )
    channel = context.scenario.whatsapp
    rule = channel.rule_for("+" + send.wa_id)
    if rule is not None:  # a scripted number gets exactly its rule's outcomes
        if rule.reject is None:
            return None
        return _scenario_error(rule.reject, f"scripted rejection for numbers matching {rule.match}")
    if context.chance(channel.reject_rate):
        return _scenario_error(context.pick(channel.reject_codes, "131000"), "random rejection")
    return None


def _scenario_error(code: str, why: str) -> RequestError:
    return RequestError(int(code) if code.isdigit() else 131000, f"{error_title(code)} ({why})")


def _accept(sandbox: WhatsAppSandbox, send: _Send, to: str) -> web.Response:
    context = sandbox.context
    wamid = "wamid.HBgL" + context.token(18).upper()
    context.log.record_send(
        AcceptedSend(
            IntegrationKind.WHATSAPP.value,
            "+" + send.wa_id,
            send.callback_data,
            wamid,
            context.now(),
        )
    )
    _schedule_outcome(sandbox, send, wamid)
    message: dict[str, str] = {"id": wamid}
    if send.is_template:
        message["message_status"] = "accepted"
    body = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": send.wa_id}],
        "messages": [message],
    }
    return web.json_response(body)


@dataclass(frozen=True)
class _Outcome:
    fail_code: str | None
    is_read: bool
    reply: str | None


def _draw_outcome(context: SandboxContext, rule: ScriptedRule | None) -> _Outcome:
    """A number matching a rule gets exactly the rule's outcomes; others follow the rates."""
    channel = context.scenario.whatsapp
    if rule is not None and rule.fail:
        return _Outcome(rule.fail, False, None)
    if rule is not None:
        reply = rule.reply
    elif context.chance(channel.fail_rate):
        return _Outcome(context.pick(channel.fail_codes, "131026"), False, None)
    else:
        is_replying = context.chance(channel.reply_rate)
        reply = context.pick(channel.reply_texts, "Yes, thanks!") if is_replying else None
    # Whoever replies has read the message.
    return _Outcome(None, reply is not None or context.chance(channel.read_rate), reply)


def _schedule_outcome(sandbox: WhatsAppSandbox, send: _Send, wamid: str) -> None:
    """Status webhooks (sent → delivered → read, or failed) and maybe a reply.

    Read comes halfway between delivery and the reply delay; the reply after
    ``delivery_delay_seconds + reply_delay_seconds`` (scenario time).
    """
    context = sandbox.context
    if context.webhook_url(WEBHOOK_PATH) is None:
        return
    channel = context.scenario.whatsapp
    outcome = _draw_outcome(context, channel.rule_for("+" + send.wa_id))
    delivered_after = context.scenario.seconds(channel.delivery_delay_seconds)
    reply_after = delivered_after + context.scenario.seconds(channel.reply_delay_seconds)
    now = context.now()

    def status(name: str, after: float, error_code: str | None = None) -> None:
        at = now + timedelta(seconds=after)
        value = status_value(
            wamid,
            name,
            at,
            send.wa_id,
            callback_data=send.callback_data,
            category=send.category,
            error_code=error_code,
        )
        post_webhook(context, value, after)

    if outcome.fail_code is not None:
        status("failed", delivered_after, outcome.fail_code)
        return
    status("sent", 0.0)
    status("delivered", delivered_after)
    if outcome.is_read:
        status("read", (delivered_after + reply_after) / 2)
    if outcome.reply is not None:
        _person_replies(sandbox, send.wa_id, outcome.reply, reply_after)


def _person_replies(sandbox: WhatsAppSandbox, wa_id: str, text: str, after: float) -> str:
    context = sandbox.context
    at = context.now() + timedelta(seconds=after)
    sandbox.windows.record(wa_id, at)
    wamid = "wamid.HBgL" + context.token(18).upper()
    post_webhook(context, text_message_value(wa_id, wamid, text, at), after)
    return wamid


async def _person_writes(request: web.Request) -> web.Response:
    sandbox = request.app[STATE_KEY]
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        payload = None
    sender = payload.get("from") if isinstance(payload, dict) else None
    text = payload.get("text") if isinstance(payload, dict) else None
    wa_id = _wa_id(sender)
    if wa_id is None or not isinstance(text, str) or not text:
        return web.json_response(
            {"error": "expected JSON {'from': '+34600111222', 'text': 'Hello'}"}, status=400
        )
    wamid = _person_replies(sandbox, wa_id, text, 0.0)
    webhook = sandbox.context.webhook_url(WEBHOOK_PATH)
    return web.json_response({"id": wamid, "webhook_url": webhook})


async def _phone_number(request: web.Request) -> web.Response:
    context = request.app[STATE_KEY].context
    await context.simulate_latency(context.scenario.whatsapp)
    refusal = _check_access(request, context)
    if refusal is not None:
        return refusal
    credentials = context.scenario.credentials
    display = credentials.whatsapp_display_phone_number
    return web.json_response(
        {
            "verified_name": "Herald Sandbox",
            "display_phone_number": f"+{display}",
            "id": credentials.whatsapp_phone_number_id,
            "quality_rating": "GREEN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
        }
    )

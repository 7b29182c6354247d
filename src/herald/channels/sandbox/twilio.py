"""Twilio Voice emulation: create calls, the account resource, signed callbacks.

- ``POST /2010-04-01/Accounts/{sid}/Calls.json`` checks HTTP Basic
  ``AccountSid:AuthToken`` (401 / 20003 otherwise; another account's sid in
  the path: 404 / 20404), validates the form (21211 for a ``To`` that is
  not E.164, 21210 for a ``From`` that is not the sandbox number, 21205 for
  missing call instructions, 12100 for TwiML that does not parse, 21609 for
  a bad ``StatusCallback``) and answers 201 with the call resource. Scripted
  rules and ``reject_rate`` answer with any catalogued code instead (20429
  as HTTP 429 with ``Retry-After: 1``).
- Accepted calls play out over ``delivery_delay_seconds``: status callbacks
  for the requested events (initiated, ringing, answered, completed), signed
  with ``X-Twilio-Signature`` over the ``StatusCallback`` URL and params.
  Fail codes (rule ``fail`` or ``fail_rate``): ``busy``, ``no-answer``,
  ``failed``, ``canceled``, ``machine`` (completed, answered by voicemail),
  ``fax``, or a numeric error code (failed with that ``ErrorCode``).
- When the TwiML has a ``<Gather>`` and a person answered, a reply (rule
  ``reply`` or ``reply_rate``) is posted, signed, to the gather action URL
  with ``Digits``.
- ``GET /2010-04-01/Accounts/{sid}.json`` answers the account resource.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import web

from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.log import AcceptedSend
from herald.channels.sandbox.scenario import ChannelScenario
from herald.channels.sandbox.twilio_calls import (
    GATHER_STEP,
    CallPlan,
    call_resource,
    plan_call,
    validate_codes,
)
from herald.channels.twilio_webhooks import SIGNATURE_HEADER, compute_signature
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import twilio as codes

PROVIDER = IntegrationKind.TWILIO_VOICE.value
API_PREFIX = "/2010-04-01/Accounts"
DEFAULT_REJECT_CODE = "21214"
DEFAULT_EVENTS = ("completed",)

_E164_DIGITS = range(7, 16)
_HTTP_STATUS = {"20003": 401, "20404": 404, "20429": 429, "20500": 500, "20503": 503}


def twilio_error(code: str, message: str, status: int | None = None) -> web.Response:
    status = status or _HTTP_STATUS.get(code, 400)
    body = {
        "code": int(code),
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    response = web.json_response(body, status=status)
    if status == 429:
        response.headers["Retry-After"] = "1"
    return response


class TwilioEmulator:
    def __init__(self, context: SandboxContext) -> None:
        self._context = context
        credentials = context.scenario.credentials
        self._sid = credentials.twilio_account_sid
        self._token = credentials.twilio_auth_token
        self._number = credentials.twilio_number

    @property
    def _scenario(self) -> ChannelScenario:
        return self._context.scenario.voice

    def install(self, app: web.Application) -> None:
        app.router.add_post(API_PREFIX + "/{sid}/Calls.json", self.create_call)
        app.router.add_get(API_PREFIX + "/{sid}.json", self.account)

    def _refusal(self, request: web.Request) -> web.Response | None:
        if _basic_credentials(request.headers.get("Authorization", "")) != (self._sid, self._token):
            return twilio_error("20003", "Authenticate")
        if request.match_info["sid"] != self._sid:
            return twilio_error("20404", f"The requested resource {request.path} was not found")
        return None

    async def account(self, request: web.Request) -> web.Response:
        await self._context.simulate_latency(self._scenario)
        refusal = self._refusal(request)
        if refusal is not None:
            self._context.log.requests_rejected += 1
            return refusal
        return web.json_response(_account_resource(self._sid, self._context.now()))

    async def create_call(self, request: web.Request) -> web.Response:
        await self._context.simulate_latency(self._scenario)
        form = list((await request.post()).items())
        params = [(name, value) for name, value in form if isinstance(value, str)]
        refusal = self._refusal(request) or self._invalid(params) or self._scripted(params)
        if refusal is not None:
            self._context.log.requests_rejected += 1
            return refusal
        plan = plan_call(self._context, self._scenario, params)
        now = self._context.now()
        resource = call_resource(plan, self._sid, now)
        self._record(plan, params, now)
        self._play(plan, params)
        return web.json_response(resource, status=201)

    def _invalid(self, params: list[tuple[str, str]]) -> web.Response | None:
        form = dict(params)
        to, origin = form.get("To", ""), form.get("From", "")
        if not (to.startswith("+") and to[1:].isdigit() and len(to) - 1 in _E164_DIGITS):
            return twilio_error("21211", f"The 'To' number {to} is not a valid phone number.")
        if origin != self._number:
            return twilio_error(
                "21210",
                f"The source phone number provided, {origin}, is not yet verified for your "
                "account.",
            )
        instructions = [name for name in ("Url", "Twiml", "ApplicationSid") if form.get(name)]
        if len(instructions) != 1:
            return twilio_error("21205", "Exactly one of Url, Twiml or ApplicationSid is required.")
        problem = _twiml_problem(form["Twiml"]) if "Twiml" in form else None
        if problem is not None:
            return twilio_error("12100", f"Document parse failure: {problem}")
        callback = form.get("StatusCallback")
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            return twilio_error("21609", f"The StatusCallback URL {callback} is not a valid URL.")
        return None

    def _scripted(self, params: list[tuple[str, str]]) -> web.Response | None:
        rule = self._scenario.rule_for(dict(params)["To"])
        code = rule.reject if rule is not None else None
        if code is None and self._context.chance(self._scenario.reject_rate):
            code = self._context.pick(self._scenario.reject_codes, DEFAULT_REJECT_CODE)
        if code is None:
            return None
        title = next((e.title for e in codes.ENTRIES if e.code == code), "Error")
        return twilio_error(code, f"{title} (sandbox rule for {dict(params)['To']})")

    def _record(self, plan: CallPlan, params: list[tuple[str, str]], now: datetime) -> None:
        callback = dict(params).get("StatusCallback", "")
        key = parse_qs(urlsplit(callback).query).get("key", [None])[0]
        send = AcceptedSend(PROVIDER, plan.to, key, plan.call_sid, now)
        self._context.log.record_send(send)

    def _play(self, plan: CallPlan, params: list[tuple[str, str]]) -> None:
        """Schedule the call's signed callbacks along its timeline."""
        callback = dict(params).get("StatusCallback")
        events = {value for name, value in params if name == "StatusCallbackEvent"}
        events = events or set(DEFAULT_EVENTS)
        delay = self._scenario.delivery_delay_seconds
        for step in plan.steps:
            if callback and step.event in events:
                at = self._context.now() + timedelta(seconds=self._real(step.at_fraction * delay))
                fields = plan.callback_fields(step, self._sid) | {"Timestamp": format_datetime(at)}
                self._post(callback, fields, step.at_fraction * delay)
        if plan.gather_url is not None and plan.digits is not None:
            fields = plan.callback_fields(GATHER_STEP, self._sid) | {"Digits": plan.digits}
            self._post(plan.gather_url, fields, GATHER_STEP.at_fraction * delay)

    def _post(self, url: str, fields: dict[str, str], scenario_delay: float) -> None:
        pairs = sorted(fields.items())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            SIGNATURE_HEADER: compute_signature(url, pairs, self._token),
        }
        self._context.webhooks.schedule(
            url, urlencode(pairs).encode(), headers, delay_seconds=self._real(scenario_delay)
        )

    def _real(self, scenario_seconds: float) -> float:
        return self._context.scenario.seconds(scenario_seconds)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, separator, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if separator else None


def _twiml_problem(twiml: str) -> str | None:
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - the sandbox parses what Herald sends
    except ET.ParseError as exc:
        return str(exc)
    return None if root.tag == "Response" else f"root element is <{root.tag}>, not <Response>"


def _account_resource(sid: str, now: datetime) -> dict[str, Any]:
    stamp = format_datetime(now)
    return {
        "sid": sid,
        "owner_account_sid": sid,
        "friendly_name": "Herald sandbox account",
        "status": "active",
        "type": "Full",
        "date_created": stamp,
        "date_updated": stamp,
        "uri": f"{API_PREFIX}/{sid}.json",
        "subresource_uris": {"calls": f"{API_PREFIX}/{sid}/Calls.json"},
    }


def install(app: web.Application, context: SandboxContext) -> None:
    """Add the Twilio routes; refuses a scenario naming codes the emulator cannot play."""
    validate_codes(context.scenario.voice)
    TwilioEmulator(context).install(app)

"""Infobip SMS emulation: send endpoints (v3 and v2), balance, DLRs and inbound SMS.

- ``POST /sms/3/messages`` and ``POST /sms/2/text/advanced`` check
  ``Authorization: App {key}`` (401 with the legacy ``requestError`` body
  otherwise), validate the body (400: ``violations[]`` for v3, legacy
  ``validationErrors`` for v2) and answer one status per destination:
  ``PENDING_ACCEPTED`` with the part count, or a ``REJECTED_*`` status
  (scripted rule, ``reject_rate``, malformed number, text over 25 parts,
  a ``messageId`` seen before → ``REJECTED_DUPLICATE_MESSAGE_ID``).
  ``TOO_MANY_REQUESTS`` / ``GENERAL_ERROR`` as reject codes answer the whole
  request with HTTP 429 (``Retry-After: 1``) / 500.
- Accepted messages get a delivery report after ``delivery_delay_seconds``:
  delivered, or failed with a realistic status and error object when a rule
  or ``fail_rate`` says so. Reports go to the message's notify URL, else to
  ``{webhook_base_url}/webhooks/infobip/delivery`` with the webhook secret
  as basic-auth password (a portal subscription); one POST per request.
- Delivered messages are answered (rule ``reply`` or ``reply_rate``) by an
  inbound SMS to ``{webhook_base_url}/webhooks/infobip/inbound``.
- ``GET /account/1/balance`` answers the balance for ``check_connection``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from herald.channels.infobip_webhooks import DELIVERY_PATH, INBOUND_PATH, basic_authorization
from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.infobip_wire import (
    REQUEST_ERRORS,
    Destination,
    RequestRefusedError,
    Submission,
    error_object,
    read_submissions,
    status_object,
    validate_codes,
)
from herald.channels.sandbox.log import AcceptedSend
from herald.channels.sandbox.scenario import ChannelScenario
from herald.channels.sandbox.sms_segments import MAX_PARTS, count_segments
from herald.domain.channels import IntegrationKind
from herald.domain.error_catalog import infobip as codes

PROVIDER = IntegrationKind.INFOBIP_SMS.value
DEFAULT_REJECT_CODE = "REJECTED_DESTINATION"
DEFAULT_FAIL_CODE = "EC_UNKNOWN_SUBSCRIBER"
REGISTERED_KEYWORDS = ("STOP", "START", "HELP")
BALANCE = {"balance": 100.0, "currency": "EUR"}


@dataclass(frozen=True)
class _Accepted:
    submission: Submission
    destination: Destination
    segments: int


class InfobipEmulator:
    def __init__(self, context: SandboxContext) -> None:
        self._context = context
        self._seen_message_ids: set[str] = set()
        credentials = context.scenario.credentials
        self._authorization = f"App {credentials.infobip_api_key}"
        self._secret = credentials.infobip_webhook_secret

    @property
    def _scenario(self) -> ChannelScenario:
        return self._context.scenario.sms

    def install(self, app: web.Application) -> None:
        app.router.add_post("/sms/3/messages", self.send_v3)
        app.router.add_post("/sms/2/text/advanced", self.send_v2)
        app.router.add_get("/account/1/balance", self.balance)

    async def send_v3(self, request: web.Request) -> web.Response:
        return await self._send(request, "v3")

    async def send_v2(self, request: web.Request) -> web.Response:
        return await self._send(request, "v2")

    async def balance(self, request: web.Request) -> web.Response:
        await self._context.simulate_latency(self._scenario)
        refused = self._check_auth(request)
        return refused or web.json_response(BALANCE)

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization", "") == self._authorization:
            return None
        self._context.log.requests_rejected += 1
        exception = {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}
        return web.json_response({"requestError": {"serviceException": exception}}, status=401)

    async def _send(self, request: web.Request, flavour: str) -> web.Response:
        await self._context.simulate_latency(self._scenario)
        refused = self._check_auth(request)
        if refused is not None:
            return refused
        claimed: set[str] = set()  # message ids taken by this request, kept only if it passes
        try:
            submissions = read_submissions(await request.read(), flavour)
            results = [
                self._decide(s, d, flavour, claimed) for s in submissions for d in s.destinations
            ]
        except RequestRefusedError as refusal:
            self._context.log.requests_rejected += 1
            return refusal.response
        self._seen_message_ids |= claimed
        accepted = [r for r in results if isinstance(r, _Accepted)]
        self._after_accept(accepted, flavour)
        answers = [_answer(r, flavour) for r in results]
        return web.json_response({"bulkId": self._context.token(8), "messages": answers})

    def _decide(
        self, submission: Submission, destination: Destination, flavour: str, claimed: set[str]
    ) -> _Accepted | tuple[Destination, str]:
        """Accept one destination, or name the status it is rejected with."""
        segments = count_segments(submission.text)
        rejection = self._rejection(destination, segments, flavour, claimed)
        if rejection is not None:
            return destination, rejection
        claimed.add(destination.message_id)
        return _Accepted(submission, destination, segments)

    def _rejection(
        self, destination: Destination, segments: int, flavour: str, claimed: set[str]
    ) -> str | None:
        digits = destination.to.removeprefix("+")
        if not digits.isdigit() or not 6 <= len(digits) <= 15:
            return "REJECTED_DESTINATION"
        if destination.message_id in self._seen_message_ids or destination.message_id in claimed:
            return "REJECTED_DUPLICATE_MESSAGE_ID"
        if segments > MAX_PARTS:
            return "REJECTED_MESSAGE_TOO_LONG"
        rule = self._scenario.rule_for("+" + digits)
        code = rule.reject if rule is not None else None
        if code is None and self._context.chance(self._scenario.reject_rate):
            code = self._context.pick(self._scenario.reject_codes, DEFAULT_REJECT_CODE)
        if code in REQUEST_ERRORS:
            raise RequestRefusedError(REQUEST_ERRORS[code](flavour))
        return None if code is None else _status_name(code)

    def _after_accept(self, accepted: list[_Accepted], flavour: str) -> None:
        now = self._context.now()
        reports: dict[str, list[dict[str, Any]]] = {}
        for item in accepted:
            self._record(item, now)
            url, report = self._delivery_report(item, flavour, now)
            if url is not None:
                reports.setdefault(url, []).append(report)
        delay = self._real(self._scenario.delivery_delay_seconds)
        for url, results in reports.items():
            headers = {"Content-Type": "application/json"}
            if url == self._context.webhook_url(DELIVERY_PATH):
                headers["Authorization"] = basic_authorization(self._secret)
            body = json.dumps({"results": results}).encode()
            self._context.webhooks.schedule(url, body, headers, delay_seconds=delay)

    def _record(self, item: _Accepted, now: datetime) -> None:
        send = AcceptedSend(
            provider=PROVIDER,
            to="+" + item.destination.to.removeprefix("+"),
            correlation_key=item.submission.callback_data,
            provider_message_id=item.destination.message_id,
            accepted_at=now,
        )
        self._context.log.record_send(send)

    def _delivery_report(
        self, item: _Accepted, flavour: str, now: datetime
    ) -> tuple[str | None, dict[str, Any]]:
        """Where the report goes and what it says; schedules the reply when delivered."""
        fail_code = self._fail_code(item.destination.to)
        if fail_code is None:
            status, error = status_object("DELIVERED_TO_HANDSET"), error_object("NO_ERROR")
            self._maybe_reply(item)
        else:
            status, error = _failure_objects(fail_code)
        # Stamped with the wall-clock time the report actually goes out.
        done_at = now + timedelta(seconds=self._real(self._scenario.delivery_delay_seconds))
        report = {
            "bulkId": item.submission.bulk_id,
            "messageId": item.destination.message_id,
            "to": item.destination.to.removeprefix("+"),
            ("sender" if flavour == "v3" else "from"): item.submission.sender,
            "sentAt": _infobip_time(now),
            "doneAt": _infobip_time(done_at),
            ("messageCount" if flavour == "v3" else "smsCount"): item.segments,
            "mccMnc": "21401",
            "callbackData": item.submission.callback_data,
            "price": {"pricePerMessage": round(0.05 * item.segments, 4), "currency": "EUR"},
            "status": status,
            "error": error,
        }
        url = item.submission.notify_url if item.submission.wants_report else None
        return url or self._context.webhook_url(DELIVERY_PATH), report

    def _real(self, scenario_seconds: float) -> float:
        """Real seconds for a scenario delay (time compression applied)."""
        return self._context.scenario.seconds(scenario_seconds)

    def _fail_code(self, to: str) -> str | None:
        rule = self._scenario.rule_for("+" + to.removeprefix("+"))
        if rule is not None and rule.fail is not None:
            return rule.fail
        if self._context.chance(self._scenario.fail_rate):
            return self._context.pick(self._scenario.fail_codes, DEFAULT_FAIL_CODE)
        return None

    def _maybe_reply(self, item: _Accepted) -> None:
        url = self._context.webhook_url(INBOUND_PATH)
        rule = self._scenario.rule_for("+" + item.destination.to.removeprefix("+"))
        text = rule.reply if rule is not None else None
        if text is None and self._context.chance(self._scenario.reply_rate):
            text = self._context.pick(self._scenario.reply_texts, "OK")
        if url is None or text is None:
            return
        delay = self._scenario.delivery_delay_seconds + self._scenario.reply_delay_seconds
        received_at = self._context.now() + timedelta(seconds=self._real(delay))
        body = _inbound_body(
            self._context, item.destination.to, self._context.scenario.credentials.infobip_number
        )
        body["results"][0] |= _keyword_parts(text) | {"receivedAt": _infobip_time(received_at)}
        headers = {
            "Content-Type": "application/json",
            "Authorization": basic_authorization(self._secret),
        }
        self._context.webhooks.schedule(
            url,
            json.dumps(body).encode(),
            headers,
            delay_seconds=self._real(delay),
        )


def _status_name(code: str) -> str:
    """A rejection code as a status name; scenarios may give the numeric id."""
    if code.isdigit():
        return codes.status_name_for_id(int(code)) or code
    return code


def _failure_objects(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Status and error objects of a failed report for a fail code."""
    if code.isdigit():
        code = codes.error_name_for_id(int(code)) or code
    if code in codes.STATUSES:
        return status_object(code), error_object("NO_ERROR")
    expired = code in ("EC_VALIDITY_EXPIRED", "EC_MESSAGE_CANCELED")
    status = status_object("EXPIRED_EXPIRED" if expired else "UNDELIVERABLE_NOT_DELIVERED")
    return status, error_object(code)


def _answer(result: _Accepted | tuple[Destination, str], flavour: str) -> dict[str, Any]:
    if isinstance(result, _Accepted):
        destination, status, segments = result.destination, "PENDING_ACCEPTED", result.segments
    else:
        (destination, status), segments = result, 0
    to = destination.to.removeprefix("+")
    if flavour == "v3":
        return {
            "messageId": destination.message_id,
            "destination": to,
            "status": status_object(status),
            "details": {"messageCount": segments},
        }
    return {
        "to": to,
        "messageId": destination.message_id,
        "status": status_object(status),
        "smsCount": segments,
    }


def _inbound_body(context: SandboxContext, sender: str, our_number: str) -> dict[str, Any]:
    result = {
        "messageId": str(context.rng.randrange(10**17, 10**18)),
        "from": sender.removeprefix("+"),
        "to": our_number,
        "smsCount": 1,
        "price": {"pricePerMessage": 0.0, "currency": "EUR"},
        "callbackData": "",
    }
    return {"results": [result], "messageCount": 1, "pendingMessageCount": 0}


def _keyword_parts(text: str) -> dict[str, str]:
    """``keyword``/``cleanText`` as Infobip splits them for keywords registered on the number."""
    first, _, rest = text.strip().partition(" ")
    if first.upper() in REGISTERED_KEYWORDS:
        return {"text": text, "keyword": first.upper(), "cleanText": rest.strip()}
    return {"text": text, "keyword": "", "cleanText": text}


def _infobip_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def install(app: web.Application, context: SandboxContext) -> None:
    """Add the Infobip routes; refuses a scenario naming codes Infobip does not have."""
    validate_codes(context.scenario.sms)
    InfobipEmulator(context).install(app)

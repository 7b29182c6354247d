"""How an emulated Twilio call plays out: outcome, timeline, callback fields.

A call's fate is decided when it is created (scripted rule, else
``fail_rate``), then laid out as steps in scenario seconds over the
scenario's ``delivery_delay_seconds`` (D)::

    completed  initiated 0 → ringing 0.1·D → answered 0.3·D → (gather 0.6·D) → completed D
    busy       initiated 0 → ringing 0.1·D → busy 0.2·D
    canceled   initiated 0 → ringing 0.1·D → canceled 0.3·D
    no-answer  initiated 0 → ringing 0.1·D → no-answer D
    failed     initiated 0 → failed 0.2·D (with ErrorCode when the fail code is numeric)

Final statuses other than ``completed`` belong to the ``completed`` event,
as on Twilio.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.scenario import ChannelScenario
from herald.domain.error_catalog import twilio as codes
from herald.errors import ValidationError

OUTCOMES = ("busy", "no-answer", "failed", "canceled", "machine", "fax")
DEFAULT_FAIL_CODE = "no-answer"
WORDS_PER_SECOND = 2.5
_SIP_CODES = {"busy": "486", "no-answer": "487", "canceled": "487", "failed": "404"}


@dataclass(frozen=True)
class CallStep:
    event: str  # initiated / ringing / answered / completed; "gather" for a gather request
    status: str  # the CallStatus it reports
    at_fraction: float  # of the scenario's delivery delay
    sequence: int | None  # SequenceNumber; None for gather requests (not progress events)


GATHER_STEP = CallStep("gather", "in-progress", 0.6, None)


@dataclass(frozen=True)
class CallPlan:
    call_sid: str
    to: str
    caller: str
    steps: tuple[CallStep, ...]
    answered_by: str | None = None
    error_code: str | None = None
    duration_seconds: int = 0
    gather_url: str | None = None  # set when a keypress will be posted there
    digits: str | None = None

    def callback_fields(self, step: CallStep, account_sid: str) -> dict[str, str]:
        """The form of a status callback (or gather request) at ``step``."""
        fields = {
            "CallSid": self.call_sid,
            "AccountSid": account_sid,
            "From": self.caller,
            "To": self.to,
            "Caller": self.caller,
            "Called": self.to,
            "CallStatus": step.status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "ForwardedFrom": "",
            "CallerName": "",
            "ParentCallSid": "",
        }
        if self.answered_by and step.status in ("in-progress", "completed"):
            fields["AnsweredBy"] = self.answered_by
        if step.sequence is None:
            return fields
        fields |= {"CallbackSource": "call-progress-events", "SequenceNumber": str(step.sequence)}
        return fields | self._final_fields(step)

    def _final_fields(self, step: CallStep) -> dict[str, str]:
        extra: dict[str, str] = {}
        if step.status == "completed":
            extra["CallDuration"] = extra["Duration"] = str(self.duration_seconds)
        if step.status in _SIP_CODES:
            extra["SipResponseCode"] = _SIP_CODES[step.status]
        if step.status == "failed" and self.error_code:
            extra["ErrorCode"] = self.error_code
            extra["ErrorMessage"] = _title(self.error_code)
        return extra


def _title(code: str) -> str:
    return next((e.title for e in codes.ENTRIES if e.code == code), "Call failed")


def _steps(status: str) -> tuple[CallStep, ...]:
    if status == "completed":
        later = [("ringing", "ringing", 0.1), ("answered", "in-progress", 0.3)]
        later.append(("completed", "completed", 1.0))
    elif status == "failed":
        later = [("completed", "failed", 0.2)]
    else:
        final_at = {"busy": 0.2, "canceled": 0.3, "no-answer": 1.0}[status]
        later = [("ringing", "ringing", 0.1), ("completed", status, final_at)]
    steps = [CallStep("initiated", "initiated", 0.0, 0)]
    steps += [CallStep(event, s, at, n + 1) for n, (event, s, at) in enumerate(later)]
    return tuple(steps)


# --- deciding a call -----------------------------------------------------------------


def plan_call(
    context: SandboxContext, scenario: ChannelScenario, params: list[tuple[str, str]]
) -> CallPlan:
    """Decide how the call requested by ``params`` ends, and what the callee replies."""
    form = dict(params)
    to = form["To"]
    rule = scenario.rule_for(to)
    fail = rule.fail if rule is not None else None
    if fail is None and context.chance(scenario.fail_rate):
        fail = context.pick(scenario.fail_codes, DEFAULT_FAIL_CODE)
    status, answered_by, error_code = _outcome(fail, form.get("MachineDetection"))
    twiml = form.get("Twiml", "")
    plan = CallPlan(
        call_sid="CA" + context.token(16),
        to=to,
        caller=form["From"],
        steps=_steps(status),
        answered_by=answered_by,
        error_code=error_code,
        duration_seconds=_spoken_seconds(twiml) if status == "completed" else 0,
    )
    human = status == "completed" and fail is None
    return (
        _with_reply(context, scenario, plan, twiml, rule.reply if rule else None) if human else plan
    )


def _outcome(fail: str | None, detection: str | None) -> tuple[str, str | None, str | None]:
    """(final CallStatus, AnsweredBy, ErrorCode) for a fail code."""
    if fail is None:
        return "completed", "human" if detection else None, None
    if fail == "machine":
        machine = "machine_end_beep" if detection == "DetectMessageEnd" else "machine_start"
        return "completed", machine if detection else None, None
    if fail == "fax":
        return "completed", "fax" if detection else None, None
    if fail.isdigit():
        return "failed", None, fail
    return fail, None, None


def _spoken_seconds(twiml: str) -> int:
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - the sandbox parses what Herald sends
    except ET.ParseError:
        return 1
    words = sum(len((say.text or "").split()) for say in root.iter("Say"))
    return max(1, math.ceil(words / WORDS_PER_SECOND))


def _with_reply(
    context: SandboxContext,
    scenario: ChannelScenario,
    plan: CallPlan,
    twiml: str,
    scripted: str | None,
) -> CallPlan:
    gather = _gather(twiml)
    if gather is None:
        return plan
    text = scripted
    if text is None and context.chance(scenario.reply_rate):
        text = context.pick(scenario.reply_texts, "1")
    if text is None:
        return plan
    url, max_digits = gather
    pressed = "".join(c for c in text if c.isdigit()) or "1"
    return replace(plan, gather_url=url, digits=pressed[:max_digits])


def _gather(twiml: str) -> tuple[str, int] | None:
    """The absolute action URL and digit count of the TwiML's first ``<Gather>``."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - the sandbox parses what Herald sends
    except ET.ParseError:
        return None
    gather = root.find(".//Gather")
    action = gather.get("action", "") if gather is not None else ""
    if gather is None or not action.startswith(("http://", "https://")):
        return None
    digits = gather.get("numDigits", "")
    return action, int(digits) if digits.isdigit() and int(digits) > 0 else 16


def call_resource(plan: CallPlan, account_sid: str, now: datetime) -> dict[str, Any]:
    """The 201 answer to a create-call request."""
    stamp = format_datetime(now)
    base = f"/2010-04-01/Accounts/{account_sid}/Calls/{plan.call_sid}"
    return {
        "sid": plan.call_sid,
        "account_sid": account_sid,
        "to": plan.to,
        "to_formatted": plan.to,
        "from": plan.caller,
        "from_formatted": plan.caller,
        "status": "queued",
        "direction": "outbound-api",
        "answered_by": None,
        "duration": None,
        "price": None,
        "price_unit": "USD",
        "start_time": None,
        "end_time": None,
        "parent_call_sid": None,
        "api_version": "2010-04-01",
        "queue_time": "0",
        "date_created": stamp,
        "date_updated": stamp,
        "uri": base + ".json",
        "subresource_uris": {"recordings": base + "/Recordings.json"},
    }


def validate_codes(scenario: ChannelScenario) -> None:
    """Refuse reject/fail codes the emulated Twilio cannot produce, naming them."""
    numeric = {e.code for e in codes.ENTRIES if e.code.isdigit()}
    for code in [*scenario.reject_codes, *(r.reject for r in scenario.rules if r.reject)]:
        if code not in numeric:
            raise ValidationError(
                f"scenario voice: {code!r} is not a Twilio API error code Herald knows "
                f"(one of {', '.join(sorted(numeric))})",
                field="voice.reject_codes",
            )
    for code in [*scenario.fail_codes, *(r.fail for r in scenario.rules if r.fail)]:
        if code not in OUTCOMES and not code.isdigit():
            raise ValidationError(
                f"scenario voice: {code!r} is not a call outcome ({', '.join(OUTCOMES)}) "
                "or a numeric Twilio error code",
                field="voice.fail_codes",
            )

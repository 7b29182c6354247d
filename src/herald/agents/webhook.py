"""The ``webhook`` agent: the user's own bot, reached over signed HTTP.

Herald POSTs the inbound message with its context (see docs/agents.md for a
full example) to the configured URL with these headers::

    Content-Type: application/json
    X-Herald-Delivery: <unique id of this call>
    X-Herald-Timestamp: <unix seconds when Herald signed it>
    X-Herald-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

The timestamp is inside the signed bytes, so a captured request cannot be
replayed later with a fresh timestamp; bots should reject timestamps more than
:data:`SIGNATURE_TOLERANCE_SECONDS` away from their clock and compare
signatures in constant time.

The bot answers either inline (HTTP 200 with ``{"reply": ..., "actions": [...]}``,
read like an LLM's answer) or with HTTP 202, meaning it will answer later
through Herald's API; the decision is then ``deferred`` (no reply, no
hand-off). Anything else (other statuses, redirects, timeouts, unreadable
JSON) hands the conversation to a human with the holding reply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from typing import Any

import aiohttp

from herald import __version__
from herald.agents.base import context_json
from herald.agents.config import WebhookAgentConfig
from herald.agents.http import AnswerTooLargeError, read_capped
from herald.clock import Clock
from herald.domain.agent_output import AgentOutputError, extract_json_object, read_decision
from herald.domain.agents import AgentContext, AgentDecision, hand_off_decision, never_silent

logger = logging.getLogger(__name__)
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_ANSWER_BYTES = 256 * 1024
EVENT_TYPE = "message.received"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Herald-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class WebhookAgent:
    def __init__(
        self, config: WebhookAgentConfig, *, http: aiohttp.ClientSession, clock: Clock
    ) -> None:
        self.config = config
        self._http = http
        self._clock = clock

    async def respond(self, context: AgentContext) -> AgentDecision:
        delivery = str(uuid.uuid4())
        now = self._clock.now()
        payload = {
            "type": EVENT_TYPE,
            "delivery_id": delivery,
            "sent_at": now.isoformat(),
            **context_json(context, history_messages=self.config.history_messages),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"Herald/{__version__}",
            "X-Herald-Delivery": delivery,
            "X-Herald-Timestamp": timestamp,
            "X-Herald-Signature": sign(self.config.secret, timestamp, body),
        }
        try:
            status, raw = await self._post(body, headers)
        except _CallFailedError as exc:
            return self._fail(str(exc))
        return self._decide(status, raw)

    async def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        try:
            async with self._http.post(
                self.config.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await read_capped(response, MAX_ANSWER_BYTES)
        except TimeoutError as exc:
            raise _CallFailedError(f"no answer within {self.config.timeout_seconds} s") from exc
        except aiohttp.ClientError as exc:
            raise _CallFailedError(f"cannot reach the bot: {type(exc).__name__}") from exc
        except AnswerTooLargeError as exc:
            raise _CallFailedError(str(exc)) from exc

    def _decide(self, status: int, raw: bytes) -> AgentDecision:
        if status == 202:
            return AgentDecision(deferred=True, note="the bot will answer through the API")
        if status != 200:
            return self._fail(f"bot answered HTTP {status}")
        try:
            answer: Any = extract_json_object(raw.decode("utf-8", errors="replace"))
            output = read_decision(answer, max_reply_chars=self.config.max_reply_chars)
        except AgentOutputError as exc:
            return self._fail(f"unreadable answer: {exc}")
        if output.dropped:
            logger.warning("webhook agent dropped %s", "; ".join(output.dropped))
        return never_silent(output.decision, self.config.holding_reply)

    def _fail(self, reason: str) -> AgentDecision:
        logger.warning("webhook agent failed, handing off: %s", reason)
        return hand_off_decision(f"webhook agent failed: {reason}", self.config.holding_reply)


class _CallFailedError(Exception):
    pass

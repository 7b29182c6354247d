"""The ``llm`` agent: any OpenAI-compatible chat-completions endpoint.

One ``POST {base_url}/chat/completions`` per inbound message, with:

1. the user's system prompt;
2. Herald's own system message: the answer format (below), the allowed
   actions, and the facts as JSON (channel, contact fields, campaign);
3. the conversation so far (contact → ``user``, Herald → ``assistant``),
   then the new message as the last ``user`` message.

It asks for ``response_format: {"type": "json_object"}`` and reads the answer
defensively (:mod:`herald.domain.agent_output`): JSON inside prose or code
fences is found, unknown or malformed actions are dropped and logged, an
over-long reply is refused and handed off. Any failure (key variable unset,
connection refused, timeout, non-200 status, unreadable answer) becomes a
hand-off to a human with the configured holding reply: never silence.

The API key is read from the environment variable named in the configuration
at every call, so rotating it needs no restart, and it is never logged.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import aiohttp

from herald.agents.base import context_json
from herald.agents.config import LlmAgentConfig
from herald.agents.http import AnswerTooLargeError, read_capped
from herald.domain.agent_output import AgentOutputError, extract_json_object, read_decision
from herald.domain.agents import (
    OUTCOME_PATTERN,
    AgentContext,
    AgentDecision,
    Direction,
    hand_off_decision,
    never_silent,
)

logger = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 1_000_000

ANSWER_CONTRACT = """\
You answer messages that a contact sent in reply to a campaign, on the channel \
they used. Answer with one JSON object and nothing else:
{{"reply": "<text to send back, or null to send nothing>",
  "actions": [<zero or more actions>]}}
Actions:
- {{"type": "add_tags", "tags": ["<lowercase-tag>"]}}  label the conversation
- {{"type": "set_outcome", "outcome": "<label>"}}  e.g. confirmed, reschedule, \
not_interested; lowercase letters, digits and _ (pattern {outcome_pattern})
- {{"type": "hand_off", "reason": "<why>"}}  a person takes over the conversation
- {{"type": "opt_out"}}  the contact does not want any more messages
Keep the reply under {max_reply_chars} characters. If you cannot help, hand off.
Facts about this conversation (JSON):
{facts}"""


class LlmAgent:
    def __init__(
        self,
        config: LlmAgentConfig,
        *,
        http: aiohttp.ClientSession,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self._http = http
        self._environ = environ

    async def respond(self, context: AgentContext) -> AgentDecision:
        config = self.config
        headers = {"Content-Type": "application/json"}
        if config.api_key_env:
            key = (self._environ if self._environ is not None else os.environ).get(
                config.api_key_env
            )
            if not key:
                return self._fail(f"environment variable {config.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {key}"
        try:
            content = await self._complete(build_request(config, context), headers)
            output = read_decision(
                extract_json_object(content), max_reply_chars=config.max_reply_chars
            )
        except _CallFailedError as exc:
            return self._fail(str(exc))
        except AgentOutputError as exc:
            return self._fail(f"unreadable answer: {exc}")
        if output.dropped:
            logger.warning("LLM agent %s dropped %s", config.model, "; ".join(output.dropped))
        return never_silent(output.decision, config.holding_reply)

    async def _complete(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        url = f"{self.config.base_url}/chat/completions"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        try:
            async with self._http.post(
                url, json=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                raw = await read_capped(response, MAX_ANSWER_BYTES)
                status = response.status
        except TimeoutError as exc:
            raise _CallFailedError(f"no answer within {self.config.timeout_seconds} s") from exc
        except aiohttp.ClientError as exc:
            raise _CallFailedError(f"cannot reach {url}: {type(exc).__name__}") from exc
        except AnswerTooLargeError as exc:
            raise _CallFailedError(str(exc)) from exc
        if status != 200:
            raise _CallFailedError(f"endpoint answered HTTP {status}")
        return _message_content(raw)

    def _fail(self, reason: str) -> AgentDecision:
        logger.warning("LLM agent %s failed, handing off: %s", self.config.model, reason)
        return hand_off_decision(f"llm agent failed: {reason}", self.config.holding_reply)


class _CallFailedError(Exception):
    pass


def _message_content(raw: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions answer."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise _CallFailedError("answer is not a chat completion") from exc
    if not isinstance(content, str):
        raise _CallFailedError("the completion has no text content")
    return content


def build_request(config: LlmAgentConfig, context: AgentContext) -> dict[str, Any]:
    """The chat-completions request body for ``context`` (see the module docstring)."""
    facts = context_json(context, history_messages=0)
    del facts["message"], facts["conversation"]
    facts["received_at"] = context.inbound.at.isoformat()  # lets the model reason about dates
    contract = ANSWER_CONTRACT.format(
        outcome_pattern=OUTCOME_PATTERN.pattern,
        max_reply_chars=config.max_reply_chars,
        facts=json.dumps(facts, ensure_ascii=False, indent=1),
    )
    messages = [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []
    messages.append({"role": "system", "content": contract})
    history = context.conversation[-config.history_messages :] if config.history_messages else ()
    for message in (*history, context.inbound):
        role = "user" if message.direction is Direction.INBOUND else "assistant"
        text = message.text
        if message.payload and message.payload != text:
            text = f"{text} [button or key: {message.payload}]"
        messages.append({"role": role, "content": text})
    body: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "temperature": config.temperature,
        "response_format": {"type": "json_object"},
    }
    if config.max_tokens is not None:
        body["max_tokens"] = config.max_tokens
    return body

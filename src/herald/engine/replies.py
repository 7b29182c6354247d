"""The reply worker: answer what people write, through each conversation's agent.

A batch goes through four stages:

1. claim up to ``batch_size`` due conversations (leased, ``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL); record replies a dead worker left ``sending`` as
   ``unknown``; turn replies users and bots queued into intents (``sending``);
   pick each conversation's oldest inbound message waiting for the agent and
   build its context; commit;
2. run the agents, concurrently, outside any transaction (a built agent is
   cached per pinned version);
3. apply the decisions and record the agents' replies as intents; commit;
4. send every intent within the integrations' rate limits, then write the
   answers back and release the conversations; commit.

Exactly once: a reply is committed as ``sending`` before its provider call,
and a ``sending`` reply found by a later worker is ``unknown`` — never sent
again. An agent may be asked twice about the same message if a worker dies
between stages 1 and 3 (nothing was sent then; the answer is simply
computed again).

One message per conversation and batch: the next one waits for the next
batch, so every answer sees the previous answer in the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from herald.agents.base import Agent
from herald.channels.base import SendResult
from herald.clock import Clock
from herald.domain.agents import AgentContext, AgentDecision, hand_off_decision
from herald.domain.channels import Channel
from herald.domain.conversations import AgentStatus, ConversationStatus, ReplyStatus
from herald.engine.decisions import DecisionToApply, OptOutRecorder, apply_decisions
from herald.engine.dispatch import Dispatcher
from herald.engine.reply_content import PendingReply, reply_message, unsendable_reason
from herald.engine.reply_context import ContextBuilder
from herald.engine.reply_results import result_change
from herald.engine.worker import Worker
from herald.store import conversation_work as work
from herald.store.conversation_work import OutboundReply, QueuedInbound, ReplyChange
from herald.store.conversations import ConversationRecord
from herald.store.suppression import find_suppressed

logger = logging.getLogger(__name__)

DEFAULT_REPLY_BATCH = 50
DEFAULT_REPLY_LEASE = timedelta(minutes=5)

# Builds the runnable agent of a published version (blocking: reads the database).
AgentLoader = Callable[[int], Agent]


@dataclass(frozen=True)
class Question:
    """One inbound message for the agent, with everything the agent sees."""

    conversation: ConversationRecord
    inbound: QueuedInbound
    context: AgentContext
    campaign_name: str | None


@dataclass
class ReplyBatch:
    conversations: list[ConversationRecord]
    questions: list[Question] = field(default_factory=list)
    suppressed: set[int] = field(default_factory=set)  # conversation ids
    sends: list[PendingReply] = field(default_factory=list)


class ReplyWorker(Worker):
    name = "replies"
    idle_seconds = 0.2

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        dispatcher: Dispatcher,
        owner: str,
        load_agent: AgentLoader,
        record_opt_out: OptOutRecorder,
        batch_size: int = DEFAULT_REPLY_BATCH,
        lease: timedelta = DEFAULT_REPLY_LEASE,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._dispatcher = dispatcher
        self._owner = owner
        self._load_agent = load_agent
        self._record_opt_out = record_opt_out
        self._batch_size = batch_size
        self._lease = lease
        self._agents: dict[int, Agent] = {}

    async def run_once(self) -> int:
        batch = await asyncio.to_thread(self.begin)
        if batch is None:
            return 0
        decisions = await self.decide(batch)
        await asyncio.to_thread(self.apply, batch, decisions)
        outcomes, _held = await self._dispatcher.send_all(batch.sends)
        await asyncio.to_thread(self.finish, batch, outcomes)
        return len(batch.conversations)

    # -- stage 1 ------------------------------------------------------------

    def begin(self) -> ReplyBatch | None:
        """Claim conversations, settle leftovers, prepare the questions; commit."""
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            claimed = work.claim_conversations(
                session, self._owner, now, self._lease, self._batch_size
            )
            if not claimed:
                return None
            ids = [c.id for c in claimed]
            batch = ReplyBatch(claimed, suppressed=_suppressed(session, claimed))
            recovered = work.recover_unanswered(session, ids, now)
            if recovered:
                logger.warning("%d replies left unanswered by a stopped worker: unknown", recovered)
            self._start_queued_replies(session, batch)
            waiting = work.oldest_queued_inbound(session, ids)
            skipped, answerable = _triage(claimed, waiting, batch.suppressed)
            work.settle_inbound(session, skipped)
            builder = ContextBuilder(session, [c for c, _ in answerable])
            for conversation, inbound in answerable:
                context, campaign = builder.context(conversation, inbound)
                batch.questions.append(Question(conversation, inbound, context, campaign))
            return batch

    def _start_queued_replies(self, session: Session, batch: ReplyBatch) -> None:
        """Replies queued by users and bots become intents, or are refused with the reason."""
        by_id = {c.id: c for c in batch.conversations}
        now = self._clock.now()
        changes = []
        for reply in work.queued_replies(session, list(by_id), now):
            conversation = by_id[reply.conversation_id]
            change = _start(reply, conversation, reply.conversation_id in batch.suppressed)
            changes.append(change)
            if change.status is ReplyStatus.SENDING:
                batch.sends.append(_pending(reply, conversation, reply.attempts + 1))
        work.change_replies(session, changes, now)

    # -- stage 2 ------------------------------------------------------------

    async def decide(self, batch: ReplyBatch) -> list[AgentDecision]:
        return list(await asyncio.gather(*(self._ask(q) for q in batch.questions)))

    async def _ask(self, question: Question) -> AgentDecision:
        version_id = question.conversation.agent_version_id
        if version_id is None:
            return hand_off_decision("no agent is set for this conversation")
        try:
            agent = await self._agent(version_id)
            return await agent.respond(question.context)
        except Exception as exc:  # agents promise not to raise; a bug must not lose a message
            logger.exception(
                "agent version %s failed on conversation %s", version_id, question.conversation.id
            )
            return hand_off_decision(f"agent failed: {type(exc).__name__}: {exc}")

    async def _agent(self, version_id: int) -> Agent:
        agent = self._agents.get(version_id)
        if agent is None:
            agent = await asyncio.to_thread(self._load_agent, version_id)
            self._agents[version_id] = agent
        return agent

    # -- stage 3 ------------------------------------------------------------

    def apply(self, batch: ReplyBatch, decisions: Sequence[AgentDecision]) -> None:
        """Apply the decisions and record the agents' replies as intents; commit."""
        items = [
            DecisionToApply(
                conversation=q.conversation,
                decision=decision,
                inbound=q.inbound,
                is_suppressed=q.conversation.id in batch.suppressed,
                campaign_name=q.campaign_name,
            )
            for q, decision in zip(batch.questions, decisions, strict=True)
        ]
        by_id = {c.id: c for c in batch.conversations}
        with self._sessions() as session, session.begin():
            replies = apply_decisions(
                session, items, self._clock.now(), record_opt_out=self._record_opt_out
            )
        for reply in replies:
            if reply.status is ReplyStatus.SENDING:
                batch.sends.append(_pending(reply, by_id[reply.conversation_id], reply.attempts))

    # -- stage 4 ------------------------------------------------------------

    def finish(
        self, batch: ReplyBatch, outcomes: Sequence[tuple[PendingReply, SendResult]]
    ) -> None:
        """Write the providers' answers and release the conversations; commit."""
        now = self._clock.now()
        changes = [result_change(send, result, now) for send, result in outcomes]
        with self._sessions() as session, session.begin():
            work.change_replies(session, changes, now)
            ids = [c.id for c in batch.conversations]
            work.release_conversations(session, ids, self._owner, now)


def _suppressed(session: Session, conversations: Sequence[ConversationRecord]) -> set[int]:
    """Conversations whose address may not be messaged on their channel (right now)."""
    found: set[int] = set()
    for channel in Channel:
        group = [c for c in conversations if c.channel is channel]
        if group:
            blocked = find_suppressed(session, [c.address for c in group], channel)
            found |= {c.id for c in group if c.address in blocked}
    return found


def _triage(
    claimed: Sequence[ConversationRecord],
    waiting: dict[int, QueuedInbound],
    suppressed: set[int],
) -> tuple[
    list[tuple[int, AgentStatus, str | None]], list[tuple[ConversationRecord, QueuedInbound]]
]:
    """Split waiting messages into those the agent answers and those it must not."""
    skipped: list[tuple[int, AgentStatus, str | None]] = []
    answerable = []
    for conversation in claimed:
        inbound = waiting.get(conversation.id)
        if inbound is None:
            continue
        if conversation.status is not ConversationStatus.OPEN:
            note = f"conversation {conversation.status.value.replace('_', ' ')}"
            skipped.append((inbound.id, AgentStatus.SKIPPED, note))
        elif conversation.id in suppressed:
            skipped.append((inbound.id, AgentStatus.SKIPPED, "address is suppressed"))
        else:
            answerable.append((conversation, inbound))
    return skipped, answerable


def _start(
    reply: OutboundReply, conversation: ConversationRecord, is_suppressed: bool
) -> ReplyChange:
    unsendable = unsendable_reason(conversation)
    origin = (ReplyStatus.QUEUED,)
    if unsendable is not None:
        code, detail = unsendable
        return ReplyChange(
            reply.key, ReplyStatus.NOT_SENT, origin, error_code=code, error_detail=detail
        )
    if is_suppressed:
        return ReplyChange(
            reply.key,
            ReplyStatus.SUPPRESSED,
            origin,
            error_code="suppressed",
            error_detail="the address is on the suppression list",
        )
    return ReplyChange(reply.key, ReplyStatus.SENDING, origin, attempts=reply.attempts + 1)


def _pending(reply: OutboundReply, conversation: ConversationRecord, attempts: int) -> PendingReply:
    assert conversation.integration_id is not None  # unsendable replies never get here
    return PendingReply(
        conversation_id=conversation.id,
        integration_id=conversation.integration_id,
        message=reply_message(reply, conversation),
        attempts=attempts,
    )

"""A provider's answer to a reply, as a status change of the reply's row.

Retryable refusals (throttling, 5xx, a connection that never opened) put the
reply back in the queue with a retry time from the same policy the journeys
use: nothing reached the person, so sending again cannot duplicate. Every
other answer is final for the call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from herald.channels.base import (
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.domain.conversations import ReplyStatus
from herald.domain.retry_policy import RetryAt, RetryPolicy, decide_retry
from herald.engine.reply_content import PendingReply
from herald.engine.results import is_throttle
from herald.store.conversation_work import ReplyChange

FROM_SENDING = (ReplyStatus.SENDING,)
# An answer that arrives hours after the question reads like a new message:
# replies give up sooner than campaign messages, and a person sees why.
REPLY_RETRY_POLICY = RetryPolicy(max_throttles=10, max_delay=timedelta(minutes=5))


def result_change(
    send: PendingReply,
    result: SendResult,
    now: datetime,
    policy: RetryPolicy = REPLY_RETRY_POLICY,
) -> ReplyChange:
    key = send.message.key
    match result:
        case SendAccepted():
            return ReplyChange(
                key,
                ReplyStatus.ACCEPTED,
                FROM_SENDING,
                provider_message_id=result.provider_message_id,
            )
        case SendUnknown():
            return ReplyChange(key, ReplyStatus.UNKNOWN, FROM_SENDING, error_detail=result.reason)
        case SendTerminal():
            failure = result.failure
            return ReplyChange(
                key,
                ReplyStatus.REJECTED,
                FROM_SENDING,
                error_code=failure.code,
                error_detail=failure.title,
            )
        case SendRetryable():
            return _retry(send, result, now, policy)


def _retry(
    send: PendingReply, result: SendRetryable, now: datetime, policy: RetryPolicy
) -> ReplyChange:
    failure = result.failure
    after = result.retry_after_seconds
    decision = decide_retry(
        policy,
        errors=send.attempts,
        throttles=send.attempts,
        is_throttle=is_throttle(failure),
        retry_after=None if after is None else timedelta(seconds=after),
        now=now,
    )
    if isinstance(decision, RetryAt):
        return ReplyChange(
            send.message.key,
            ReplyStatus.QUEUED,
            FROM_SENDING,
            error_code=failure.code,
            error_detail=failure.title,
            retry_at=decision.at,
        )
    return ReplyChange(
        send.message.key,
        ReplyStatus.REJECTED,
        FROM_SENDING,
        error_code=failure.code,
        error_detail=f"{failure.title} (gave up: {decision.reason.value})",
    )

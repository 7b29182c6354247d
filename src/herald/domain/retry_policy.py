"""When to try a synchronously rejected send again, as a pure decision.

A provider can refuse a send in two retryable ways, and they are budgeted
apart because they mean different things:

* an *error* (timeout before the request was written, 5xx, a transient
  provider code): something is wrong, so a few attempts are enough before the
  journey moves on to the next fallback;
* *throttling* (HTTP 429, WhatsApp 130429, Infobip rate limits): nothing is
  wrong with the message, sending is merely too fast. Throttling must slow a
  campaign down rather than fail its contacts, so it has a much larger budget.

Delays grow exponentially (``base_delay * multiplier ** (n - 1)`` for the
n-th rejection of that kind), capped at ``max_delay``. A provider's
``retry_after`` is always honoured: the delay is never shorter than it. A
provider that asks for more than ``max_retry_after`` is treated as a refusal,
so one contact never stalls for hours on a single step while a fallback could
reach them.

There is no random jitter here: the decision must be reproducible, and
retries that fall due together are spread by the engine's per-integration
rate limiter anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from herald.errors import ValidationError

MAX_MULTIPLIER = 10.0


class GiveUpReason(StrEnum):
    """Why a retryable rejection ends the step anyway."""

    ERRORS_EXHAUSTED = "errors_exhausted"
    THROTTLING_EXHAUSTED = "throttling_exhausted"
    RETRY_AFTER_TOO_LONG = "retry_after_too_long"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retryable rejections a step tolerates, and how far apart.

    ``max_errors`` counts attempts that ended in a retryable error (so the
    default allows five attempts in all when nothing is throttled);
    ``max_throttles`` counts throttled rejections.
    """

    max_errors: int = 5
    max_throttles: int = 20
    base_delay: timedelta = timedelta(seconds=30)
    multiplier: float = 2.0
    max_delay: timedelta = timedelta(minutes=10)
    max_retry_after: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_errors < 1:
            raise ValidationError("max_errors must be at least 1", field="retry.max_errors")
        if self.max_throttles < 0:
            raise ValidationError("max_throttles cannot be negative", field="retry.max_throttles")
        if self.base_delay <= timedelta(0):
            raise ValidationError("base_delay must be positive", field="retry.base_delay")
        if not 1 <= self.multiplier <= MAX_MULTIPLIER:
            raise ValidationError(
                f"multiplier must be between 1 and {MAX_MULTIPLIER}", field="retry.multiplier"
            )
        if self.max_delay < self.base_delay:
            raise ValidationError(
                "max_delay cannot be shorter than base_delay", field="retry.max_delay"
            )
        if self.max_retry_after < timedelta(0):
            raise ValidationError(
                "max_retry_after cannot be negative", field="retry.max_retry_after"
            )


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Send the step again at ``at``."""

    at: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop retrying: the rejection counts as terminal for this step."""

    reason: GiveUpReason


RetryDecision = RetryAt | GiveUp


def backoff_delay(policy: RetryPolicy, rejections: int) -> timedelta:
    """The pause after the ``rejections``-th rejection of one kind (1-based)."""
    # Capping the exponent keeps the float finite; the cap is far past max_delay anyway.
    exponent = min(max(rejections, 1) - 1, 64)
    seconds = policy.base_delay.total_seconds() * policy.multiplier**exponent
    return timedelta(seconds=min(seconds, policy.max_delay.total_seconds()))


def decide_retry(
    policy: RetryPolicy,
    *,
    errors: int,
    throttles: int,
    is_throttle: bool,
    retry_after: timedelta | None,
    now: datetime,
) -> RetryDecision:
    """Decide what follows a retryable rejection.

    ``errors`` and ``throttles`` count the step's rejections of each kind
    *including* the one being decided; ``is_throttle`` says which kind it is.
    """
    if is_throttle:
        if throttles > policy.max_throttles:
            return GiveUp(GiveUpReason.THROTTLING_EXHAUSTED)
        delay = backoff_delay(policy, throttles)
    else:
        if errors >= policy.max_errors:
            return GiveUp(GiveUpReason.ERRORS_EXHAUSTED)
        delay = backoff_delay(policy, errors)
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return GiveUp(GiveUpReason.RETRY_AFTER_TOO_LONG)
        delay = max(delay, retry_after)
    return RetryAt(now + delay)

"""How failed logins slow down further attempts.

Failures are counted per key (an account's email, a client's IP address).
The first ``free_failures - 1`` cost nothing, so a user who mistypes a few
times is never slowed. From then on each failure blocks the key for a delay
that doubles, up to ``max_delay_seconds``: a guesser gets a few dozen tries an
hour instead of thousands per second. A key that has been quiet for
``forget_after_seconds`` since its last failure starts again from zero.

The lockout is temporary on purpose: a permanent one would let anybody lock
any user out by typing their email with wrong passwords.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# 2 ** 20 seconds is beyond any sensible cap; bounding the exponent keeps the
# arithmetic small whatever the stored failure count.
_MAX_EXPONENT = 20


class ThrottleScope(StrEnum):
    ACCOUNT = "account"
    CLIENT_IP = "ip"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    base_delay_seconds: int
    max_delay_seconds: int
    forget_after_seconds: int

    def __post_init__(self) -> None:
        if self.free_failures < 1 or self.base_delay_seconds < 1:
            raise ValueError("free_failures and base_delay_seconds must be at least 1")
        if not self.base_delay_seconds <= self.max_delay_seconds < self.forget_after_seconds:
            raise ValueError("need base_delay <= max_delay < forget_after")


# An account gets 4 free failures; an IP address, which may be a whole office
# behind one NAT, gets more before it is slowed.
ACCOUNT_POLICY = ThrottlePolicy(
    free_failures=5, base_delay_seconds=2, max_delay_seconds=900, forget_after_seconds=3600
)
CLIENT_IP_POLICY = ThrottlePolicy(
    free_failures=20, base_delay_seconds=2, max_delay_seconds=900, forget_after_seconds=3600
)


@dataclass(frozen=True)
class FailureRecord:
    failures: int
    last_failure_at: datetime


def delay_after(failures: int, policy: ThrottlePolicy) -> timedelta:
    """How long a key is blocked after its ``failures``-th consecutive failure."""
    if failures < policy.free_failures:
        return timedelta(0)
    exponent = min(failures - policy.free_failures, _MAX_EXPONENT)
    seconds = min(policy.base_delay_seconds * 2**exponent, policy.max_delay_seconds)
    return timedelta(seconds=seconds)


def is_forgotten(record: FailureRecord, now: datetime, policy: ThrottlePolicy) -> bool:
    return now - record.last_failure_at >= timedelta(seconds=policy.forget_after_seconds)


def failures_counted(record: FailureRecord | None, now: datetime, policy: ThrottlePolicy) -> int:
    """The failures that still count at ``now``."""
    if record is None or is_forgotten(record, now, policy):
        return 0
    return record.failures


def retry_after_seconds(record: FailureRecord | None, now: datetime, policy: ThrottlePolicy) -> int:
    """Whole seconds until the key may try again; 0 when it may try now."""
    failures = failures_counted(record, now, policy)
    if record is None or failures == 0:
        return 0
    blocked_until = record.last_failure_at + delay_after(failures, policy)
    remaining = (blocked_until - now).total_seconds()
    return max(0, math.ceil(remaining))

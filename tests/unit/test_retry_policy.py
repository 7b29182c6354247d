from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.retry_policy import (
    DEFAULT_RETRY_POLICY,
    GiveUp,
    GiveUpReason,
    RetryAt,
    backoff_delay,
    decide_retry,
)
from herald.errors import ValidationError

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SECONDS = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("rejections", "delay"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (60, 600), (10_000, 600)],
)
def test_the_default_backoff_doubles_from_30_seconds_up_to_10_minutes(
    rejections: int, delay: int
) -> None:
    assert backoff_delay(DEFAULT_RETRY_POLICY, rejections) == delay * SECONDS


@pytest.mark.parametrize(
    ("errors", "throttles", "is_throttle", "retry_after", "decision"),
    [
        (1, 0, False, None, RetryAt(T0 + 30 * SECONDS)),
        (4, 0, False, None, RetryAt(T0 + 240 * SECONDS)),
        (5, 0, False, None, GiveUp(GiveUpReason.ERRORS_EXHAUSTED)),
        (4, 7, False, None, RetryAt(T0 + 240 * SECONDS)),
        (0, 1, True, None, RetryAt(T0 + 30 * SECONDS)),
        (4, 20, True, None, RetryAt(T0 + 600 * SECONDS)),
        (0, 21, True, None, GiveUp(GiveUpReason.THROTTLING_EXHAUSTED)),
        (1, 0, False, 90 * SECONDS, RetryAt(T0 + 90 * SECONDS)),
        (3, 0, False, 5 * SECONDS, RetryAt(T0 + 120 * SECONDS)),
        (0, 1, True, timedelta(hours=1), RetryAt(T0 + timedelta(hours=1))),
        (0, 1, True, timedelta(hours=1, seconds=1), GiveUp(GiveUpReason.RETRY_AFTER_TOO_LONG)),
    ],
)
def test_decide_retry(
    errors: int,
    throttles: int,
    is_throttle: bool,
    retry_after: timedelta | None,
    decision: object,
) -> None:
    assert (
        decide_retry(
            DEFAULT_RETRY_POLICY,
            errors=errors,
            throttles=throttles,
            is_throttle=is_throttle,
            retry_after=retry_after,
            now=T0,
        )
        == decision
    )


@given(
    errors=st.integers(1, 50),
    throttles=st.integers(0, 50),
    is_throttle=st.booleans(),
    retry_after=st.none() | st.timedeltas(timedelta(0), timedelta(hours=2)),
)
def test_a_retry_is_never_sooner_than_the_provider_asked_nor_in_the_past(
    errors: int, throttles: int, is_throttle: bool, retry_after: timedelta | None
) -> None:
    decision = decide_retry(
        DEFAULT_RETRY_POLICY,
        errors=errors,
        throttles=throttles,
        is_throttle=is_throttle,
        retry_after=retry_after,
        now=T0,
    )
    if isinstance(decision, RetryAt):
        assert decision.at > T0
        assert retry_after is None or decision.at >= T0 + retry_after


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_errors": 0}, "retry.max_errors"),
        ({"max_throttles": -1}, "retry.max_throttles"),
        ({"base_delay": timedelta(0)}, "retry.base_delay"),
        ({"multiplier": 0.5}, "retry.multiplier"),
        ({"multiplier": 11.0}, "retry.multiplier"),
        ({"max_delay": timedelta(seconds=1)}, "retry.max_delay"),
        ({"max_retry_after": -SECONDS}, "retry.max_retry_after"),
    ],
)
def test_an_unworkable_policy_is_refused_naming_the_setting(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        replace(DEFAULT_RETRY_POLICY, **options)
    assert caught.value.field == field

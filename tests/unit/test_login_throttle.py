"""The failed-login policy: free failures, doubling delays, a cap, forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.login_throttle import (
    ACCOUNT_POLICY,
    CLIENT_IP_POLICY,
    FailureRecord,
    ThrottlePolicy,
    delay_after,
    failures_counted,
    retry_after_seconds,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    free_failures=3, base_delay_seconds=2, max_delay_seconds=60, forget_after_seconds=600
)


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (1, 0), (2, 0), (3, 2), (4, 4), (5, 8), (6, 16), (7, 32), (8, 60), (500, 60)],
)
def test_delay_doubles_after_the_free_failures_up_to_the_cap(failures: int, seconds: int) -> None:
    assert delay_after(failures, POLICY) == timedelta(seconds=seconds)


@given(st.integers(min_value=0, max_value=10_000))
def test_delays_never_shrink_and_never_pass_the_cap(failures: int) -> None:
    for policy in (ACCOUNT_POLICY, CLIENT_IP_POLICY, POLICY):
        delay = delay_after(failures, policy)
        assert delay <= timedelta(seconds=policy.max_delay_seconds)
        assert delay_after(failures + 1, policy) >= delay


def test_retry_after_counts_down_from_the_last_failure() -> None:
    record = FailureRecord(failures=4, last_failure_at=T0)
    assert retry_after_seconds(record, T0, POLICY) == 4
    assert retry_after_seconds(record, T0 + timedelta(seconds=1.5), POLICY) == 3
    assert retry_after_seconds(record, T0 + timedelta(seconds=4), POLICY) == 0
    assert retry_after_seconds(None, T0, POLICY) == 0


def test_free_failures_never_block() -> None:
    assert retry_after_seconds(FailureRecord(2, T0), T0, POLICY) == 0


def test_a_quiet_key_is_forgotten() -> None:
    record = FailureRecord(failures=50, last_failure_at=T0)
    assert failures_counted(record, T0 + timedelta(seconds=599), POLICY) == 50
    assert failures_counted(record, T0 + timedelta(seconds=600), POLICY) == 0
    assert retry_after_seconds(record, T0 + timedelta(seconds=600), POLICY) == 0


def test_ip_addresses_get_more_free_failures_than_accounts() -> None:
    assert CLIENT_IP_POLICY.free_failures > ACCOUNT_POLICY.free_failures


@pytest.mark.parametrize(
    "arguments",
    [
        {"free_failures": 0, "base_delay_seconds": 1, "max_delay_seconds": 2},
        {"free_failures": 1, "base_delay_seconds": 5, "max_delay_seconds": 2},
        {"free_failures": 1, "base_delay_seconds": 1, "max_delay_seconds": 900},
    ],
)
def test_incoherent_policies_are_refused(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        ThrottlePolicy(**arguments, forget_after_seconds=600)

"""The API's token bucket: bursts, sustained rate, and the wait it announces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from herald.web.api.limits import Bucket, RatePolicy


def test_a_burst_then_one_request_per_token() -> None:
    policy = RatePolicy(per_second=2.0, burst=3)
    bucket = Bucket(tokens=3.0, counted_at=0.0)
    assert [policy.take(bucket, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert policy.take(bucket, 0.0) == 0.5  # one token every half second
    assert policy.take(bucket, 0.5) == 0.0
    assert policy.take(bucket, 100.0) == 0.0  # refilled, but never past the burst
    assert bucket.tokens == 2.0


@given(
    st.floats(min_value=0.1, max_value=100),
    st.integers(min_value=1, max_value=50),
    st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=60),
)
def test_granted_requests_never_exceed_burst_plus_rate_times_time(
    rate: float, burst: int, gaps: list[float]
) -> None:
    policy = RatePolicy(per_second=rate, burst=burst)
    bucket = Bucket(tokens=float(burst), counted_at=0.0)
    now, granted = 0.0, 0
    for gap in gaps:
        now += gap
        granted += policy.take(bucket, now) == 0.0
    assert granted <= burst + rate * now + 1e-9

"""The outbound webhook signature and retry policy, as receivers and operators rely on them."""

from __future__ import annotations

import hashlib
import hmac
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from herald.domain.outbound_webhooks import (
    MAX_ATTEMPTS,
    is_valid_signature,
    retry_delay_seconds,
    signature,
)


def test_the_signature_is_the_documented_hmac() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_x", b"1735689600." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_x", 1735689600, body) == f"v1={expected}"


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=2**40), st.binary(max_size=5))
def test_any_change_of_body_or_time_breaks_the_signature(
    body: bytes, timestamp: int, extra: bytes
) -> None:
    header = signature("whsec_secret", timestamp, body)
    assert is_valid_signature("whsec_secret", timestamp, body, header)
    assert not is_valid_signature("whsec_secret", timestamp + 1, body, header)
    assert not is_valid_signature("whsec_other", timestamp, body, header)
    if extra:
        assert not is_valid_signature("whsec_secret", timestamp, body + extra, header)


def test_retries_back_off_exponentially_then_give_up() -> None:
    delays = [retry_delay_seconds(attempts) for attempts in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:4] == [30, 60, 120, 240]
    assert all(later == 2 * earlier for earlier, later in pairwise(delays[:9]))
    assert delays[-1] is None
    assert sum(delay for delay in delays if delay) < 5 * 3600

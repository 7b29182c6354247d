"""The client's in-process send rate: a burst of one second's worth, then waiting."""

from __future__ import annotations

import asyncio

from herald.channels.email.pool import TokenBucket


def test_bucket_lets_a_burst_through_then_makes_the_next_caller_wait() -> None:
    async def main() -> None:
        bucket = TokenBucket(rate_per_second=20)
        for _ in range(20):
            await asyncio.wait_for(bucket.acquire(), timeout=5)
        waiting = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(0)
        assert not waiting.done()  # the 21st must wait for a token to refill
        await asyncio.wait_for(waiting, timeout=5)

    asyncio.run(main())

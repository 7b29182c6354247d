"""HTTP helpers shared by the remote agent kinds (LLM endpoint, webhook bot)."""

from __future__ import annotations

import aiohttp


class AnswerTooLargeError(Exception):
    pass


async def read_capped(response: aiohttp.ClientResponse, limit_bytes: int) -> bytes:
    """The whole body, refusing to hold more than ``limit_bytes`` in memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit_bytes:
            raise AnswerTooLargeError(f"answer larger than {limit_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

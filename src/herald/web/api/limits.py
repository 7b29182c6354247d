"""Limits on the API (request rate per caller, body size) and on browser uploads.

Rate: a token bucket per API key (per client IP for requests without one),
``HERALD_API_RATE_LIMIT_PER_SECOND`` sustained with bursts of
``HERALD_API_RATE_LIMIT_BURST``; beyond it, 429 with ``Retry-After``. The
buckets live in the process, not in the database: the limit guards each
process against a runaway client, and a database write per API request
would queue every request behind SQLite's single write lock. With N web
processes a client can reach N times the rate, which the docs say.
Buckets are keyed by a digest of the presented token, so knowing another
key's public prefix does not let anyone spend its budget; at most
:data:`MAX_BUCKETS` are kept, least recently used dropped first.

Size: ``Content-Length`` beyond the limit is refused at once with 413; a
body sent without a length is counted as it streams and cut off at the
limit. Multipart uploads get ``HERALD_UPLOAD_MAX_BYTES``, everything
else ``HERALD_API_BODY_MAX_BYTES``. Pages are not rate limited, but their
file uploads (the builder's audience CSV) get the same upload limit, refused
with a short HTML page instead of a problem document.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.clock import Clock
from herald.web.errors import problem

API_PATH_PREFIX = "/api/"
MAX_BUCKETS = 10_000


@dataclass
class Bucket:
    tokens: float
    counted_at: float


@dataclass(frozen=True)
class RatePolicy:
    per_second: float
    burst: int

    def take(self, bucket: Bucket, now: float) -> float:
        """Spend one token; 0 when granted, else the seconds until one is free."""
        elapsed = max(0.0, now - bucket.counted_at)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
        bucket.counted_at = max(now, bucket.counted_at)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.per_second


class RateLimiter:
    def __init__(self, policy: RatePolicy, clock: Clock) -> None:
        self.policy = policy
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def wait_seconds(self, caller: str) -> float:
        """0 when ``caller`` may go ahead now (its token is spent), else how long to wait."""
        now = self._clock.now().timestamp()
        bucket = self._buckets.pop(caller, None) or Bucket(float(self.policy.burst), now)
        self._buckets[caller] = bucket
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return self.policy.take(bucket, now)


def caller_of(scope: Scope) -> str:
    """The bucket key: a digest of the bearer token, else the client address."""
    authorization = Headers(scope=scope).get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "key:" + hashlib.sha256(token.strip().encode()).hexdigest()
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit.

    An HTTP exception on purpose: FastAPI turns any other error raised while
    reading a body into a 400, while this one reaches the error handlers.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {limit} bytes allowed here")


class ApiLimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        upload_max_bytes: int,
        body_max_bytes: int,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.upload_max_bytes = upload_max_bytes
        self.body_max_bytes = body_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(API_PATH_PREFIX):
            await self._page_upload(scope, receive, send)
            return
        wait = self.limiter.wait_seconds(caller_of(scope))
        if wait > 0:
            await _refuse_rate(wait)(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self._limit_for(headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse_size(limit)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _page_upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A browser upload beyond the limit is refused before it is spooled to disk."""
        headers = Headers(scope=scope)
        if not headers.get("content-type", "").startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse_page_upload(limit)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit, refuse=_refuse_page_upload)

    def _limit_for(self, headers: Headers) -> int:
        is_upload = headers.get("content-type", "").startswith("multipart/")
        return self.upload_max_bytes if is_upload else self.body_max_bytes

    async def _counted(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        refuse: Callable[[int], ASGIApp] | None = None,
    ) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            await (refuse or _refuse_size)(limit)(scope, receive, send)


def _refuse_rate(wait: float) -> ASGIApp:
    retry_after = max(1, math.ceil(wait))
    response = problem(
        429,
        "RateLimited",
        f"too many requests; retry in {retry_after} s",
        "rate_limited",
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _refuse_size(limit: int) -> ASGIApp:
    return problem(
        413,
        "PayloadTooLarge",
        f"the request body is larger than the {limit} bytes allowed here",
        "payload_too_large",
        "body",
    )


def _refuse_page_upload(limit: int) -> ASGIApp:
    megabytes = limit / (1024 * 1024)
    size = f"{megabytes:.0f} MiB" if megabytes >= 1 else f"{limit:,} bytes"
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>File too large</title></head><body><main>"
        "<h1>File too large</h1>"
        f"<p>Uploads are limited to {size}. Import larger audiences with "
        "<code>herald audience import FILE</code>, or raise HERALD_UPLOAD_MAX_BYTES.</p>"
        "<p>Use your browser's Back button to return to the page.</p>"
        "</main></body></html>"
    )
    return HTMLResponse(body, status_code=413)

"""``Idempotency-Key`` on POST routes: a retry gets the first response, never a second run.

Routers whose POSTs create or launch something use :class:`IdempotentRoute`
(``APIRouter(route_class=IdempotentRoute)``). A POST with the header is
claimed per caller before it runs (see :mod:`herald.services.idempotency`);
its response (success or 4xx problem) is stored and replayed, marked with
``Idempotent-Replayed: true``. A 5xx or a crash releases the claim so a
retry can run. Without the header nothing changes.

Multipart bodies are compared with their boundary removed: clients pick a
new random boundary on every send, which would otherwise make every retry
of an upload look like a different request.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from herald.errors import HeraldError
from herald.services.container import Herald
from herald.services.idempotency import (
    HEADER,
    IdempotencyStore,
    NewClaim,
    StoredResponse,
    checked_key,
    fingerprint,
)
from herald.web.auth import find_principal
from herald.web.errors import error_response

REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "location")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class IdempotentRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if "POST" not in (self.methods or set()):
            return handler

        async def idempotent(request: Request) -> Response:
            raw_key = request.headers.get(HEADER)
            if raw_key is None:
                return await handler(request)
            return await _run_once(request, checked_key(raw_key), handler)

        return idempotent


async def _run_once(request: Request, key: str, handler: Handler) -> Response:
    principal = await run_in_threadpool(find_principal, request)
    if principal is None or not principal.can_write:
        return await handler(request)  # the guard refuses it; nothing worth keeping
    herald = request.app.state.herald
    assert isinstance(herald, Herald)
    store = IdempotencyStore(herald.sessions, herald.clock, herald.box)
    owner = f"{principal.kind.value}:{principal.id}"
    body = _comparable_body(request, await request.body())
    claim = NewClaim(
        principal=owner,
        key=key,
        fingerprint=fingerprint(request.method, request.url.path, request.url.query, body),
        method=request.method,
        path=request.url.path[:500],
    )
    stored = await run_in_threadpool(store.begin, claim)
    if stored is not None:
        return _replay(stored)
    try:
        response = await _respond(request, handler)
    except BaseException:
        await run_in_threadpool(store.abandon, owner, key)
        raise
    if response.status_code >= 500 or not hasattr(response, "body"):
        await run_in_threadpool(store.abandon, owner, key)
        return response
    kept = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    first = StoredResponse(response.status_code, kept, bytes(response.body))
    await run_in_threadpool(store.finish, owner, key, first)
    return response


async def _respond(request: Request, handler: Handler) -> Response:
    """The route's response, errors included, so a refused request is replayed as refused."""
    try:
        return await handler(request)
    except (HeraldError, RequestValidationError) as exc:
        return await error_response(request, exc)


def _replay(stored: StoredResponse) -> Response:
    headers = dict(stored.headers) | {REPLAYED_HEADER: "true"}
    media_type = headers.pop("content-type", None)
    return Response(stored.body, stored.status_code, headers=headers, media_type=media_type)


def _comparable_body(request: Request, body: bytes) -> bytes:
    content_type = request.headers.get("content-type", "")
    _, _, boundary = content_type.partition("boundary=")
    boundary = boundary.split(";")[0].strip().strip('"')
    if content_type.startswith("multipart/") and boundary:
        return body.replace(boundary.encode("latin-1"), b"")
    return body

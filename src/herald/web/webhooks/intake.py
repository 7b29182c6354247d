"""What every provider webhook route does around its use case.

Read the body with a size cap (before anything is parsed), hand the bytes
to a :class:`~herald.services.webhook_intake.WebhookIntake` method on a
worker thread (the database calls are blocking), answer, then wake the
event router through ``app.state.on_events_recorded`` when something new
was stored. Refusals become problem+json with the status providers
understand: 401 no credential, 403 wrong credential, 413 too large, 400
unreadable body (naming the field).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from herald.errors import HeraldError, ValidationError
from herald.services.container import Herald
from herald.services.webhook_intake import (
    WebhookForbiddenError,
    WebhookIntake,
    WebhookRequest,
    WebhookUnauthenticatedError,
)
from herald.services.webhooks import IngestResult
from herald.web.errors import problem, status_for

logger = logging.getLogger(__name__)

T = TypeVar("T")
EventsHook = Callable[[], None]


class PayloadTooLargeError(HeraldError):
    code = "payload_too_large"


def get_intake(request: Request) -> WebhookIntake:
    intake = request.app.state.webhook_intake
    assert isinstance(intake, WebhookIntake)
    return intake


async def read_body(request: Request, limit_bytes: int) -> bytes:
    """The raw body, refused once it passes ``limit_bytes`` (declared or actual)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ValidationError("Content-Length is not a number", field="Content-Length")
        if int(declared) > limit_bytes:
            raise _too_large(limit_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit_bytes:
            raise _too_large(limit_bytes)
    return bytes(body)


def _too_large(limit_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the body is larger than {limit_bytes} bytes", field="body")


async def handle(
    request: Request,
    limit_bytes: int,
    use_case: Callable[[Session, WebhookRequest], T],
    answer: Callable[[T], Response],
    new_events: Callable[[T], int],
) -> Response:
    """Run ``use_case`` on the request and ``answer`` its result, or refuse."""
    try:
        body = await read_body(request, limit_bytes)
        incoming = WebhookRequest(
            body=body,
            headers=dict(request.headers),
            query_string=request.scope.get("query_string", b"").decode("latin-1"),
        )
        herald = request.app.state.herald
        assert isinstance(herald, Herald)
        result = await run_in_threadpool(_in_session, herald, use_case, incoming)
    except HeraldError as exc:
        return refusal(exc, request.url.path)
    except RecursionError:
        # JSON nested thousands of levels deep exhausts the parser's stack:
        # hostile or broken, never a provider's real payload.
        too_deep = ValidationError("the body is nested too deeply to read", field="body")
        return refusal(too_deep, request.url.path)
    except ClientDisconnect:
        # The provider gave up before sending the whole body; it will retry,
        # and nothing was stored from the partial request.
        logger.info("webhook %s: client disconnected mid-body", request.url.path)
        return Response(status_code=400)
    if new_events(result):
        notify_events_recorded(request)
    return answer(result)


def _in_session(
    herald: Herald, use_case: Callable[[Session, WebhookRequest], T], incoming: WebhookRequest
) -> T:
    # The session only reads credentials (a snapshot: it neither waits for
    # nor blocks writers); events are written by the group-commit recorder
    # once the request is verified and parsed, so a refused request leaves no
    # row anywhere.
    with herald.read_sessions() as session:
        return use_case(session, incoming)


def refusal(exc: HeraldError, where: str) -> JSONResponse:
    status = webhook_status(exc)
    logger.info("webhook %s refused (%d %s): %s", where, status, exc.code, exc.message)
    title = {401: "Unauthenticated", 403: "Forbidden", 413: "Payload too large"}
    response = problem(
        status, title.get(status, "Invalid webhook"), exc.message, exc.code, exc.field
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="herald-webhooks"'
    return response


def webhook_status(exc: HeraldError) -> int:
    """Webhooks answer 400 for an unreadable body, not the API's 422."""
    if isinstance(exc, WebhookUnauthenticatedError):
        return 401
    if isinstance(exc, WebhookForbiddenError):
        return 403
    if isinstance(exc, PayloadTooLargeError):
        return 413
    if isinstance(exc, ValidationError):
        return 400
    return status_for(exc)


def notify_events_recorded(request: Request) -> None:
    """Call the app's hook; a failing hook is logged, never the provider's problem."""
    hook: EventsHook | None = getattr(request.app.state, "on_events_recorded", None)
    if hook is None:
        return
    try:
        hook()
    except Exception:
        logger.exception("on_events_recorded hook failed")


def ingest_summary(result: IngestResult) -> JSONResponse:
    return JSONResponse({"new": result.new, "duplicates": result.duplicates})

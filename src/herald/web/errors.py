"""One error body for the whole HTTP surface: RFC 9457 problem details.

Only this module knows HTTP status codes for Herald's errors; everything
below raises :class:`~herald.errors.HeraldError` subclasses. Browsers
asking for a page get the same errors as HTML: a sign-in redirect instead
of 401, and an error page instead of a JSON body.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    HeraldError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    ValidationError,
)
from herald.web.sessions import browser_session

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
BEARER_CHALLENGE = 'Bearer realm="herald"'

_STATUS: list[tuple[type[HeraldError], int]] = [
    (ValidationError, 422),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (RateLimitedError, 429),
    (ProviderError, 502),
    (ConfigurationError, 500),
]


def status_for(error: HeraldError) -> int:
    for error_type, status in _STATUS:
        if isinstance(error, error_type):
            return status
    return 400


def problem(
    status: int, title: str, detail: str, code: str, field: str | None = None
) -> JSONResponse:
    body: dict[str, object] = {
        "type": f"https://herald.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def wants_page(request: Request) -> bool:
    """A browser asking for HTML (not the API, not a client with an API key)."""
    return (
        not request.url.path.startswith("/api/")
        and "authorization" not in request.headers
        and "text/html" in request.headers.get("accept", "")
    )


def login_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, which sends the browser back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target} | ({"expired": "1"} if browser_session(request).expired else {})
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)


def _headers_for(exc: HeraldError) -> dict[str, str]:
    if isinstance(exc, AuthenticationError):
        challenge = BEARER_CHALLENGE
        if exc.code == "invalid_api_key":
            challenge += ', error="invalid_token"'
        return {"WWW-Authenticate": challenge}
    if isinstance(exc, RateLimitedError):
        return {"Retry-After": str(exc.retry_after_seconds)}
    return {}


async def _herald_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HeraldError)
    status = status_for(exc)
    if status >= 500:
        logger.error("request failed: %s", exc.message)
    title = type(exc).__name__.removesuffix("Error") or "Error"
    if wants_page(request):
        if isinstance(exc, AuthenticationError) and request.method in ("GET", "HEAD"):
            return login_redirect(request)
        page = _error_page(request, status, title, exc.message)
        if page is not None:
            page.headers.update(_headers_for(exc))
            return page
    response = problem(status, title, exc.message, exc.code, exc.field)
    response.headers.update(_headers_for(exc))
    return response


def _error_page(request: Request, status: int, title: str, detail: str) -> Response | None:
    templates = getattr(request.app.state, "templates", None)
    if not isinstance(templates, Jinja2Templates):
        return None
    titles = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 429: "Slow down"}
    context = {"title": titles.get(status, title), "detail": detail[:1].upper() + detail[1:]}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return problem(422, "Validation", f"{where}: {first.get('msg')}", "invalid", where or None)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
    }
    response = problem(
        exc.status_code, "HTTP error", str(exc.detail), code.get(exc.status_code, "http_error")
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def error_response(request: Request, exc: HeraldError | RequestValidationError) -> Response:
    """The response the installed handlers give for ``exc``, for code that must keep
    it (idempotent replays store error responses too)."""
    if isinstance(exc, HeraldError):
        return await _herald_error(request, exc)
    return await _request_validation(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HeraldError, _herald_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)

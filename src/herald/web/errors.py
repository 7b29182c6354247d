"""One error body for the whole HTTP surface: RFC 9457 problem details.

Only this module knows HTTP status codes for Herald's errors; everything
below raises :class:`~herald.errors.HeraldError` subclasses.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.errors import (
    ConfigurationError,
    ConflictError,
    HeraldError,
    NotFoundError,
    ProviderError,
    ValidationError,
)

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[HeraldError], int]] = [
    (ValidationError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
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


async def _herald_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HeraldError)
    status = status_for(exc)
    if status >= 500:
        logger.error("request failed: %s", exc.message)
    title = type(exc).__name__.removesuffix("Error") or "Error"
    return problem(status, title, exc.message, exc.code, exc.field)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return problem(422, "Validation", f"{where}: {first.get('msg')}", "invalid", where or None)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    response = problem(
        exc.status_code, "HTTP error", str(exc.detail), code.get(exc.status_code, "http_error")
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HeraldError, _herald_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)

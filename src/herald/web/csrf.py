"""CSRF protection with a synchroniser token kept in the signed session cookie.

Every form carries the session's token in a hidden ``csrf_token`` field;
scripts (HTMX) send it in the ``X-CSRF-Token`` header. A cross-site page can
make the browser send the cookie but cannot read the token, so it cannot
forge a request that passes. Requests authenticated with an API key are not
checked: browsers never attach an ``Authorization`` header on their own.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TOKEN_BYTES = 32


def new_csrf_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def tokens_match(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


async def presented_token(request: Request) -> str | None:
    """The token the request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(_FORM_TYPES):
        return None
    # Starlette caches the parsed form on the request, so the route reading
    # its own form fields afterwards does not parse the body twice.
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None

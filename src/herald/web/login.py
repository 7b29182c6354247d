"""The sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from herald.domain.audit import Actor
from herald.errors import AuthenticationError, RateLimitedError
from herald.web.auth import PUBLIC, OptionalUser, client_ip
from herald.web.deps import HeraldDep
from herald.web.redirects import safe_next
from herald.web.sessions import browser_session
from herald.web.templating import render

router = APIRouter(dependencies=[PUBLIC], include_in_schema=False)

EXPIRED_NOTICE = "Your session has ended. Please sign in again."


@router.get("/login")
def login_page(
    request: Request, who: OptionalUser, next: str | None = None, expired: bool = False
) -> Response:
    target = safe_next(next)
    if who is not None and who.is_user:
        return RedirectResponse(target, status_code=303)
    notice = EXPIRED_NOTICE if expired or browser_session(request).expired else None
    return render(request, "login.html", {"next": target, "email": "", "notice": notice})


@router.post("/login")
def login(
    request: Request,
    herald: HeraldDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Sign in; the CSRF token was checked before this runs (see :mod:`herald.web.auth`)."""
    target = safe_next(next)
    context = {"next": target, "email": email, "notice": None}
    try:
        with herald.sessions() as db:
            user = herald.login.authenticate(db, email, password, client_ip(request))
            version = herald.users.session_version(db, user.id)
    except RateLimitedError as exc:
        return render(
            request,
            "login.html",
            context | {"error": exc.message[:1].upper() + exc.message[1:] + "."},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    except AuthenticationError:
        error = "Email or password is not correct."
        return render(request, "login.html", context | {"error": error}, status_code=401)
    browser_session(request).log_in(user.id, version, herald.session_clock.now())
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, herald: HeraldDep, who: OptionalUser) -> Response:
    """Sign out, ending every session of this user (the cookie holds no secret to revoke alone)."""
    if who is not None and who.is_user:
        with herald.sessions() as db:
            herald.users.end_sessions(
                db, who.id, actor=Actor.from_principal(who, client_ip(request))
            )
    browser_session(request).log_out(herald.session_clock.now())
    return RedirectResponse("/login", status_code=303)

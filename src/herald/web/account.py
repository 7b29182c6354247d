"""The signed-in user's own pages: home and account (password change)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from herald.domain.users import PASSWORD_MIN_LENGTH
from herald.errors import ValidationError
from herald.services.dashboard import build_dashboard, live_summary
from herald.web.auth import CurrentActor, SignedInUser
from herald.web.deps import HeraldDep
from herald.web.sessions import browser_session
from herald.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, herald: HeraldDep, who: SignedInUser) -> Response:
    """The dashboard: campaign counts, live progress, hand-offs and integration health."""
    with herald.read_sessions() as db:
        dashboard = build_dashboard(db, herald.integrations, herald.clock)
    return render(request, "home.html", {"who": who, "dashboard": dashboard})


@router.get("/dashboard/live")
def dashboard_live(request: Request, herald: HeraldDep, who: SignedInUser) -> Response:
    """The running-campaigns card alone, which the home page refreshes in place."""
    with herald.read_sessions() as db:
        dashboard = live_summary(db)
    return render(request, "_home_live.html", {"dashboard": dashboard})


@router.get("/account")
def account_page(
    request: Request, herald: HeraldDep, who: SignedInUser, changed: bool = False
) -> Response:
    return _account(request, herald, who.id, notice="Password changed." if changed else None)


@router.post("/account/password")
def change_password(
    request: Request,
    herald: HeraldDep,
    who: SignedInUser,
    actor: CurrentActor,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        with herald.sessions() as db:
            herald.users.change_own_password(
                db,
                who.id,
                current_password=current_password,
                new_password=new_password,
                actor=actor,
            )
            version = herald.users.session_version(db, who.id)
    except ValidationError as exc:
        return _account(request, herald, who.id, error=_sentence(exc.message), status_code=400)
    # Every other session ended with the version bump; this one carries on.
    browser_session(request).log_in(who.id, version, herald.session_clock.now())
    return RedirectResponse("/account?changed=true", status_code=303)


def _account(
    request: Request,
    herald: HeraldDep,
    user_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with herald.sessions() as db:
        user = herald.users.get_user(db, user_id)
    context = {"user": user, "notice": notice, "error": error, "min_length": PASSWORD_MIN_LENGTH}
    return render(request, "account.html", context, status_code=status_code)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")

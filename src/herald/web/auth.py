"""Authentication and authorization for every route.

Secure by default: :func:`guard_request` runs before every route of the
app and refuses callers who are not signed in (browser session) or do not
present a valid API key (``Authorization: Bearer hk_...``), unless the
route is declared public. It also checks the CSRF token of every
state-changing request that is not authenticated by an API key.

How a router uses it::

    router = APIRouter(prefix="/api/v1/campaigns")           # needs a caller

    @router.get("")
    def list_campaigns(who: CurrentUser) -> ...: ...          # any caller

    @router.post("")
    def create_campaign(who: RequireWrite) -> ...: ...        # user or write key

    admin_router = APIRouter(dependencies=[Depends(require_admin)])

    public_router = APIRouter(dependencies=[PUBLIC])          # health, login...

Paths under ``/webhooks/`` and ``/u/`` (provider callbacks, one-click
unsubscribe) are public and exempt from CSRF checks by rule: they prove
themselves with provider signatures and signed links instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from herald.domain.access import Principal, session_needs_refresh
from herald.domain.audit import Actor
from herald.errors import AuthenticationError, PermissionDeniedError
from herald.services.container import Herald
from herald.web.csrf import SAFE_METHODS, presented_token, tokens_match
from herald.web.sessions import browser_session

EXEMPT_PREFIXES = ("/webhooks/", "/u/")
_PRINCIPAL_KEY = "herald_principal"
_NOT_RESOLVED = object()


def public_route() -> None:
    """Marks a route or router public: ``APIRouter(dependencies=[PUBLIC])``."""


PUBLIC = Depends(public_route)


def is_exempt_path(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


def is_public(request: Request) -> bool:
    if is_exempt_path(request.url.path):
        return True
    route = request.scope.get("route")
    dependencies: list[DependsParam] = list(getattr(route, "dependencies", None) or [])
    return any(dependency.dependency is public_route for dependency in dependencies)


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def client_ip(request: Request) -> str | None:
    """The peer address (set by the server; behind a proxy, configure its proxy headers)."""
    return request.client.host if request.client else None


def find_principal(request: Request) -> Principal | None:
    """The caller, resolved once per request; ``AuthenticationError`` for a bad API key.

    Blocking (database): call from a thread, as FastAPI does for ``def``
    dependencies and routes.
    """
    cached = getattr(request.state, _PRINCIPAL_KEY, _NOT_RESOLVED)
    if cached is not _NOT_RESOLVED:
        assert cached is None or isinstance(cached, Principal)
        return cached
    herald = request.app.state.herald
    assert isinstance(herald, Herald)
    token = bearer_token(request)
    with herald.sessions() as db:
        if token is not None:
            principal: Principal | None = herald.api_keys.authenticate(db, token)
        else:
            principal = _session_principal(request, herald, db)
    setattr(request.state, _PRINCIPAL_KEY, principal)
    return principal


def _session_principal(request: Request, herald: Herald, db: Session) -> Principal | None:
    session = browser_session(request)
    user_id, version = session.user_id, session.session_version
    if user_id is None or version is None:
        return None
    principal = herald.users.principal_for_session(db, user_id, version)
    if principal is None:
        session.forget_user()
        return None
    now = herald.session_clock.now()
    last_seen = session.last_seen_at
    if last_seen is None or session_needs_refresh(last_seen, now):
        session.touch(now)
    return principal


async def guard_request(request: Request) -> None:
    """Installed on the whole app: authentication, then CSRF, for every route."""
    if is_exempt_path(request.url.path):
        return
    if not is_public(request):
        principal = await run_in_threadpool(find_principal, request)
        if principal is None:
            raise AuthenticationError(
                "sign in, or send an API key as 'Authorization: Bearer hk_...'"
            )
        if request.method not in SAFE_METHODS and not principal.can_write:
            raise PermissionDeniedError(
                "this API key can only read; use a key with the write scope",
                code="insufficient_scope",
            )
    if request.method not in SAFE_METHODS and bearer_token(request) is None:
        await _check_csrf(request)


async def _check_csrf(request: Request) -> None:
    expected = browser_session(request).peek_csrf_token()
    if not tokens_match(expected, await presented_token(request)):
        raise PermissionDeniedError(
            "the form has expired or did not come from Herald; reload the page and try again",
            code="csrf_failed",
        )


def require_principal(request: Request) -> Principal:
    principal = find_principal(request)
    if principal is None:
        raise AuthenticationError("sign in, or send an API key as 'Authorization: Bearer hk_...'")
    return principal


def optional_principal(request: Request) -> Principal | None:
    """The caller if any, for public pages that adapt to a signed-in user."""
    try:
        return find_principal(request)
    except AuthenticationError:
        return None


def require_write(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.can_write:
        raise PermissionDeniedError(
            "this API key can only read; use a key with the write scope",
            code="insufficient_scope",
        )
    return principal


def require_admin(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.is_admin:
        raise PermissionDeniedError("only admins can do this", code="admin_required")
    return principal


def require_user(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    """A signed-in person, for things an API key has no meaning for (own password)."""
    if not principal.is_user:
        raise PermissionDeniedError("sign in as a user to do this", code="user_required")
    return principal


def current_actor(
    request: Request, principal: Annotated[Principal, Depends(require_principal)]
) -> Actor:
    """The caller as an audit actor, with the client address."""
    return Actor.from_principal(principal, client_ip(request))


CurrentUser = Annotated[Principal, Depends(require_principal)]
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
RequireWrite = Annotated[Principal, Depends(require_write)]
RequireAdmin = Annotated[Principal, Depends(require_admin)]
SignedInUser = Annotated[Principal, Depends(require_user)]
CurrentActor = Annotated[Actor, Depends(current_actor)]

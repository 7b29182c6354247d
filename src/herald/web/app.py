"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from herald import __version__
from herald.domain.access import SessionPolicy
from herald.services.container import Herald
from herald.services.users import bootstrap_admin
from herald.web import account, health, login, pages
from herald.web.api.limits import ApiLimitsMiddleware, RateLimiter, RatePolicy
from herald.web.api.routes import api_routers
from herald.web.api.schema import describe_problems
from herald.web.auth import guard_request, is_exempt_path
from herald.web.errors import install_error_handlers
from herald.web.metrics import install_metrics
from herald.web.security_headers import SecurityHeadersMiddleware
from herald.web.sessions import SessionCookies, SessionMiddleware
from herald.web.templating import STATIC_DIR, build_templates
from herald.web.webhooks import install_webhooks
from herald.web.webhooks.providers import PROVIDER_PATHS

# Operations in the schema that need no credentials (pages are not in the schema).
PUBLIC_OPERATIONS = frozenset({"/healthz", "/readyz"})


def create_app(herald: Herald) -> FastAPI:
    """The whole HTTP surface. Every route requires a signed-in user or an API key
    unless it is declared public (see :mod:`herald.web.auth`)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(bootstrap_admin, herald)
        yield

    app = FastAPI(
        title="Herald",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(guard_request)],
        lifespan=lifespan,
    )
    app.state.herald = herald
    app.state.templates = build_templates()
    install_error_handlers(app)
    _install_middleware(app, herald)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    install_metrics(app, herald, PROVIDER_PATHS)
    install_webhooks(app, herald)
    app.include_router(login.router)
    app.include_router(account.router)
    for router in api_routers():
        app.include_router(router)
    for page_router in pages.routers():
        app.include_router(page_router)
    _describe_authentication(app)
    return app


def _describe_authentication(app: FastAPI) -> None:
    """Declare the bearer scheme in the OpenAPI schema, required by every operation
    except the public ones, so clients and the API reference know how to authenticate."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer hk_<prefix>_<secret>`.",
        }
        schema["security"] = [{"bearerAuth": []}]
        describe_problems(schema)
        for path, operations in schema.get("paths", {}).items():
            if path in PUBLIC_OPERATIONS or is_exempt_path(path):
                for operation in operations.values():
                    operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_middleware(app: FastAPI, herald: Herald) -> None:
    settings = herald.settings
    policy = SessionPolicy(
        max_age=timedelta(seconds=settings.session_max_age_seconds),
        idle=timedelta(seconds=settings.session_idle_seconds),
    )
    cookies = SessionCookies(herald.session_secrets, policy, secure=settings.uses_https())
    # Rates are per real second even when a demo runs Herald's clock faster.
    wall_clock = herald.session_clock
    limiter = RateLimiter(
        RatePolicy(settings.api_rate_limit_per_second, settings.api_rate_limit_burst), wall_clock
    )
    # Added last runs first: security headers wrap everything, then the API's
    # limits (refusing early and cheaply), sessions inside.
    app.add_middleware(SessionMiddleware, cookies=cookies, clock=herald.session_clock)
    app.add_middleware(
        ApiLimitsMiddleware,
        limiter=limiter,
        upload_max_bytes=settings.upload_max_bytes,
        body_max_bytes=settings.api_body_max_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=settings.uses_https())

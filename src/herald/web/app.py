"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from herald import __version__
from herald.services.container import Herald
from herald.web import health
from herald.web.errors import install_error_handlers
from herald.web.webhooks import install_webhooks


def create_app(herald: Herald) -> FastAPI:
    app = FastAPI(
        title="Herald",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.herald = herald
    install_error_handlers(app)
    app.include_router(health.router)
    install_webhooks(app, herald)
    return app

"""Assembles the sandbox's aiohttp application from the emulated providers."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from herald.channels.sandbox import smtp, whatsapp, whatsapp_catalogue
from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.infobip import install as install_infobip
from herald.channels.sandbox.twilio import install as install_twilio

RouteInstaller = Callable[[web.Application, SandboxContext], None]

# Each emulated provider contributes one installer that adds its routes.
PROVIDERS: list[RouteInstaller] = [
    whatsapp.install,
    whatsapp_catalogue.install,
    install_infobip,
    install_twilio,
    smtp.install,
]

CONTEXT_KEY = web.AppKey("sandbox_context", SandboxContext)


async def _log(request: web.Request) -> web.Response:
    context = request.app[CONTEXT_KEY]
    rows = [
        {
            "provider": s.provider,
            "to": s.to,
            "correlation_key": s.correlation_key,
            "provider_message_id": s.provider_message_id,
            "accepted_at": s.accepted_at.isoformat(),
        }
        for s in context.log.sends()
    ]
    return web.json_response({"summary": context.log.summary(), "sends": rows})


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_sandbox_app(context: SandboxContext) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[CONTEXT_KEY] = context
    app.router.add_get("/_sandbox/log", _log)
    app.router.add_get("/_sandbox/health", _health)
    for install in PROVIDERS:
        install(app, context)
    return app

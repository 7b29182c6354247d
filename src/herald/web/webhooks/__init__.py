"""Inbound provider webhooks and the one-click unsubscribe link.

==========================  ======  ==========================================
path                        method  authenticated by
==========================  ======  ==========================================
/webhooks/whatsapp          GET     hub.verify_token (subscription handshake)
/webhooks/whatsapp          POST    X-Hub-Signature-256 (app secret)
/webhooks/infobip/delivery  POST    shared secret: ?secret=, basic auth, header
/webhooks/infobip/inbound   POST    shared secret: ?secret=, basic auth, header
/webhooks/twilio/status     POST    X-Twilio-Signature (auth token, public URL)
/webhooks/twilio/gather     POST    X-Twilio-Signature (auth token, public URL)
/webhooks/email/inbound     POST    shared secret: basic auth or header
/webhooks/email/bounce      POST    shared secret: basic auth or header
/u/{token}                  GET     signed token (shows a page, changes nothing)
/u/{token}                  POST    signed token (RFC 8058 one-click)
==========================  ======  ==========================================

``app.state.on_events_recorded`` (default None) is called after a webhook
stored at least one new event, so the process can wake its event router
instead of waiting for the next poll. It runs on the server's event loop:
it must return at once (set an event, schedule a task) and be thread-safe.

Secrets that providers put in query strings are masked in the web server's
access log (:mod:`herald.web.webhooks.redaction`).
"""

from __future__ import annotations

from fastapi import FastAPI

from herald.services.container import Herald
from herald.services.unsubscribe import UnsubscribeLinks
from herald.services.webhook_credentials import WebhookCredentials
from herald.services.webhook_intake import WebhookIntake
from herald.web.webhooks import providers, unsubscribe
from herald.web.webhooks.redaction import install_query_secret_filter


def install_webhooks(app: FastAPI, herald: Herald) -> None:
    credentials = WebhookCredentials(herald.integrations)
    app.state.webhook_intake = WebhookIntake(
        credentials, herald.clock, herald.settings.public_base_url, herald.events
    )
    app.state.unsubscribe_links = UnsubscribeLinks(credentials, herald.clock)
    if not hasattr(app.state, "on_events_recorded"):
        app.state.on_events_recorded = None
    install_query_secret_filter()
    app.include_router(providers.router)
    app.include_router(unsubscribe.router)

"""WhatsApp Business Cloud API (Meta Graph API): client, webhooks, classification.

What the integration registry and the web layer use::

    WhatsAppSettings, parse_settings       the integration's settings
    create_client(settings, session)       a ChannelClient (send, check_connection)
    WhatsAppClient.list_templates()        the account's templates (TemplateList)
    classify_send_answer(answer, now=...)  the pure send-answer classification
    verify_signature(raw, header, secret)  X-Hub-Signature-256 on webhook POSTs
    verify_subscription(params, token)     the GET handshake; returns the challenge
    parse_webhook(raw) / read_webhook(raw) statuses and inbound messages as events

The 24-hour service window rules live in :mod:`herald.domain.service_window`.
"""

from __future__ import annotations

from herald.channels.whatsapp.classify import classify_send_answer
from herald.channels.whatsapp.client import WhatsAppClient, create_client, describe_connection
from herald.channels.whatsapp.events import WebhookContents, parse_webhook, read_webhook
from herald.channels.whatsapp.payloads import build_message_body
from herald.channels.whatsapp.settings import WhatsAppSettings, parse_settings
from herald.channels.whatsapp.templates import TemplateList, TemplateListError
from herald.channels.whatsapp.webhooks import (
    SIGNATURE_HEADER,
    SubscriptionRefusedError,
    signature_for,
    verify_signature,
    verify_subscription,
)

__all__ = [
    "SIGNATURE_HEADER",
    "SubscriptionRefusedError",
    "TemplateList",
    "TemplateListError",
    "WebhookContents",
    "WhatsAppClient",
    "WhatsAppSettings",
    "build_message_body",
    "classify_send_answer",
    "create_client",
    "describe_connection",
    "parse_settings",
    "parse_webhook",
    "read_webhook",
    "signature_for",
    "verify_signature",
    "verify_subscription",
]

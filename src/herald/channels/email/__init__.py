"""SMTP email: sending, replies by webhook, bounces (DSN) and one-click unsubscribe.

Modules, one concept each: ``settings`` (EmailSettings), ``client`` (the
pooled SMTP client), ``message`` (MIME composition), ``classify`` (SMTP
answers → send results), ``tokens`` (Message-ID/VERP tokens, signed
unsubscribe tokens), ``inbound`` + ``formats`` (reply webhooks), ``dsn``
(bounces), ``reply_text`` (quoted-text stripping).
"""

from __future__ import annotations

from herald.channels.email.classify import Phase, classify_reply, enhanced_code
from herald.channels.email.client import SmtpEmailClient, create_client
from herald.channels.email.dsn import parse_dsn
from herald.channels.email.formats import parse_inbound, parse_inbound_json, parse_postmark_inbound
from herald.channels.email.inbound import (
    UNSUBSCRIBE_PAYLOAD,
    WEBHOOK_SECRET_HEADER,
    is_auto_reply,
    verify_webhook_secret,
)
from herald.channels.email.message import ONE_CLICK, compose_email, parse_recipient
from herald.channels.email.reply_text import html_to_text, strip_quoted_reply
from herald.channels.email.settings import EmailSettings, SmtpSecurity
from herald.channels.email.tokens import (
    UnsubscribeSubject,
    read_unsubscribe_token,
    sign_unsubscribe_token,
)

__all__ = [
    "ONE_CLICK",
    "UNSUBSCRIBE_PAYLOAD",
    "WEBHOOK_SECRET_HEADER",
    "EmailSettings",
    "Phase",
    "SmtpEmailClient",
    "SmtpSecurity",
    "UnsubscribeSubject",
    "classify_reply",
    "compose_email",
    "create_client",
    "enhanced_code",
    "html_to_text",
    "is_auto_reply",
    "parse_dsn",
    "parse_inbound",
    "parse_inbound_json",
    "parse_postmark_inbound",
    "parse_recipient",
    "read_unsubscribe_token",
    "sign_unsubscribe_token",
    "strip_quoted_reply",
    "verify_webhook_secret",
]

"""The sandbox's SMTP server (aiosmtpd) on loopback.

It speaks real SMTP: EHLO, STARTTLS with a throwaway self-signed
certificate, AUTH PLAIN/LOGIN with the sandbox credentials (allowed
without TLS because it only listens on loopback), MAIL, RCPT, DATA. The
email scenario decides each recipient's fate::

    RCPT TO   rule.reject / reject_rate  → refused now: "550 5.1.1 ..." (4.x.x → 451)
    DATA      latency_ms, then accepted  → recorded in the SandboxLog with X-Herald-Key
    later     rule.fail / fail_rate      → DSN bounce POSTed to /webhooks/email/bounce
              rule.reply / reply_rate    → reply POSTed to /webhooks/email/inbound

Webhooks carry the sandbox's ``inbound_email_secret``: bounces and generic
JSON in ``X-Herald-Webhook-Secret``, Postmark-format replies as basic auth
(the only way Postmark can send it).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import ssl
from email.parser import BytesHeaderParser
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from herald.channels.email.inbound import WEBHOOK_SECRET_HEADER
from herald.channels.sandbox.context import SandboxContext
from herald.channels.sandbox.email_reports import (
    SimulatedReply,
    SmtpRefusal,
    build_dsn,
    generic_json,
    postmark_json,
    simulate_reply,
)
from herald.channels.sandbox.log import AcceptedSend
from herald.channels.sandbox.mailbox import ReceivedEmail
from herald.channels.sandbox.tls import self_signed_context

SERVER_HOSTNAME = "sandbox.smtp.test"
PROVIDER = "email_smtp"
BOUNCE_PATH = "/webhooks/email/bounce"
INBOUND_PATH = "/webhooks/email/inbound"


class _Handler:
    """aiosmtpd hooks: the scenario's decisions at MAIL, RCPT and DATA."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._refusal(address)
        if refusal is not None:
            self.context.log.requests_rejected += 1
            return refusal.reply_line(address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    def _refusal(self, address: str) -> SmtpRefusal | None:
        channel = self.context.scenario.email
        rule = channel.rule_for(address.lower())
        if rule is not None and rule.reject is not None:
            return SmtpRefusal.parse(rule.reject)
        if self.context.chance(channel.reject_rate):
            return SmtpRefusal.parse(self.context.pick(channel.reject_codes, "5.1.1"))
        return None

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        await self.context.simulate_latency(self.context.scenario.email)
        data = envelope.original_content or envelope.content or b""
        assert isinstance(data, bytes)
        received = ReceivedEmail(
            envelope_sender=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            data=data,
            mail_options=tuple(envelope.mail_options),
        )
        self.context.mailbox.add(received)
        headers = BytesHeaderParser().parsebytes(data)  # the body is parsed only to reply
        message_id = str(headers.get("Message-ID", "")).strip() or f"<{self.context.token()}@x>"
        key = headers.get("X-Herald-Key")
        for recipient in envelope.rcpt_tos:
            self.context.log.record_send(
                AcceptedSend(PROVIDER, recipient, key and str(key), message_id, self.context.now())
            )
            self._after_delivery(received, recipient)
        return f"250 2.0.0 OK: queued as {self.context.token(6).upper()}"

    def _after_delivery(self, received: ReceivedEmail, to: str) -> None:
        channel = self.context.scenario.email
        rule = channel.rule_for(to.lower())
        fail = rule.fail if rule is not None else None
        if fail is None and self.context.chance(channel.fail_rate):
            fail = self.context.pick(channel.fail_codes, "5.1.1")
        if fail is not None:
            self._schedule_bounce(received, to, SmtpRefusal.parse(fail))
            return
        text = rule.reply if rule is not None else None
        if text is None and self.context.chance(channel.reply_rate):
            text = self.context.pick(channel.reply_texts, "Yes, thanks!")
        if text is not None:
            reply = simulate_reply(received.parsed(), person=to, text=text, now=self.context.now())
            self._schedule_reply(reply)

    def _schedule_bounce(self, received: ReceivedEmail, to: str, refusal: SmtpRefusal) -> None:
        url = self.context.webhook_url(BOUNCE_PATH)
        if url is None:
            return
        dsn = build_dsn(
            received.data,
            bounce_to=received.envelope_sender,
            recipient=to,
            refusal=refusal,
            now=self.context.now(),
        )
        headers = {"Content-Type": "message/rfc822", WEBHOOK_SECRET_HEADER: self._secret()}
        delay = self.context.scenario.seconds(self.context.scenario.email.delivery_delay_seconds)
        self.context.webhooks.schedule(url, dsn, headers, delay_seconds=delay)

    def _schedule_reply(self, reply: SimulatedReply) -> None:
        url = self.context.webhook_url(INBOUND_PATH)
        if url is None:
            return
        headers = {"Content-Type": "application/json"}
        if self.context.mailbox.inbound_format == "postmark":
            body = postmark_json(reply, inbound_id=_uuid_like(self.context.token(16)))
            auth = base64.b64encode(f"postmark:{self._secret()}".encode()).decode()
            headers["Authorization"] = f"Basic {auth}"
        else:
            body = generic_json(reply)
            headers[WEBHOOK_SECRET_HEADER] = self._secret()
        delay = self.context.scenario.seconds(self.context.scenario.email.reply_delay_seconds)
        self.context.webhooks.schedule(url, body, headers, delay_seconds=delay)

    def _secret(self) -> str:
        return self.context.scenario.credentials.inbound_email_secret


def _uuid_like(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


class SandboxSmtpServer:
    """The auxiliary server named ``smtp`` (see ``sandbox.server``)."""

    name = "smtp"

    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self._handler = _Handler(context)
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []
        self._tls: ssl.SSLContext | None = None

    async def start(self, host: str, port: int) -> int:
        # aiosmtpd logs a deprecation notice on every successful AUTH; keep its errors only.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self._tls, self.context.mailbox.certificate_pem = self_signed_context(host)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, host, port)
        bound = self._server.sockets[0].getsockname()[1]
        assert isinstance(bound, int)
        return bound

    def _session(self) -> SMTP:
        credentials = self.context.scenario.credentials
        user = credentials.smtp_username.encode()
        password = credentials.smtp_password.encode()

        def authenticate(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            same_user = hmac.compare_digest(data.login, user)
            same_password = hmac.compare_digest(data.password, password)
            # handled=False lets aiosmtpd answer "535 5.7.8" itself on failure.
            return AuthResult(success=same_user and same_password, handled=False)

        self._sessions = [s for s in self._sessions if s.transport is not None]
        self.context.mailbox.sessions_opened += 1
        session = SMTP(
            self._handler,
            hostname=SERVER_HOSTNAME,
            tls_context=self._tls,
            authenticator=authenticate,
            auth_require_tls=False,  # loopback only; AUTH is enforced at MAIL
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.append(session)
        return session

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None


def create_smtp_server(context: SandboxContext) -> SandboxSmtpServer:
    return SandboxSmtpServer(context)


def install(app: web.Application, context: SandboxContext) -> None:
    """``GET /_sandbox/email/messages``: what the SMTP server accepted."""

    async def received(_request: web.Request) -> web.Response:
        rows = []
        for received in context.mailbox.messages():
            parsed = received.parsed()
            rows.append(
                {
                    "envelope_sender": received.envelope_sender,
                    "recipients": list(received.recipients),
                    "message_id": str(parsed.get("Message-ID", "")),
                    "subject": str(parsed.get("Subject", "")),
                    "x_herald_key": str(parsed.get("X-Herald-Key", "")),
                }
            )
        return web.json_response({"messages": rows})

    app.router.add_get("/_sandbox/email/messages", received)

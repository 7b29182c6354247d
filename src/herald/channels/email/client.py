"""Sending email over SMTP (aiosmtplib) with pooled, authenticated sessions.

Each send is one transaction on a pooled session: ``MAIL FROM`` (the VERP
bounce address), ``RCPT TO``, ``DATA``. What a failure means depends on how
far the transaction got, because only the end of ``DATA`` hands the message
over::

    before DATA   nothing was handed over: retryable / terminal by the reply
    during DATA   a timeout or a dropped connection may have happened after
                  the server queued the message: SendUnknown, never resent

A pooled session that the server closed while idle fails on ``MAIL FROM``,
before anything was handed over; that one case is retried at once on a new
session.
"""

from __future__ import annotations

import ssl

import aiohttp
import aiosmtplib

from herald.channels.base import (
    ConnectionCheck,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.channels.email.classify import (
    Phase,
    classify_reply,
    failure,
    integration_fault,
    retryable,
)
from herald.channels.email.message import (
    ComposedEmail,
    InvalidRecipientError,
    compose_email,
    parse_recipient,
)
from herald.channels.email.pool import PooledConnection, SmtpPool, TokenBucket
from herald.channels.email.settings import EmailSettings, SmtpSecurity
from herald.channels.email.tokens import new_message_token
from herald.clock import Clock, SystemClock
from herald.domain.channels import IntegrationKind


class _StaleConnectionError(Exception):
    """A reused session was found closed before anything was handed over."""


class _OpenFailedError(Exception):
    """Opening a session failed; carries the classified result."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(str(result))
        self.result = result


class SmtpEmailClient:
    """A :class:`~herald.channels.base.ChannelClient` for one SMTP account."""

    def __init__(self, settings: EmailSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self._clock = clock or SystemClock()
        self._pool = SmtpPool(self._open, settings.pool_size)
        self._bucket = TokenBucket(settings.rate_limit_per_second)
        self._tls_context = _tls_context(settings)

    @property
    def kind(self) -> IntegrationKind:
        return IntegrationKind.EMAIL_SMTP

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one email; provider answers are classified, never raised."""
        try:
            recipient = parse_recipient(message.to)
        except InvalidRecipientError as exc:
            return SendTerminal(failure("5.1.3", exc.message))
        mail = compose_email(
            message,
            recipient,
            self.settings,
            token=new_message_token(message.key),
            now=self._clock.now(),
        )
        await self._bucket.acquire()
        async with self._pool.slot():
            try:
                return await self._send_pooled(mail)
            except _OpenFailedError as failed:
                return failed.result

    async def check_connection(self) -> ConnectionCheck:
        """Connect, EHLO, STARTTLS/TLS, AUTH and QUIT with the configured account."""
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            smtp = await self._open()
        except _OpenFailedError as failed:
            return ConnectionCheck(False, f"{where}: {_describe(failed.result)}")
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
        who = f" as {self.settings.username}" if self.settings.username else ""
        return ConnectionCheck(True, f"connected to {where} ({self.settings.security}){who}")

    async def aclose(self) -> None:
        """QUIT the idle pooled sessions."""
        await self._pool.close()

    # --- internals ----------------------------------------------------------

    async def _send_pooled(self, mail: ComposedEmail) -> SendResult:
        conn = await self._pool.checkout()
        try:
            result = await self._transact(conn, mail)
        except _StaleConnectionError:
            conn = await self._pool.reopen(conn)
            try:
                result = await self._transact(conn, mail)
            except _StaleConnectionError:
                await self._pool.discard(conn)
                return retryable("disconnected", "connection closed before MAIL FROM was answered")
        if conn.smtp.is_connected:
            await self._pool.checkin(conn)
        else:
            await self._pool.discard(conn)
        return result

    async def _transact(self, conn: PooledConnection, mail: ComposedEmail) -> SendResult:
        smtp = conn.smtp
        phase = Phase.MAIL
        try:
            mail_options, encoding = self._mail_options(smtp, mail)
            await smtp.mail(mail.envelope_sender, options=mail_options, encoding=encoding)
            phase = Phase.RCPT
            await smtp.rcpt(mail.recipient.smtp_address, encoding=encoding)
            phase = Phase.DATA
            answer = await smtp.data(mail.data)
        except aiosmtplib.SMTPResponseException as exc:
            await _reset(smtp)
            return classify_reply(exc.code, exc.message, phase)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
            return self._transport_failure(conn, phase, exc)
        except aiosmtplib.SMTPNotSupported as exc:
            await _reset(smtp)
            return SendTerminal(failure("smtputf8_unsupported", str(exc)))
        return SendAccepted(mail.message_id, provider_status=f"{answer.code} {answer.message}")

    def _transport_failure(
        self, conn: PooledConnection, phase: Phase, exc: Exception
    ) -> SendResult:
        conn.smtp.close()
        if phase is Phase.DATA:
            return SendUnknown(f"SMTP connection lost or timed out during DATA: {exc}")
        if isinstance(exc, TimeoutError):
            return retryable("timeout", f"no answer to {phase.upper()}: {exc}")
        if conn.is_reused and phase is Phase.MAIL:
            raise _StaleConnectionError
        return retryable("disconnected", f"connection lost at {phase.upper()}: {exc}")

    def _mail_options(self, smtp: aiosmtplib.SMTP, mail: ComposedEmail) -> tuple[list[str], str]:
        """SMTPUTF8 for non-ASCII recipients; ENVID/RET so DSNs name the message."""
        options: list[str] = []
        encoding = "ascii"
        if mail.recipient.needs_smtputf8:
            if not smtp.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("the server does not offer SMTPUTF8")
            options.append("SMTPUTF8")
            encoding = "utf-8"
        if smtp.supports_extension("dsn"):
            options += [f"ENVID={mail.token}", "RET=HDRS"]
        return options, encoding

    async def _open(self) -> aiosmtplib.SMTP:
        """A connected, secured and authenticated session, or ``_OpenFailedError``."""
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout_seconds,
            use_tls=s.security is SmtpSecurity.TLS,
            start_tls=s.security is SmtpSecurity.STARTTLS,
            tls_context=self._tls_context if s.security is not SmtpSecurity.NONE else None,
            local_hostname=s.local_hostname or s.effective_message_id_domain,
        )
        phase = Phase.CONNECT
        try:
            await smtp.connect()
            if s.username is not None and s.password is not None:
                phase = Phase.AUTH
                await smtp.login(s.username, s.password.get_secret_value())
        except Exception as exc:
            smtp.close()
            raise _OpenFailedError(_open_failure(exc, phase)) from exc
        return smtp


def _open_failure(exc: Exception, phase: Phase) -> SendResult:
    """Classify what went wrong while connecting, securing or logging in."""
    if _caused_by_tls(exc):
        return integration_fault("tls_failed", str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return classify_reply(exc.code, exc.message, phase)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError | OSError):
        return retryable("connection_failed", str(exc))
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return retryable("disconnected", str(exc))
    message = str(exc)
    if phase is Phase.AUTH:  # login() refused before asking: no AUTH offered
        return integration_fault("auth_unsupported", message)
    if "STARTTLS" in message:
        return integration_fault("tls_failed", message)
    return retryable("connection_failed", message)


def _caused_by_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _reset(smtp: aiosmtplib.SMTP) -> None:
    """RSET after a refused transaction so the session can carry the next one."""
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        smtp.close()


def _tls_context(settings: EmailSettings) -> ssl.SSLContext:
    if settings.tls_ca_pem is not None:
        return ssl.create_default_context(cadata=settings.tls_ca_pem)
    return ssl.create_default_context()


def _describe(result: SendResult) -> str:
    if isinstance(result, SendRetryable | SendTerminal):
        return f"{result.failure.title} ({result.failure.code}): {result.failure.detail}"
    return str(result)


def create_client(
    settings: EmailSettings,
    session: aiohttp.ClientSession | None = None,
    *,
    clock: Clock | None = None,
) -> SmtpEmailClient:
    """The registry's constructor; SMTP needs no HTTP session, so it is ignored."""
    del session
    return SmtpEmailClient(settings, clock=clock)

"""The SMTP client against the sandbox's SMTP server over real SMTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from aiosmtpd import smtp as aiosmtpd_smtp

from herald.channels.base import (
    EmailContent,
    OutboundMessage,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.channels.email import SmtpEmailClient, create_client
from herald.channels.sandbox.scenario import ChannelScenario, Scenario, ScriptedRule
from herald.channels.sandbox.server import SandboxServer
from tests.email_support import make_settings

RULES = [
    ScriptedRule(match="@unknown.example.org", reject="5.1.1"),
    ScriptedRule(match="@greylist.example.org", reject="4.7.1"),
]
CONTENT = EmailContent(
    subject="Votre commande Ñ-1029 est prête",
    text="Bonjour Ana,\nvotre commande est prête.",
    html="<p>Bonjour Ana,</p><p>votre commande est prête.</p>",
    list_id="campaign-42",
)


def _message(to: str = "ana@example.org", key: str = "c1029:j7:s0") -> OutboundMessage:
    return OutboundMessage(key=key, to=to, content=CONTENT)


def _client(sandbox: SandboxServer, **overrides: Any) -> SmtpEmailClient:
    assert sandbox.context is not None
    values: dict[str, Any] = {
        "port": sandbox.ports["smtp"],
        "tls_ca_pem": sandbox.context.mailbox.certificate_pem,
        "rate_limit_per_second": 1000,
    }
    return create_client(make_settings(**(values | overrides)))


def _run(
    body: Callable[[SandboxServer], Awaitable[None]], scenario: Scenario | None = None
) -> None:
    async def main() -> None:
        async with SandboxServer(scenario or Scenario(email=ChannelScenario(rules=RULES))) as sb:
            await body(sb)

    asyncio.run(main())


async def _send(client: SmtpEmailClient, message: OutboundMessage) -> SendResult:
    try:
        return await client.send(message)
    finally:
        await client.aclose()


@pytest.mark.parametrize("security", ["none", "starttls"])
def test_accepted_message_arrives_with_every_header(security: str) -> None:
    async def body(sandbox: SandboxServer) -> None:
        assert sandbox.context is not None
        result = await _send(_client(sandbox, security=security), _message())
        assert isinstance(result, SendAccepted)
        assert result.provider_status is not None and result.provider_status.startswith("250")
        (received,) = sandbox.context.mailbox.messages()
        token = result.provider_message_id.strip("<>").split("@")[0]
        assert received.envelope_sender == f"bounce+{token}@mail.example.test"
        assert received.recipients == ("ana@example.org",)
        mail = received.parsed()
        assert mail["Message-ID"] == result.provider_message_id
        assert mail["Subject"] == CONTENT.subject
        assert mail["X-Herald-Key"] == "c1029:j7:s0"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "<https://herald.example.test/u/" in mail["List-Unsubscribe"]
        assert "<mailto:unsub+" in mail["List-Unsubscribe"]
        assert mail.get_content_type() == "multipart/alternative"
        kinds = [part.get_content_type() for part in mail.iter_parts()]
        assert kinds == ["text/plain", "text/html"]
        plain = mail.get_body(preferencelist=("plain",))
        assert isinstance(plain, EmailMessage)
        assert "votre commande est prête" in plain.get_content()
        (send,) = sandbox.log.sends()
        assert send.correlation_key == "c1029:j7:s0"
        assert send.provider_message_id == result.provider_message_id

    _run(body)


def test_sessions_are_reused_and_bounded_by_the_pool() -> None:
    async def body(sandbox: SandboxServer) -> None:
        assert sandbox.context is not None
        client = _client(sandbox, pool_size=3)
        try:
            results = await asyncio.gather(
                *(client.send(_message(f"p{i}@example.org", f"k{i}")) for i in range(20))
            )
            rejected = await client.send(_message("x@unknown.example.org"))
            after = await client.send(_message("late@example.org", "late"))
        finally:
            await client.aclose()
        assert all(isinstance(r, SendAccepted) for r in results)
        assert isinstance(rejected, SendTerminal) and isinstance(after, SendAccepted)
        assert len({r.provider_message_id for r in results if isinstance(r, SendAccepted)}) == 20
        assert len(sandbox.context.mailbox.messages()) == 21
        assert sandbox.context.mailbox.sessions_opened <= 3  # RSET kept the session usable

    _run(body)


def test_recipient_refused_at_rcpt_is_terminal_with_the_enhanced_code() -> None:
    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox), _message("nobody@unknown.example.org"))
        assert isinstance(result, SendTerminal)
        assert not result.integration_fault
        assert result.failure.code == "5.1.1"
        assert result.failure.detail is not None and result.failure.detail.startswith("550 5.1.1")
        assert sandbox.log.sends() == []

    _run(body)


def test_temporary_refusal_is_retryable() -> None:
    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox), _message("ana@greylist.example.org"))
        assert isinstance(result, SendRetryable)
        assert result.failure.code == "4.7.1"

    _run(body)


def test_bad_password_is_an_integration_fault() -> None:
    async def body(sandbox: SandboxServer) -> None:
        client = _client(sandbox, password="wrong-password")
        result = await _send(client, _message())
        assert isinstance(result, SendTerminal)
        assert result.integration_fault
        assert result.failure.code == "5.7.8"
        check = await client.check_connection()
        assert not check.connected
        assert "Authentication credentials invalid" in check.reason

    _run(body)


def test_check_connection_logs_in_and_quits() -> None:
    async def body(sandbox: SandboxServer) -> None:
        for security in ("none", "starttls"):
            check = await _client(sandbox, security=security).check_connection()
            assert check.connected, check.reason
            assert f"({security}) as sandbox" in check.reason

    _run(body)


def test_untrusted_certificate_is_an_integration_fault() -> None:
    async def body(sandbox: SandboxServer) -> None:
        client = _client(sandbox, security="starttls", tls_ca_pem=None)
        result = await _send(client, _message())
        assert isinstance(result, SendTerminal) and result.integration_fault
        assert result.failure.code == "tls_failed"

    _run(body)


def test_implicit_tls_against_a_plain_port_is_an_integration_fault() -> None:
    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox, security="tls", timeout_seconds=2), _message())
        assert isinstance(result, SendTerminal) and result.integration_fault
        assert result.failure.code == "tls_failed"

    _run(body)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert isinstance(port, int)
        return port


def test_server_down_is_retryable() -> None:
    async def main() -> None:
        client = create_client(make_settings(port=_free_port()))
        result = await _send(client, _message())
        assert isinstance(result, SendRetryable)
        assert result.failure.code == "connection_failed"
        check = await client.check_connection()
        assert not check.connected and "Cannot connect" in check.reason

    asyncio.run(main())


def test_silent_server_times_out_before_anything_is_sent() -> None:
    async def main() -> None:
        writers: list[asyncio.StreamWriter] = []

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)  # accepts the connection, never greets

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            client = create_client(make_settings(port=port, timeout_seconds=0.2))
            result = await _send(client, _message())
        finally:
            for writer in writers:
                writer.close()
            server.close()
            await server.wait_closed()
        assert isinstance(result, SendRetryable)
        assert result.failure.code == "connection_failed"

    asyncio.run(main())


def test_timeout_after_data_is_unknown_never_retryable() -> None:
    scenario = Scenario(email=ChannelScenario(latency_ms=600))

    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox, timeout_seconds=0.2), _message())
        assert isinstance(result, SendUnknown)
        assert "DATA" in result.reason

    _run(body, scenario)


class _DropsSecondTransaction:
    """A relay that closes a session when it tries to carry a second message."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook name)
        self,
        server: aiosmtpd_smtp.SMTP,
        session: Any,
        envelope: Any,
        address: str,
        options: list[str],
    ) -> str:
        session.transactions = getattr(session, "transactions", 0) + 1
        if session.transactions > 1:
            server.transport.close()
            return "421 4.4.2 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: aiosmtpd_smtp.SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        self.accepted.append(envelope.original_content)
        return "250 OK"


def test_a_pooled_session_closed_by_the_server_is_replaced_transparently() -> None:
    async def main() -> None:
        handler = _DropsSecondTransaction()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: aiosmtpd_smtp.SMTP(handler, hostname="relay.test", loop=loop), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        client = create_client(
            make_settings(port=port, username=None, password=None, rate_limit_per_second=1000)
        )
        try:
            first = await client.send(_message("a@example.org", "k1"))
            second = await client.send(_message("b@example.org", "k2"))
        finally:
            await client.aclose()
            server.close()
        assert isinstance(first, SendAccepted) and isinstance(second, SendAccepted)
        assert len(handler.accepted) == 2

    asyncio.run(main())


def test_received_messages_are_listed_over_http() -> None:
    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox), _message())
        assert isinstance(result, SendAccepted)
        async with (
            aiohttp.ClientSession() as session,
            session.get(sandbox.base_url + "/_sandbox/email/messages") as response,
        ):
            listed = await response.json()
        (row,) = listed["messages"]
        assert row["message_id"] == result.provider_message_id
        assert row["x_herald_key"] == "c1029:j7:s0"
        assert row["recipients"] == ["ana@example.org"]

    _run(body)


def test_random_rejections_use_the_scenario_codes() -> None:
    scenario = Scenario(email=ChannelScenario(reject_rate=1.0, reject_codes=["5.2.2"]))

    async def body(sandbox: SandboxServer) -> None:
        result = await _send(_client(sandbox), _message())
        assert isinstance(result, SendTerminal)
        assert result.failure.code == "5.2.2"
        assert result.failure.detail is not None and result.failure.detail.startswith("552")
        assert sandbox.log.requests_rejected == 1

    _run(body, scenario)


def test_internationalised_mailbox_is_sent_with_smtputf8() -> None:
    async def body(sandbox: SandboxServer) -> None:
        assert sandbox.context is not None
        result = await _send(_client(sandbox), _message("josé@example.org"))
        assert isinstance(result, SendAccepted)
        (received,) = sandbox.context.mailbox.messages()
        assert received.recipients == ("josé@example.org",)
        assert "SMTPUTF8" in received.mail_options
        assert received.parsed()["To"] == "josé@example.org"

    _run(body)


def test_relay_without_auth_or_starttls_is_an_integration_fault() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        handler = _DropsSecondTransaction()
        server = await loop.create_server(
            lambda: aiosmtpd_smtp.SMTP(handler, hostname="relay.test", loop=loop), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        try:
            result = await _send(create_client(make_settings(port=port)), _message())
            starttls = await _send(
                create_client(make_settings(port=port, security="starttls")), _message()
            )
        finally:
            server.close()
        assert isinstance(result, SendTerminal) and result.integration_fault
        assert result.failure.code == "auth_unsupported"
        # A relay that offers no STARTTLS must not get the password in clear.
        assert isinstance(starttls, SendTerminal) and starttls.integration_fault
        assert starttls.failure.code == "tls_failed"
        assert handler.accepted == []

    asyncio.run(main())

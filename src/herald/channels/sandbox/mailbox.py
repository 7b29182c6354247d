"""What the sandbox's SMTP server received, for tests and the demo to inspect."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Literal

InboundFormat = Literal["postmark", "json"]


@dataclass(frozen=True)
class ReceivedEmail:
    """One accepted SMTP transaction, exactly as it came over the wire."""

    envelope_sender: str
    recipients: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()

    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


class SmtpMailbox:
    """Thread-safe record of received mail plus the SMTP server's knobs.

    ``certificate_pem`` is the throwaway certificate the server presents on
    STARTTLS (give it to a client as ``tls_ca_pem``); ``inbound_format``
    picks the JSON shape of simulated replies (Postmark's by default).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedEmail] = []
        self.certificate_pem: str | None = None
        self.inbound_format: InboundFormat = "postmark"
        self.sessions_opened = 0  # SMTP connections accepted: shows connection reuse

    def add(self, received: ReceivedEmail) -> None:
        with self._lock:
            self._messages.append(received)

    def messages(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._messages)

    def find(self, recipient: str) -> list[ReceivedEmail]:
        wanted = recipient.lower()
        return [m for m in self.messages() if wanted in (r.lower() for r in m.recipients)]

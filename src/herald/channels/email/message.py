"""Turns an :class:`OutboundMessage` into the bytes and envelope of one email.

Header injection is impossible by construction: the subject is flattened to
one line (a line break in a subject is never meant, so it becomes a space),
addresses go through the address parser, display names with line breaks
are refused when the settings are saved, and the correlation key and
threading ids must match their strict syntax or the send is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, formataddr

from email_validator import EmailNotValidError, validate_email

from herald.channels.base import EmailContent, OutboundMessage
from herald.channels.email.settings import EmailSettings
from herald.channels.email.tokens import (
    message_id_for,
    plus_address,
    sign_unsubscribe_token,
)
from herald.errors import ValidationError

MAX_KEY_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_KEY = re.compile(r"^[\x21-\x7e]+$")
_MSG_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
ONE_CLICK = "List-Unsubscribe=One-Click"
# The classic (compat32) API: several times faster than EmailMessage's header
# registry, and every value is checked above so its lack of checks is moot.
_POLICY = policy.compat32.clone(linesep="\r\n")
# Long header words (the unsubscribe URL) must stay verbatim: with the usual
# 78-character limit the modern policy would turn them into encoded words,
# which no mailbox provider decodes in List-Unsubscribe. RFC 5322 allows 998.
_SMTPUTF8_POLICY = policy.SMTPUTF8.clone(max_line_length=998)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


class InvalidRecipientError(ValidationError):
    """The recipient address cannot be put on an envelope at all."""

    code = "invalid_recipient"


@dataclass(frozen=True)
class Recipient:
    """``smtp_address`` goes on the envelope; non-ASCII local parts need SMTPUTF8."""

    address: str
    smtp_address: str
    needs_smtputf8: bool


@dataclass(frozen=True)
class ComposedEmail:
    token: str
    message_id: str
    envelope_sender: str
    recipient: Recipient
    data: bytes


def parse_recipient(to: str) -> Recipient:
    if "\r" in to or "\n" in to:
        raise InvalidRecipientError("recipient: line breaks are not allowed", field="to")
    try:
        result = validate_email(to, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidRecipientError(f"recipient {to!r}: {exc}", field="to") from exc
    if result.ascii_email is not None:
        return Recipient(result.normalized, result.ascii_email, needs_smtputf8=False)
    return Recipient(result.normalized, result.normalized, needs_smtputf8=True)


def one_line(text: object) -> str:
    """Collapse control characters (CR, LF, tabs...) and runs of spaces into one space.

    Takes any header value: one with undecodable bytes comes out of the email
    parser as a ``Header`` object rather than text.
    """
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def check_message_id(value: str, *, field: str) -> str:
    value = value.strip()
    if not _MSG_ID.match(value):
        raise ValidationError(
            f"{field}: {value!r} is not a Message-ID like <id@domain>", field=field
        )
    return value


def compose_email(
    message: OutboundMessage,
    recipient: Recipient,
    settings: EmailSettings,
    *,
    token: str,
    now: datetime,
) -> ComposedEmail:
    """The message, ready for DATA, with its envelope sender and Message-ID."""
    content = message.content
    if not isinstance(content, EmailContent):
        raise ValidationError(
            f"email needs EmailContent, got {type(content).__name__}", field="content"
        )
    if not _KEY.match(message.key) or len(message.key) > MAX_KEY_LENGTH:
        raise ValidationError("key: printable ASCII without spaces, at most 200", field="key")
    message_id = message_id_for(token, settings.effective_message_id_domain)
    mail = _body(content)
    mail["From"] = formataddr((settings.from_name or "", settings.from_address), charset="utf-8")
    mail["To"] = recipient.smtp_address
    subject = one_line(content.subject)
    if not (subject.isascii() or recipient.needs_smtputf8):
        # compat32 folds Header objects into RFC 2047 words; typeshed only knows str.
        subject = Header(subject, "utf-8")  # type: ignore[assignment]
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id
    if settings.reply_to_address is not None:
        reply_to = settings.reply_to_address
        if settings.reply_plus_addressing:
            reply_to = plus_address(reply_to, token)
        mail["Reply-To"] = reply_to
    _add_threading(mail, content)
    _add_unsubscribe(mail, recipient.address, content.list_id or "", settings)
    mail["X-Herald-Key"] = message.key
    sender = settings.bounce_address or settings.from_address
    if settings.bounce_address is not None:
        sender = plus_address(settings.bounce_address, token)
    data = mail.as_bytes(policy=_SMTPUTF8_POLICY if recipient.needs_smtputf8 else _POLICY)
    return ComposedEmail(token, message_id, sender, recipient, data)


def _body(content: EmailContent) -> Message:
    """Quoted-printable UTF-8 text, with the HTML as an alternative when there is one."""
    text = _text_part(content.text, "plain")
    if content.html is None:
        return text
    mail = MIMEMultipart("alternative")
    mail.attach(text)
    mail.attach(_text_part(content.html, "html"))
    return mail


def _text_part(text: str, subtype: str) -> Message:
    part = MIMEBase("text", subtype)
    part.set_payload(text, _UTF8_QP)
    return part


def _add_threading(mail: Message, content: EmailContent) -> None:
    """In-Reply-To names the message answered; References carries the whole thread."""
    references = [check_message_id(r, field="content.references") for r in content.references]
    if content.in_reply_to is not None:
        parent = check_message_id(content.in_reply_to, field="content.in_reply_to")
        mail["In-Reply-To"] = parent
        if parent not in references:
            references.append(parent)
    if references:
        mail["References"] = " ".join(references)


def unsubscribe_url(settings: EmailSettings, token: str) -> str:
    if settings.public_base_url is None:
        raise ValidationError("public_base_url is not set", field="public_base_url")
    return f"{settings.public_base_url}/u/{token}"


def _add_unsubscribe(mail: Message, address: str, list_id: str, settings: EmailSettings) -> None:
    """RFC 2369 links plus RFC 8058 one-click, when Herald has a public URL."""
    if settings.public_base_url is None or settings.unsubscribe_secret is None:
        return
    token = sign_unsubscribe_token(address, list_id, settings.unsubscribe_secret.get_secret_value())
    links = [f"<{unsubscribe_url(settings, token)}>"]
    if settings.reply_to_address is not None:
        domain = settings.reply_to_address.rsplit("@", 1)[1]
        links.append(f"<mailto:unsub+{token}@{domain}>")
    mail["List-Unsubscribe"] = ", ".join(links)
    mail["List-Unsubscribe-Post"] = ONE_CLICK

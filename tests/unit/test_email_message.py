"""Composing the MIME message: headers, threading, unsubscribe, injection safety."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from herald.channels.base import EmailContent, OutboundMessage, SmsContent
from herald.channels.email.message import (
    ComposedEmail,
    InvalidRecipientError,
    compose_email,
    parse_recipient,
)
from herald.channels.email.tokens import read_unsubscribe_token
from herald.errors import ValidationError
from tests.email_support import UNSUBSCRIBE_SECRET, make_settings

NOW = datetime(2024, 6, 3, 16, 39, 58, tzinfo=UTC)
TOKEN = "5f0c3d2a9b8e4f61a7c2d3e4f5a6b7c8.1a2b3c4d5e6f"


def _compose(content: EmailContent, to: str = "ana@example.org", **settings: Any) -> ComposedEmail:
    message = OutboundMessage(key="c1029:j7:s0", to=to, content=content)
    return compose_email(
        message, parse_recipient(to), make_settings(**settings), token=TOKEN, now=NOW
    )


def _parsed(composed: ComposedEmail) -> EmailMessage:
    parsed = message_from_bytes(composed.data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_headers_envelope_and_alternative_parts() -> None:
    composed = _compose(
        EmailContent(subject="Your order Ñ-1029", text="Hello Ána", html="<p>Hi</p>")
    )
    mail = _parsed(composed)
    assert composed.message_id == f"<{TOKEN}@mail.example.test>"
    assert composed.envelope_sender == f"bounce+{TOKEN}@mail.example.test"
    assert mail["Message-ID"] == composed.message_id
    assert mail["Subject"] == "Your order Ñ-1029"
    assert mail["From"] == "Herald Orders <orders@mail.example.test>"
    assert mail["To"] == "ana@example.org"
    assert mail["Reply-To"] == f"reply+{TOKEN}@inbound.example.test"
    assert mail["X-Herald-Key"] == "c1029:j7:s0"
    assert mail["Date"].datetime == NOW
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = (part for part in mail.iter_parts())
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content().strip() == "Hello Ána"
    assert html.get_content().strip() == "<p>Hi</p>"
    assert composed.data.isascii()


def test_text_only_message_is_a_single_part() -> None:
    mail = _parsed(_compose(EmailContent(subject="s", text="just text")))
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"


def test_one_click_unsubscribe_headers_carry_a_verifiable_token() -> None:
    mail = _parsed(_compose(EmailContent(subject="s", text="t", list_id="campaign-42")))
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (link.strip(" <>") for link in str(mail["List-Unsubscribe"]).split(","))
    assert https.startswith("https://herald.example.test/u/")
    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:unsub+{token}@inbound.example.test"
    subject = read_unsubscribe_token(token, UNSUBSCRIBE_SECRET)
    assert (subject.address, subject.list_id) == ("ana@example.org", "campaign-42")
    raw_header = next(
        line
        for line in _compose(EmailContent("s", "t")).data.split(b"\r\n")
        if line.startswith(b"List-Unsubscribe:")
    )
    assert b"=?" not in raw_header  # never an encoded word: providers read it verbatim


def test_without_public_url_there_is_no_unsubscribe_header() -> None:
    mail = _parsed(_compose(EmailContent("s", "t"), public_base_url=None, unsubscribe_secret=None))
    assert "List-Unsubscribe" not in mail and "List-Unsubscribe-Post" not in mail


def test_answering_a_reply_threads_it() -> None:
    content = EmailContent(
        subject="Re: Your order",
        text="Friday it is.",
        in_reply_to="<CAF00d@mail.example.org>",
        references=("<first@mail.example.test>",),
    )
    mail = _parsed(_compose(content))
    assert mail["In-Reply-To"] == "<CAF00d@mail.example.org>"
    assert mail["References"] == "<first@mail.example.test> <CAF00d@mail.example.org>"


def test_without_bounce_and_reply_addresses_the_from_address_is_used() -> None:
    composed = _compose(EmailContent("s", "t"), bounce_address=None, reply_to_address=None)
    assert composed.envelope_sender == "orders@mail.example.test"
    assert "Reply-To" not in _parsed(composed)


@pytest.mark.parametrize(
    "subject",
    ["Hello\r\nBcc: victim@example.org", "Hello\nBcc: victim@example.org", "Hello\rBcc: x@y"],
)
def test_line_breaks_in_the_subject_cannot_add_headers(subject: str) -> None:
    composed = _compose(EmailContent(subject=subject, text="t"))
    mail = _parsed(composed)
    assert "Bcc" not in mail
    assert "\n" not in mail["Subject"] and mail["Subject"].startswith("Hello Bcc:")
    assert b"\r\nBcc:" not in composed.data


@pytest.mark.parametrize(
    "to", ["ana@example.org\r\nBcc: victim@example.org", "Ana <ana@example.org>", "no-at-sign"]
)
def test_unusable_recipients_are_refused(to: str) -> None:
    with pytest.raises(InvalidRecipientError):
        parse_recipient(to)


def test_threading_ids_with_line_breaks_are_refused() -> None:
    content = EmailContent("s", "t", in_reply_to="<a@b>\r\nBcc: victim@example.org")
    with pytest.raises(ValidationError, match="in_reply_to"):
        _compose(content)


@pytest.mark.parametrize("key", ["c1 j1", "c1\r\nBcc: x@y", "", "k" * 201])
def test_unsafe_keys_are_refused(key: str) -> None:
    message = OutboundMessage(key=key, to="ana@example.org", content=EmailContent("s", "t"))
    with pytest.raises(ValidationError, match="key"):
        compose_email(message, parse_recipient(message.to), make_settings(), token=TOKEN, now=NOW)


def test_other_content_types_are_refused() -> None:
    message = OutboundMessage(key="k", to="ana@example.org", content=SmsContent("hi"))
    with pytest.raises(ValidationError, match="EmailContent"):
        compose_email(message, parse_recipient(message.to), make_settings(), token=TOKEN, now=NOW)


def test_internationalised_mailbox_needs_smtputf8() -> None:
    recipient = parse_recipient("josé@exámple.org")
    assert recipient.needs_smtputf8
    ascii_domain = parse_recipient("ana@exámple.org")
    assert not ascii_domain.needs_smtputf8
    assert ascii_domain.smtp_address == "ana@xn--exmple-qta.org"

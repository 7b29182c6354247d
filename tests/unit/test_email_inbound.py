"""Reply webhooks: Postmark and generic JSON, secrets, auto-replies, quoted text."""

from __future__ import annotations

import base64
import json

import pytest

from herald.channels.base import InboundMessage
from herald.channels.email import (
    UNSUBSCRIBE_PAYLOAD,
    parse_inbound,
    parse_inbound_json,
    parse_postmark_inbound,
    sign_unsubscribe_token,
    verify_webhook_secret,
)
from herald.channels.email.reply_text import html_to_text, strip_quoted_reply
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError
from tests.email_support import (
    INBOUND_SECRET,
    RECEIVED_AT,
    UNSUBSCRIBE_SECRET,
    fixture_bytes,
    make_settings,
)

OURS = "<5f0c3d2a9b8e4f61a7c2d3e4f5a6b7c8.1a2b3c4d5e6f@mail.example.test>"
OURS_2 = "<9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a59.0f1e2d3c4b5a@mail.example.test>"


def _one(events: list[object]) -> InboundMessage:
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, InboundMessage)
    return event


def test_postmark_reply_uses_real_headers_and_the_mailbox_hash() -> None:
    body = fixture_bytes("postmark_inbound.json")
    event = _one(parse_postmark_inbound(body, make_settings(), received_at=RECEIVED_AT))
    assert event.provider is IntegrationKind.EMAIL_SMTP
    assert event.provider_message_id == "<CAF00dQk=7vN2@mail.example.org>"
    assert event.sender == "ana.ruiz@example.org"
    assert event.recipient.startswith("reply+5f0c3d2a")
    assert event.in_reply_to == (OURS,)
    assert event.text == "Yes, please deliver on Friday."
    assert event.full_text is not None and "> your order A-1029" in event.full_text
    assert event.subject == "Re: Your order A-1029"
    assert event.received_at == RECEIVED_AT
    assert event.payload is None
    assert parse_inbound(body, make_settings(), received_at=RECEIVED_AT) == [event]


def test_generic_reply_normalises_ids_and_strips_the_quote() -> None:
    body = fixture_bytes("generic_inbound.json")
    event = _one(parse_inbound_json(body, make_settings(), received_at=RECEIVED_AT))
    assert event.sender == "carla@example.com"
    assert event.recipient == "reply@inbound.example.test"
    assert event.provider_message_id == "<20240603101512.GA4411@mail.example.com>"
    assert event.in_reply_to == (OURS_2, "<earlier-thread-1@mail.example.test>")
    assert event.text == "Sí, confirmo la cita del jueves."
    assert parse_inbound(body, make_settings(), received_at=RECEIVED_AT) == [event]


def test_html_only_reply_is_read_as_text_and_threaded_by_plus_address() -> None:
    body = fixture_bytes("generic_inbound_html_only.json")
    event = _one(parse_inbound_json(body, make_settings(), received_at=RECEIVED_AT))
    assert event.text == "Please call me tomorrow & not today."
    assert event.provider_message_id == "<DB9PR01MB1234.eurprd01.prod.example.org>"
    # No threading headers at all: the reply+token address rebuilds our Message-ID.
    assert event.in_reply_to == (OURS_2,)


def test_auto_replies_produce_no_event() -> None:
    body = fixture_bytes("postmark_auto_reply.json")
    assert parse_postmark_inbound(body, make_settings(), received_at=RECEIVED_AT) == []
    generic = {
        "from": "bruno@example.net",
        "to": "reply@inbound.example.test",
        "text": "Out of office",
        "message_id": "<oof@example.net>",
        "headers": [{"name": "Precedence", "value": "auto_reply"}],
    }
    assert (
        parse_inbound_json(json.dumps(generic).encode(), make_settings(), received_at=RECEIVED_AT)
        == []
    )


def test_mail_to_the_unsubscribe_mailbox_is_marked() -> None:
    token = sign_unsubscribe_token("ana@example.org", "campaign-42", UNSUBSCRIBE_SECRET)
    body = {
        "from": "ana@example.org",
        "to": f"unsub+{token}@inbound.example.test",
        "subject": "unsubscribe",
        "text": "unsubscribe",
        "message_id": "<u1@example.org>",
    }
    event = _one(
        parse_inbound_json(json.dumps(body).encode(), make_settings(), received_at=RECEIVED_AT)
    )
    assert event.payload == UNSUBSCRIBE_PAYLOAD
    body["to"] = f"unsub+{token[:-2]}aa@inbound.example.test"
    forged = _one(
        parse_inbound_json(json.dumps(body).encode(), make_settings(), received_at=RECEIVED_AT)
    )
    assert forged.payload is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"to": "a@b.c", "text": "x", "message_id": "<m@x>"}', "from"),
        (b'{"from": "a@b.c", "to": "r@b.c", "message_id": "<m@x>"}', "text"),
        (b'{"from": "a@b.c", "to": 5, "text": "x", "message_id": "<m@x>"}', "to"),
        (b'{"from": "nobody", "to": "r@b.c", "text": "x", "message_id": "<m@x>"}', "from"),
        (b'{"from": "a@b.c", "to": "r@b.c", "text": "x"}', "message_id"),
        (
            b'{"from": "a@b.c", "to": "r@b.c", "text": "x", "message_id": "<m@x>", "headers": 3}',
            "headers",
        ),
    ],
)
def test_malformed_generic_payloads_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_json(body, make_settings(), received_at=RECEIVED_AT)
    assert caught.value.field == field


def test_malformed_postmark_headers_are_refused() -> None:
    data = json.loads(fixture_bytes("postmark_inbound.json"))
    data["Headers"] = [{"Name": "In-Reply-To"}]
    with pytest.raises(ValidationError, match=r"Headers\[0\]"):
        parse_postmark_inbound(json.dumps(data).encode(), make_settings(), received_at=RECEIVED_AT)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [
        ({"X-Herald-Webhook-Secret": INBOUND_SECRET}, True),
        ({"x-herald-webhook-secret": INBOUND_SECRET}, True),
        ({"Authorization": _basic("postmark", INBOUND_SECRET)}, True),
        ({"Authorization": _basic("postmark", INBOUND_SECRET + "x")}, False),
        ({"X-Herald-Webhook-Secret": INBOUND_SECRET[:-1]}, False),
        ({"Authorization": "Basic !!notbase64"}, False),
        ({"Authorization": "Bearer " + INBOUND_SECRET}, False),
        ({}, False),
    ],
)
def test_webhook_secret_by_header_or_basic_auth(headers: dict[str, str], accepted: bool) -> None:
    assert verify_webhook_secret(headers, INBOUND_SECRET) is accepted


def test_an_empty_configured_secret_accepts_nothing() -> None:
    assert not verify_webhook_secret({"X-Herald-Webhook-Secret": ""}, "")


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Yes.\n\nOn Mon, 3 Jun 2024 at 16:40, Herald <h@x.test> wrote:\n> Hello", "Yes."),
        ("Yes.\n\nOn Mon, 3 Jun 2024 at 16:40, Herald Orders <h@x.test>\nwrote:\n> Hi", "Yes."),
        ("Vale.\n\nEl lun, 3 jun 2024, Clínica <c@x.test> escribió:\n> Hola", "Vale."),
        ("Oui.\n\nLe lun. 3 juin 2024, Herald a écrit :\n> Bonjour", "Oui."),
        ("Ok\r\n\r\n-----Original Message-----\r\nFrom: Herald\r\nSent: Monday", "Ok"),
        ("Fine\n\nFrom: Herald <h@x.test>\nSent: Monday, June 3, 2024 4:40 PM\nTo: me", "Fine"),
        ("Top\n> quoted line\nbottom", "Top\nbottom"),
        ("Thanks!\n-- \nAna Ruiz\nSales", "Thanks!"),
        ("> only quoted text", "> only quoted text"),
        ("On second thought, Friday works.", "On second thought, Friday works."),
    ],
)
def test_quoted_original_is_stripped(text: str, new: str) -> None:
    assert strip_quoted_reply(text) == new


def test_html_to_text_keeps_paragraphs_and_quotes() -> None:
    html = "<p>Yes&nbsp;please</p><blockquote><p>Original</p></blockquote><script>x()</script>"
    assert html_to_text(html) == "Yes please\n\n> Original"

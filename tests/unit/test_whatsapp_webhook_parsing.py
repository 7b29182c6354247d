"""Meta's messages webhooks, parsed from captured-style payloads into events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.channels.base import DeliveryStatus, DeliveryUpdate, InboundMessage
from herald.channels.whatsapp.events import parse_webhook, read_webhook
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "whatsapp"
WAMID = "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI1RkE0QjY3"
PHONE_ID = "106540352242922"


def _parse(name: str) -> list[Any]:
    return parse_webhook((FIXTURES / name).read_bytes())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(
    "name, status, seconds",
    [
        ("status_sent.json", DeliveryStatus.SENT, 1717430400),
        ("status_delivered.json", DeliveryStatus.DELIVERED, 1717430430),
        ("status_read.json", DeliveryStatus.READ, 1717430490),
    ],
)
def test_statuses_become_delivery_updates(name: str, status: DeliveryStatus, seconds: int) -> None:
    [event] = _parse(name)
    assert isinstance(event, DeliveryUpdate)
    assert event.provider is IntegrationKind.WHATSAPP
    assert event.provider_message_id == WAMID
    assert event.status is status
    assert event.occurred_at == _at(seconds)
    assert event.occurred_at.tzinfo is UTC
    assert event.correlation_key == "campaign-42:contact-9001"
    assert event.failure is None
    assert event.detail["recipient"] == "+34600111222"
    assert event.detail["phone_number_id"] == PHONE_ID
    assert event.dedupe_key == f"whatsapp:{WAMID}:{status}"


def test_pricing_and_conversation_are_kept_when_present() -> None:
    [event] = _parse("status_delivered.json")
    assert event.detail["pricing_category"] == "marketing"
    assert event.detail["conversation_id"] == "c0ffee00c0ffee00c0ffee00"


def test_failed_status_carries_the_provider_failure() -> None:
    [event] = _parse("status_failed.json")
    assert event.status is DeliveryStatus.FAILED
    assert event.failure is not None
    assert event.failure.code == "131026"
    assert event.failure.title == "Message undeliverable"
    assert event.failure.detail == "Message Undeliverable."
    assert event.correlation_key == "campaign-42:contact-9001"


def test_inbound_text() -> None:
    [event] = _parse("inbound_text.json")
    assert event == InboundMessage(
        provider=IntegrationKind.WHATSAPP,
        provider_message_id="wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQTRB",
        sender="+34600111222",
        recipient=PHONE_ID,
        text="Yes please, what colours?",
        received_at=_at(1717430520),
    )


def test_template_quick_reply_button() -> None:
    [event] = _parse("inbound_button.json")
    assert isinstance(event, InboundMessage)
    assert event.text == "Yes, confirm"
    assert event.payload == "YES_CONFIRM"
    assert event.in_reply_to == (WAMID,)
    assert event.sender == "+34600111222"


def test_interactive_button_and_list_replies() -> None:
    button, listed = _parse("inbound_interactive.json")
    assert (button.text, button.payload) == ("Yes", "opt_yes")
    assert button.in_reply_to == ("wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJJTlQx",)
    assert (listed.text, listed.payload) == ("Tuesday morning", "slot_tue_am")
    assert listed.sender == "+5511987654321"


def test_unsupported_message_is_still_a_reply() -> None:
    [event] = _parse("inbound_unsupported.json")
    assert isinstance(event, InboundMessage)
    assert event.text == "[unsupported message: Message type is currently not supported.]"


def test_other_message_types_are_described() -> None:
    texts = [event.text for event in _parse("inbound_other_types.json")]
    assert texts == [
        "[image] Is this the one?",
        "[location: Puerta del Sol; Plaza de la Puerta del Sol, Madrid; 40.4168, -3.7038]",
        "[document: invoice-1029.pdf]",
        "[voice message]",
        "[reaction 👍]",
        "[contact card: Luis Pérez]",
        "[sticker]",
    ]
    reaction = _parse("inbound_other_types.json")[4]
    assert reaction.in_reply_to == (WAMID,)


def test_every_entry_change_and_item_is_read() -> None:
    events = _parse("multiple_entries.json")
    summary = [(type(e).__name__, e.provider_message_id) for e in events]
    assert summary == [
        ("DeliveryUpdate", "wamid.A1"),
        ("DeliveryUpdate", "wamid.A2"),
        ("InboundMessage", "wamid.IN1"),
        ("DeliveryUpdate", "wamid.B1"),
    ]  # the template status change and the unknown "deleted" status are skipped
    assert events[1].status is DeliveryStatus.READ
    assert events[2].text == "STOP"
    failed = events[3]
    assert failed.failure is not None and failed.failure.code == "131049"
    assert failed.correlation_key is None
    assert failed.detail["phone_number_id"] == "106540352249999"


def test_errors_only_payload_yields_no_event_but_reports_the_error() -> None:
    raw = (FIXTURES / "errors_only.json").read_bytes()
    assert parse_webhook(raw) == []
    [error] = read_webhook(raw).errors
    assert error.code == "131042"
    assert "payment method" in (error.detail or "")


def test_failed_status_without_errors_still_fails() -> None:
    document = json.loads((FIXTURES / "status_failed.json").read_bytes())
    del document["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"]
    [event] = parse_webhook(json.dumps(document).encode())
    assert event.failure is not None and event.failure.code == "unknown"


def test_played_voice_status_counts_as_read() -> None:
    document = json.loads((FIXTURES / "status_read.json").read_bytes())
    document["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "played"
    [event] = parse_webhook(json.dumps(document).encode())
    assert event.status is DeliveryStatus.READ


STATUS = "entry[0].changes[0].value.statuses[0]"


def _broken(name: str, edit: Any) -> bytes:
    document = json.loads((FIXTURES / name).read_bytes())
    edit(document["entry"][0]["changes"][0]["value"])
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (b'{"object": "page", "entry": []}', "object"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}', "entry[0].changes"),
        (
            _broken("status_read.json", lambda v: v.pop("metadata")),
            "entry[0].changes[0].value.metadata",
        ),
        (_broken("status_read.json", lambda v: v["statuses"][0].pop("id")), f"{STATUS}.id"),
        (
            _broken("status_read.json", lambda v: v["statuses"][0].update(timestamp="soon")),
            f"{STATUS}.timestamp",
        ),
        (
            _broken("status_read.json", lambda v: v["statuses"][0].update(recipient_id="abc")),
            f"{STATUS}.recipient_id",
        ),
        (
            _broken("status_read.json", lambda v: v.update(statuses={})),
            "entry[0].changes[0].value.statuses",
        ),
        (
            _broken("inbound_text.json", lambda v: v["messages"][0].update(text={})),
            "entry[0].changes[0].value.messages[0].text.body",
        ),
        (
            _broken("inbound_text.json", lambda v: v["messages"][0].update({"from": "0034"})),
            "entry[0].changes[0].value.messages[0].from",
        ),
        (
            _broken("status_failed.json", lambda v: v["statuses"][0]["errors"][0].pop("code")),
            f"{STATUS}.errors[0].code",
        ),
    ],
)
def test_malformed_payloads_name_what_is_wrong(raw: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_webhook(raw)
    assert caught.value.field == field


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
KEYS = ["id", "status", "timestamp", "recipient_id", "errors", "from", "type", "text", "button"]


@given(
    key=st.sampled_from(KEYS),
    value=JSON_VALUES,
    fixture=st.sampled_from(["status_failed.json", "inbound_button.json"]),
)
def test_any_field_value_parses_or_is_refused_cleanly(key: str, value: Any, fixture: str) -> None:
    document = json.loads((FIXTURES / fixture).read_bytes())
    change = document["entry"][0]["changes"][0]["value"]
    item = (change.get("statuses") or change.get("messages"))[0]
    item[key] = value
    try:
        events = parse_webhook(json.dumps(document).encode())
    except ValidationError as exc:
        assert exc.field
    else:
        assert len(events) <= 1


@given(value=JSON_VALUES)
def test_any_json_document_parses_or_is_refused_cleanly(value: Any) -> None:
    try:
        parse_webhook(json.dumps(value).encode())
    except ValidationError as exc:
        assert exc.field

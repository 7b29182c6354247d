"""Provider events are stored once, whatever the retries and duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from herald.channels.base import DeliveryStatus, DeliveryUpdate, InboundMessage, ProviderFailure
from herald.channels.codec import event_from_json, event_to_json
from herald.domain.channels import IntegrationKind
from herald.services.webhooks import record_events
from herald.store.inbox import ProviderEventRow

AT = datetime(2025, 6, 3, 16, 10, tzinfo=UTC)
FAILED = DeliveryUpdate(
    provider=IntegrationKind.WHATSAPP,
    provider_message_id="wamid.A",
    status=DeliveryStatus.FAILED,
    occurred_at=AT,
    failure=ProviderFailure(IntegrationKind.WHATSAPP, "131026", "Message undeliverable"),
    correlation_key="j1s0",
)
REPLY = InboundMessage(
    provider=IntegrationKind.INFOBIP_SMS,
    provider_message_id="817790313235066447",
    sender="+34600111222",
    recipient="447860099299",
    text="STOP",
    received_at=AT,
    in_reply_to=("x", "y"),
)


def test_events_round_trip_through_json() -> None:
    for event in (FAILED, REPLY):
        assert event_from_json(event_to_json(event)) == event


def test_duplicates_are_stored_once_across_deliveries(engine: Engine) -> None:
    delivered = DeliveryUpdate(
        IntegrationKind.WHATSAPP, "wamid.A", DeliveryStatus.DELIVERED, AT, correlation_key="j1s0"
    )
    with Session(engine) as session:
        first = record_events(session, [FAILED, REPLY, FAILED], AT)
        again = record_events(session, [REPLY, delivered], AT)
        count = session.scalar(select(func.count()).select_from(ProviderEventRow))
        stored = session.scalars(select(ProviderEventRow).order_by(ProviderEventRow.id)).all()
    assert (first.new, first.duplicates) == (2, 1)
    assert (again.new, again.duplicates) == (1, 1)
    assert count == 3
    assert [row.kind for row in stored] == ["status", "inbound", "status"]
    assert event_from_json(stored[0].payload) == FAILED

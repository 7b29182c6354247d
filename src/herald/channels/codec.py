"""Channel events to JSON and back, for the inbox table and the logs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from herald.channels.base import (
    ChannelEvent,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    ProviderFailure,
)
from herald.domain.channels import IntegrationKind
from herald.errors import ValidationError


def event_kind(event: ChannelEvent) -> str:
    return "status" if isinstance(event, DeliveryUpdate) else "inbound"


def event_to_json(event: ChannelEvent) -> dict[str, Any]:
    data = asdict(event)
    for name in ("occurred_at", "received_at"):
        if name in data:
            data[name] = data[name].isoformat()
    if isinstance(event, InboundMessage):
        data["in_reply_to"] = list(event.in_reply_to)
    data["type"] = event_kind(event)
    return data


def event_from_json(data: dict[str, Any]) -> ChannelEvent:
    try:
        fields = {key: value for key, value in data.items() if key != "type"}
        fields["provider"] = IntegrationKind(fields["provider"])
        if data["type"] == "status":
            fields["status"] = DeliveryStatus(fields["status"])
            fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
            failure = fields.get("failure")
            if failure is not None:
                failure["provider"] = IntegrationKind(failure["provider"])
                fields["failure"] = ProviderFailure(**failure)
            return DeliveryUpdate(**fields)
        fields["received_at"] = datetime.fromisoformat(fields["received_at"])
        fields["in_reply_to"] = tuple(fields.get("in_reply_to", ()))
        return InboundMessage(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"stored provider event is damaged: {exc}") from exc

"""``/api/v1/webhooks``: subscribe URLs to Herald's events; see each delivery and attempt.

The response that creates a subscription holds its signing ``secret``, and
no other response does. See docs/api.md for the signature and a receiver
that checks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.outbound_webhooks import DeliveryStatus, WebhookEvent
from herald.services.outbound_webhooks import (
    URL_MAX_LENGTH,
    DeliveryView,
    OutboundWebhooks,
    Subscription,
)
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import Cursor, Limit, ResourceId, int_cursor, next_int_cursor
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=["webhooks"], route_class=IdempotentRoute)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=URL_MAX_LENGTH, examples=["https://crm.example.com/herald"])
    events: list[WebhookEvent] = Field(min_length=1, examples=[["contact.completed"]])
    description: str = Field(default="", max_length=200)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=URL_MAX_LENGTH)
    events: list[WebhookEvent] | None = Field(default=None, min_length=1)
    is_active: bool | None = None
    description: str | None = Field(default=None, max_length=200)


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[WebhookEvent]
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionOut:
        return cls.model_validate(subscription, from_attributes=True)


class CreatedSubscriptionOut(SubscriptionOut):
    secret: str = Field(
        description="Signs every delivery. Shown only in this response: store it now."
    )


class SubscriptionListOut(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = Field(default=None, description="Always null: one page.")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none.")
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="Sent as `Herald-Webhook-Id`; the same on every retry.")
    event_type: WebhookEvent
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The JSON body delivered.")

    @classmethod
    def of(cls, delivery: DeliveryView) -> DeliveryOut:
        return cls.model_validate(delivery, from_attributes=True)


class DeliveryDetailOut(DeliveryOut):
    history: list[AttemptOut] = Field(description="Every attempt, oldest first.")


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


def _service(herald: HeraldDep) -> OutboundWebhooks:
    return OutboundWebhooks(herald.box, herald.clock)


@router.get("", response_model=SubscriptionListOut)
def list_subscriptions(herald: HeraldDep, db: SessionDep) -> SubscriptionListOut:
    items = _service(herald).list(db)
    return SubscriptionListOut(items=[SubscriptionOut.of(item) for item in items])


@router.post("", response_model=CreatedSubscriptionOut, status_code=201)
def subscribe(
    body: SubscriptionIn, herald: HeraldDep, db: SessionDep, _who: RequireWrite, actor: CurrentActor
) -> CreatedSubscriptionOut:
    """Deliver the chosen events to ``url`` from now on, signed with the returned secret."""
    created = _service(herald).create(
        db, url=body.url, events=body.events, description=body.description
    )
    out = SubscriptionOut.of(created.subscription)
    details = {"url": out.url, "events": [event.value for event in out.events]}
    audit(herald, db, actor, "webhook.subscribed", ("webhook", out.id), details)
    return CreatedSubscriptionOut(**out.model_dump(), secret=created.secret)


@router.get("/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(
    subscription_id: ResourceId, herald: HeraldDep, db: SessionDep
) -> SubscriptionOut:
    return SubscriptionOut.of(_service(herald).get(db, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut)
def update_subscription(
    subscription_id: ResourceId,
    body: SubscriptionPatch,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> SubscriptionOut:
    """Change what is given; an inactive subscription keeps its deliveries waiting."""
    updated = _service(herald).update(
        db,
        subscription_id,
        url=body.url,
        events=body.events,
        is_active=body.is_active,
        description=body.description,
    )
    changed = sorted(body.model_fields_set)
    audit(herald, db, actor, "webhook.updated", ("webhook", subscription_id), {"fields": changed})
    return SubscriptionOut.of(updated)


@router.delete("/{subscription_id}", status_code=204)
def unsubscribe(
    subscription_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> Response:
    _service(herald).delete(db, subscription_id)
    audit(herald, db, actor, "webhook.deleted", ("webhook", subscription_id))
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryPageOut)
def list_deliveries(
    subscription_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    status: DeliveryStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPageOut:
    """Deliveries newest first, with their status and last answer."""
    rows = _service(herald).deliveries(
        db, subscription_id, status=status, before_id=int_cursor(cursor), limit=limit + 1
    )
    last = rows[limit - 1].id if len(rows) > limit else None
    return DeliveryPageOut(
        items=[DeliveryOut.of(row) for row in rows[:limit]],
        next_cursor=next_int_cursor(rows, limit, last),
    )


@router.get("/{subscription_id}/deliveries/{delivery_id}", response_model=DeliveryDetailOut)
def get_delivery(
    subscription_id: ResourceId, delivery_id: ResourceId, herald: HeraldDep, db: SessionDep
) -> DeliveryDetailOut:
    delivery = _service(herald).delivery(db, subscription_id, delivery_id)
    return DeliveryDetailOut.model_validate(delivery, from_attributes=True)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryDetailOut
)
def redeliver(
    subscription_id: ResourceId,
    delivery_id: ResourceId,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> DeliveryDetailOut:
    """Send a delivered or failed delivery again, now, with a fresh series of retries."""
    delivery = _service(herald).redeliver(db, subscription_id, delivery_id)
    target = ("webhook", subscription_id)
    audit(herald, db, actor, "webhook.redelivered", target, {"delivery_id": delivery_id})
    return DeliveryDetailOut.model_validate(delivery, from_attributes=True)

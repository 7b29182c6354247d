"""Outbound webhook subscriptions: subscribe a URL to events, see every delivery attempt.

The signing secret is made by Herald, stored encrypted, and shown once,
when the subscription is created (like an API key's token); rotating it
means a new subscription. Delivery itself is the webhook worker's
(:mod:`herald.engine.webhook_delivery`).
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.clock import Clock
from herald.domain.outbound_webhooks import DeliveryStatus, WebhookEvent
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.store.encryption import SecretBox
from herald.store.outbound_webhooks import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
URL_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    description: str
    events: tuple[WebhookEvent, ...]
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: Subscription
    secret: str  # shown once


@dataclass(frozen=True)
class AttemptView:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class DeliveryView:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, object]
    history: tuple[AttemptView, ...] = ()


class OutboundWebhooks:
    def __init__(self, box: SecretBox, clock: Clock) -> None:
        self._box = box
        self._clock = clock

    def create(
        self, session: Session, *, url: str, events: Sequence[WebhookEvent], description: str = ""
    ) -> CreatedSubscription:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        row = WebhookSubscriptionRow(
            url=checked_url(url),
            description=description.strip(),
            events=_checked_events(events),
            encrypted_secret=self._box.encrypt(secret),
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.commit()
        return CreatedSubscription(_view(row), secret)

    def update(
        self,
        session: Session,
        subscription_id: int,
        *,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        is_active: bool | None = None,
        description: str | None = None,
    ) -> Subscription:
        row = _row(session, subscription_id)
        if url is not None:
            row.url = checked_url(url)
        if events is not None:
            row.events = _checked_events(events)
        if is_active is not None:
            row.is_active = is_active
        if description is not None:
            row.description = description.strip()
        row.updated_at = self._clock.now()
        session.commit()
        return _view(row)

    def delete(self, session: Session, subscription_id: int) -> None:
        """Remove the subscription with its queued deliveries and their history."""
        session.delete(_row(session, subscription_id))
        session.commit()

    def get(self, session: Session, subscription_id: int) -> Subscription:
        return _view(_row(session, subscription_id))

    def list(self, session: Session) -> builtins.list[Subscription]:
        rows = session.scalars(select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.id))
        return [_view(row) for row in rows]

    def deliveries(
        self,
        session: Session,
        subscription_id: int,
        *,
        status: DeliveryStatus | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> builtins.list[DeliveryView]:
        """Newest first, ``limit`` at most (ask for one more to know of a next page)."""
        _row(session, subscription_id)
        query = (
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.subscription_id == subscription_id)
            .order_by(WebhookDeliveryRow.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookDeliveryRow.status == status.value)
        if before_id is not None:
            query = query.where(WebhookDeliveryRow.id < before_id)
        return [_delivery(row) for row in session.scalars(query)]

    def redeliver(self, session: Session, subscription_id: int, delivery_id: int) -> DeliveryView:
        """Send a delivery again now, with a fresh series of attempts (its history is kept).

        Refused while it is still pending: it is due or already being retried.
        """
        row = self._delivery_row(session, subscription_id, delivery_id)
        if row.status == DeliveryStatus.PENDING.value:
            raise ConflictError(
                f"delivery {delivery_id} is still pending; it will be attempted again by itself",
                code="delivery_pending",
            )
        row.status, row.attempts = DeliveryStatus.PENDING.value, 0
        row.next_attempt_at, row.delivered_at = self._clock.now(), None
        session.commit()
        return self.delivery(session, subscription_id, delivery_id)

    def delivery(self, session: Session, subscription_id: int, delivery_id: int) -> DeliveryView:
        """One delivery with every attempt, oldest first."""
        row = self._delivery_row(session, subscription_id, delivery_id)
        attempts = session.scalars(
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.delivery_id == delivery_id)
            .order_by(WebhookAttemptRow.id)
        )
        history = tuple(AttemptView(a.at, a.status_code, a.error, a.duration_ms) for a in attempts)
        return _delivery(row, history)

    def _delivery_row(
        self, session: Session, subscription_id: int, delivery_id: int
    ) -> WebhookDeliveryRow:
        row = session.get(WebhookDeliveryRow, delivery_id)
        if row is None or row.subscription_id != subscription_id:
            raise NotFoundError(
                f"subscription {subscription_id} has no delivery {delivery_id}",
                field="delivery_id",
            )
        return row


def checked_url(url: str) -> str:
    """An absolute http(s) URL without credentials in it."""
    url = url.strip()
    parts = urlsplit(url)
    if (
        len(url) > URL_MAX_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
    ):
        raise ValidationError(
            "url must be an absolute http:// or https:// URL without a user name or password",
            code="invalid_url",
            field="url",
        )
    return url


def _checked_events(events: Sequence[WebhookEvent]) -> list[str]:
    if not events:
        raise ValidationError("subscribe to at least one event", field="events")
    return sorted({WebhookEvent(event).value for event in events})


def _row(session: Session, subscription_id: int) -> WebhookSubscriptionRow:
    row = session.get(WebhookSubscriptionRow, subscription_id)
    if row is None:
        raise NotFoundError(
            f"webhook subscription {subscription_id} does not exist", field="subscription_id"
        )
    return row


def _view(row: WebhookSubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        description=row.description,
        events=tuple(WebhookEvent(event) for event in row.events),
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery(row: WebhookDeliveryRow, history: tuple[AttemptView, ...] = ()) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        payload=dict(row.payload),
        history=history,
    )

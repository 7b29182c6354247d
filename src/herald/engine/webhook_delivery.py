"""The outbound webhook worker: produce events, then deliver due ones, signed.

One pass: queue new events (:mod:`.webhook_outbox`), claim up to
``batch_size`` due deliveries, POST them concurrently, record each attempt.
A delivery is claimed by moving its ``next_attempt_at`` past
:data:`LEASE_SECONDS`; if the process dies mid-send it comes due again
then, so a receiver may see a delivery twice (the ``Herald-Webhook-Id``
header stays the same: deduplicate on it). A 2xx answer delivers; anything
else (other status, timeout, refused connection) is retried with
exponential backoff (:func:`~herald.domain.outbound_webhooks.retry_delay_seconds`)
until it is given up as failed. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from herald.clock import Clock
from herald.domain.outbound_webhooks import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryStatus,
    is_success,
    retry_delay_seconds,
    signature,
)
from herald.engine.webhook_outbox import produce_events
from herald.engine.worker import Worker
from herald.store.encryption import SecretBox
from herald.store.outbound_webhooks import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)

LEASE_SECONDS = 120
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Herald-Webhooks/1"


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    event_id: str
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookWorker(Worker):
    name = "webhooks"
    idle_seconds = 1.0

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        box: SecretBox,
        http: aiohttp.ClientSession,
        batch_size: int = 50,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = box
        self._http = http
        self._batch_size = batch_size

    async def run_once(self) -> int:
        produced = await asyncio.to_thread(self._produce)
        claimed = await asyncio.to_thread(self._claim)
        attempts = await asyncio.gather(*(self._post(item) for item in claimed))
        await asyncio.to_thread(self._record, attempts)
        return produced + len(claimed)

    def _produce(self) -> int:
        with self._sessions() as session:
            return produce_events(session, self._clock.now())

    def _claim(self) -> list[Claimed]:
        now = self._clock.now()
        with self._sessions() as session:
            query = (
                select(WebhookDeliveryRow, WebhookSubscriptionRow)
                .join(WebhookSubscriptionRow)
                .where(
                    WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                    WebhookDeliveryRow.next_attempt_at <= now,
                    WebhookSubscriptionRow.is_active.is_(True),
                )
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True, of=WebhookDeliveryRow)
            )
            claimed = []
            for delivery, subscription in session.execute(query).all():
                delivery.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
                body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
                claimed.append(
                    Claimed(
                        delivery.id,
                        delivery.event_id,
                        subscription.url,
                        self._box.decrypt(subscription.encrypted_secret),
                        body.encode(),
                    )
                )
            session.commit()
        return claimed

    async def _post(self, item: Claimed) -> Attempt:
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            ID_HEADER: item.event_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(item.secret, timestamp, item.body),
        }
        started = time.monotonic()
        status_code, error = None, None
        try:
            async with self._http.post(
                item.url,
                data=item.body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            ) as response:
                status_code = response.status
                if not is_success(status_code):
                    error = f"HTTP {status_code}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        elapsed = int((time.monotonic() - started) * 1000)
        return Attempt(item.delivery_id, status_code, error, elapsed)

    def _record(self, attempts: list[Attempt]) -> None:
        if not attempts:
            return
        now = self._clock.now()
        with self._sessions() as session:
            for attempt in attempts:
                delivery = session.get(WebhookDeliveryRow, attempt.delivery_id)
                if delivery is None:  # its subscription was deleted meanwhile
                    continue
                session.add(
                    WebhookAttemptRow(
                        delivery_id=attempt.delivery_id,
                        at=now,
                        status_code=attempt.status_code,
                        error=attempt.error,
                        duration_ms=attempt.duration_ms,
                    )
                )
                _settle(delivery, attempt, now)
            session.commit()


def _settle(delivery: WebhookDeliveryRow, attempt: Attempt, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    if attempt.error is None:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at, delivery.next_attempt_at = now, None
        return
    delay = retry_delay_seconds(delivery.attempts)
    if delay is None:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED.value, None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)

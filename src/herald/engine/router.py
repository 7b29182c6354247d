"""The event router: which journey (and step) each provider event belongs to.

Statuses carry Herald's correlation key (or at least the provider's message
id, which the message rows hold). Inbound messages are matched by the message
they answer (WhatsApp context, email In-Reply-To/References) or else by the
sender's address, and among several campaigns that messaged the address the
one whose message reached the person most recently wins
(:func:`herald.domain.campaign_progress.choose_reply_campaign`).

Routing a batch is one transaction: mark the events routed, wake their
journeys (``due_at = now``). An injected hook sees each inbound message in
that transaction (opt-out keywords, conversations) and says whether it is
an opt-out, which the journey worker then applies. Another sees the statuses
that belong to no journey (replies sent from conversations) and says which
it recognised.

Lock order: journeys are woken before the inbound hook runs, because the
hook writes conversations and every transaction that touches both touches
the journey first (see :mod:`herald.store.conversations`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from herald.channels.base import DeliveryUpdate, InboundMessage
from herald.channels.codec import event_from_json
from herald.clock import Clock
from herald.domain.campaign_progress import ReplyCandidate, choose_reply_campaign
from herald.domain.ids import CampaignId
from herald.engine.journey_store import wake_journeys
from herald.engine.keys import parse_message_key
from herald.engine.worker import Worker
from herald.store.database import urgent_writes
from herald.store.inbox import ProviderEventRow
from herald.store.journeys import JOURNEYS, MESSAGES

EVENTS = ProviderEventRow.metadata.tables[ProviderEventRow.__tablename__]
ROUTE_BATCH = 500


@dataclass(frozen=True)
class InboundRoute:
    """Where an inbound message went; ``journey_id`` is None for unknown senders."""

    journey_id: int | None
    campaign_id: int | None


# Returns True when the message is an opt-out the journey must apply.
InboundHook = Callable[[Session, InboundMessage, InboundRoute], bool]
# Returns the provider message ids of the statuses it recognised.
StatusHook = Callable[[Session, Sequence[DeliveryUpdate]], set[str]]


@dataclass
class _Routed:
    event_id: int
    journey_id: int | None
    step: int | None
    route: str


class EventRouter(Worker):
    name = "router"
    idle_seconds = 0.1

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        on_inbound: InboundHook | None = None,
        on_unmatched_statuses: StatusHook | None = None,
        batch_size: int = ROUTE_BATCH,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._on_inbound = on_inbound
        self._on_unmatched_statuses = on_unmatched_statuses
        self._batch_size = batch_size

    async def run_once(self) -> int:
        return await asyncio.to_thread(self.route_batch)

    def route_batch(self) -> int:
        with urgent_writes(), self._sessions() as session, session.begin():
            session.connection()  # take the locks first, then read the time
            now = self._clock.now()
            rows = session.execute(
                select(EVENTS.c.id, EVENTS.c.payload)
                .where(EVENTS.c.routed_at.is_(None))
                .order_by(EVENTS.c.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            events = [(row.id, event_from_json(row.payload)) for row in rows]
            statuses = self._route_statuses(session, events)
            matched = [
                (eid, event, _match_inbound(session, event))
                for eid, event in events
                if isinstance(event, InboundMessage)
            ]
            woken = {r.journey_id for r in statuses} | {m[2].journey_id for m in matched}
            _wake(session, woken, now)
            inbound = [self._route_inbound(session, *match) for match in matched]
            _save_routes(session, statuses + inbound, now)
            return len(rows)

    def _route_statuses(
        self, session: Session, events: Sequence[tuple[int, object]]
    ) -> list[_Routed]:
        statuses = [(eid, e) for eid, e in events if isinstance(e, DeliveryUpdate)]
        by_key = {eid: parse_message_key(e.correlation_key) for eid, e in statuses}
        unkeyed = [e.provider_message_id for eid, e in statuses if by_key[eid] is None]
        by_provider_id = _messages_by_provider_id(session, unkeyed)
        known = _existing_journeys(session, {k[0] for k in by_key.values() if k})
        routed = []
        unmatched = []
        for eid, event in statuses:
            target = by_key[eid] or by_provider_id.get(event.provider_message_id)
            if target is None or target[0] not in known:
                unmatched.append((eid, event))
            else:
                routed.append(_Routed(eid, target[0], target[1], "status"))
        recognised: set[str] = set()
        if unmatched and self._on_unmatched_statuses is not None:
            recognised = self._on_unmatched_statuses(session, [event for _, event in unmatched])
        for eid, event in unmatched:
            kind = "conversation" if event.provider_message_id in recognised else "unmatched"
            routed.append(_Routed(eid, None, None, kind))
        return routed

    def _route_inbound(
        self, session: Session, eid: int, event: InboundMessage, route: InboundRoute
    ) -> _Routed:
        is_opt_out = False
        if self._on_inbound is not None:
            is_opt_out = self._on_inbound(session, event, route)
        kind = "opt_out" if is_opt_out else "reply"
        if route.journey_id is None:
            kind = "unmatched_" + kind
        return _Routed(eid, route.journey_id, None, kind)


def _messages_by_provider_id(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    if not ids:
        return {}
    query = select(MESSAGES.c.provider_message_id, MESSAGES.c.journey_id, MESSAGES.c.step).where(
        MESSAGES.c.provider_message_id.in_(set(ids))
    )
    return {row.provider_message_id: (row.journey_id, row.step) for row in session.execute(query)}


def _existing_journeys(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(JOURNEYS.c.id).where(JOURNEYS.c.id.in_(ids))))


def _match_inbound(session: Session, event: InboundMessage) -> InboundRoute:
    for reference in event.in_reply_to:
        key = parse_message_key(reference)
        if key is not None:
            return _route_to(session, key[0])
    if event.in_reply_to:
        answered = _messages_by_provider_id(session, list(event.in_reply_to))
        if answered:
            return _route_to(session, next(iter(answered.values()))[0])
    return _match_by_address(session, event.sender)


def _route_to(session: Session, journey_id: int) -> InboundRoute:
    campaign_id = session.scalar(select(JOURNEYS.c.campaign_id).where(JOURNEYS.c.id == journey_id))
    if campaign_id is None:
        return InboundRoute(None, None)
    return InboundRoute(journey_id, campaign_id)


def _match_by_address(session: Session, sender: str) -> InboundRoute:
    column = JOURNEYS.c.email_key if "@" in sender else JOURNEYS.c.phone
    rows = session.execute(
        select(
            JOURNEYS.c.id,
            JOURNEYS.c.campaign_id,
            JOURNEYS.c.last_sent_at,
            JOURNEYS.c.last_delivered_at,
        ).where(column == (sender.lower() if "@" in sender else sender))
    ).all()
    journeys_by_campaign: dict[int, int] = {}
    # A reply can arrive before the worker has written its send's answer: the
    # recorded intent (the message row) is then the evidence of contact.
    intents = _latest_intents(session, [row.id for row in rows if row.last_sent_at is None])
    candidates = []
    for row in rows:
        journeys_by_campaign[row.campaign_id] = row.id
        sent_at = row.last_sent_at or intents.get(row.id)
        candidates.append(
            ReplyCandidate(CampaignId(row.campaign_id), row.last_delivered_at, sent_at)
        )
    chosen = choose_reply_campaign(candidates)
    if chosen is None:
        return InboundRoute(None, None)
    return InboundRoute(journeys_by_campaign[chosen], chosen)


def _latest_intents(session: Session, journey_ids: list[int]) -> dict[int, datetime]:
    if not journey_ids:
        return {}
    query = (
        select(MESSAGES.c.journey_id, func.max(MESSAGES.c.created_at))
        .where(MESSAGES.c.journey_id.in_(journey_ids))
        .group_by(MESSAGES.c.journey_id)
    )
    return {journey_id: at for journey_id, at in session.execute(query) if at is not None}


def _save_routes(session: Session, routed: list[_Routed], now: datetime) -> None:
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("b_id"))
        .values(
            routed_at=now,
            journey_id=bindparam("v_journey"),
            step=bindparam("v_step"),
            route=bindparam("v_route"),
            # Events that belong to no journey have nothing left to do.
            processed_at=bindparam("v_processed"),
        ),
        [
            {
                "b_id": r.event_id,
                "v_journey": r.journey_id,
                "v_step": r.step,
                "v_route": r.route,
                "v_processed": now if r.journey_id is None else None,
            }
            for r in routed
        ],
    )


def _wake(session: Session, journey_ids: set[int | None], now: datetime) -> None:
    """Make journeys due now so the journey worker applies their events (in id
    order, always locking them: see :func:`~herald.engine.journey_store.wake_journeys`)."""
    wake_journeys(session, [jid for jid in journey_ids if jid is not None], now)

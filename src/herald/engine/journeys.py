"""The journey worker: claim due journeys in batches, move them, send, repeat.

A batch goes through stages, each one database transaction:

1. claim up to ``batch_size`` due journeys; feed each its events (unanswered
   intents from a crashed worker, routed provider events, campaign pause /
   resume / cancel, its due timer) through the state machine; record every
   Send as an intent; commit;
2. send the intents concurrently within rate limits (no transaction open);
3. feed the answers back; a terminal rejection may lead straight to the next
   fallback, whose intent is recorded in the same commit; repeat 2–3 until
   nothing is left to send; the last commit releases the journeys.

Because intents are committed before any provider call and a claimed journey
is leased, a crash at any point leaves either no call or a recorded intent
that the next worker turns into "outcome unknown" — never a second call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from herald.channels.base import (
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    SendAccepted,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
)
from herald.clock import Clock
from herald.domain.campaign import CampaignStatus
from herald.domain.channels import Channel
from herald.domain.journey_events import (
    Cancel,
    Delivered,
    DeliveryWindowExpired,
    Failed,
    FollowUpDue,
    JourneyEvent,
    Launch,
    OptOut,
    Pause,
    Read,
    Reply,
    Resume,
    RetryDue,
    SendOutcomeUnknown,
    SendRejectedRetryable,
)
from herald.domain.journey_state import Phase, TimerKind
from herald.engine import integration_health
from herald.engine import journey_store as store
from herald.engine.batch import (
    BatchEffects,
    ClaimedJourney,
    PendingSend,
    RecordedSend,
    RoutedReply,
)
from herald.engine.completion import complete_finished_campaigns
from herald.engine.dispatch import Dispatcher, SendOutcome
from herald.engine.keys import message_key
from herald.engine.results import result_effects
from herald.engine.runtime import CampaignRuntime, CampaignRuntimes, campaign_statuses
from herald.engine.worker import Worker
from herald.store.suppression import find_suppressed

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
DEFAULT_LEASE = timedelta(minutes=5)
PAUSE_POLL_SECONDS = 0.5

ReplyHook = Callable[[Session, Sequence[RoutedReply]], None]
# Sees every first attempt recorded in a batch, inside the batch's transaction
# (conversations open there), after the journeys' own rows are written.
SendHook = Callable[[Session, Sequence[RecordedSend]], None]
# Routes of inbound messages the journey applies as an opt-out, not a reply:
# a STOP keyword (the router) and an agent's opt-out action (the reply worker).
OPT_OUT_ROUTES = frozenset({"opt_out", "agent_opt_out"})


@dataclass
class Stage:
    journeys: list[ClaimedJourney]
    runtimes: dict[int, CampaignRuntime]
    suppressed: dict[Channel, set[str]]
    sends: list[PendingSend]


class JourneyWorker(Worker):
    name = "journeys"
    idle_seconds = 0.2

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        dispatcher: Dispatcher,
        owner: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lease: timedelta = DEFAULT_LEASE,
        on_replies: ReplyHook | None = None,
        on_sends: SendHook | None = None,
        name: str = "journeys",
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._clock = clock
        self._dispatcher = dispatcher
        self._owner = owner
        self._batch_size = batch_size
        self._lease = lease
        self._on_replies = on_replies
        self._on_sends = on_sends
        self._runtimes = CampaignRuntimes()
        self._held_campaigns: set[int] = set()
        self._is_stopping = False

    def request_stop(self) -> None:
        """Start no send that has not started yet: the rest of the batch is handed
        back (retried by any worker after a short backoff), never left pending."""
        self._is_stopping = True

    async def run_once(self) -> int:
        stage = await asyncio.to_thread(self._begin)
        if stage is None:
            return 0
        size = len(stage.journeys)
        while stage.sends:
            outcomes, held = await self._dispatch(stage)
            stage = await asyncio.to_thread(self._continue, stage, outcomes, held)
        return size

    # -- stage 1 ------------------------------------------------------------

    def _begin(self) -> Stage | None:
        with self._sessions() as session, session.begin():
            now = _now_in(session, self._clock)
            journeys = store.claim_journeys(
                session, self._owner, now, self._lease, self._batch_size
            )
            if not journeys:
                return None
            campaign_ids = {journey.campaign_id for journey in journeys}
            runtimes = self._runtimes.get_many(session, campaign_ids)
            statuses = campaign_statuses(session, campaign_ids)
            effects = BatchEffects(now, runtimes, _suppressed(session, journeys, runtimes))
            ids = [journey.id for journey in journeys]
            intents = store.find_pending_intents(session, ids)
            events = store.load_routed_events(session, ids)
            by_id = {journey.id: journey for journey in journeys}
            for intent in intents:
                _recover_intent(effects, by_id[intent.journey_id], intent)
            for event in events:
                _apply_provider_event(effects, by_id[event.journey_id], event)
            for journey in journeys:
                _apply_control(effects, journey, statuses[journey.campaign_id])
                _apply_due_timer(effects, journey)
            return self._commit(session, journeys, effects, [e.id for e in events])

    # -- stages 2 and 3 -----------------------------------------------------

    async def _dispatch(self, stage: Stage) -> tuple[list[SendOutcome], list[PendingSend]]:
        campaign_ids = {send.campaign_id for send in stage.sends}
        self._held_campaigns = set()
        watcher = asyncio.create_task(self._watch_pauses(campaign_ids))
        try:
            return await self._dispatcher.send_all(
                stage.sends, is_held=lambda cid: self._is_stopping or cid in self._held_campaigns
            )
        finally:
            watcher.cancel()

    async def _watch_pauses(self, campaign_ids: set[int]) -> None:
        """Pause stops new sends within a second, even in the middle of a batch."""
        while True:
            await asyncio.sleep(PAUSE_POLL_SECONDS)
            statuses = await asyncio.to_thread(self._statuses, campaign_ids)
            self._held_campaigns = {
                cid for cid, status in statuses.items() if status is not CampaignStatus.RUNNING
            }

    def _statuses(self, campaign_ids: set[int]) -> dict[int, CampaignStatus]:
        with self._sessions() as session:
            return campaign_statuses(session, campaign_ids)

    def _continue(
        self, stage: Stage, outcomes: list[SendOutcome], held: list[PendingSend]
    ) -> Stage:
        with self._sessions() as session, session.begin():
            effects = BatchEffects(_now_in(session, self._clock), stage.runtimes, stage.suppressed)
            by_id = {journey.id: journey for journey in stage.journeys}
            for send, result in outcomes:
                _apply_send_result(effects, by_id[send.journey_id], send, result)
            for send in held:
                _give_back(effects, by_id[send.journey_id], send, stopping=self._is_stopping)
            next_stage = self._commit(session, stage.journeys, effects, [])
            # Last in the transaction, so its row lock is held only until the commit.
            rounds = integration_health.summarise(
                (send.integration_id, result) for send, result in outcomes
            )
            integration_health.record_round(session, dict(sorted(rounds.items())), effects.now)
            return next_stage

    def _commit(
        self,
        session: Session,
        journeys: list[ClaimedJourney],
        effects: BatchEffects,
        processed_event_ids: list[int],
    ) -> Stage:
        sends = effects.take_sends()
        release = not sends
        write = store.BatchWrite(
            journeys=journeys,
            new_messages=effects.new_messages,
            retried_messages=effects.retried_messages,
            message_results=effects.message_results,
            log=effects.log,
            processed_event_ids=processed_event_ids,
        )
        store.write_batch(session, write, self._owner, effects.now, release=release)
        if effects.recorded_sends and self._on_sends is not None:
            self._on_sends(session, effects.recorded_sends)
        if effects.replies and self._on_replies is not None:
            self._on_replies(session, effects.replies)
        store.write_counters(session, dict(effects.counters))
        if effects.completed_campaigns:
            complete_finished_campaigns(session, effects.completed_campaigns, effects.now)
        return Stage(journeys, effects.runtimes, effects.suppressed, sends)


def _now_in(session: Session, clock: Clock) -> datetime:
    """The time, read once the transaction holds its locks.

    On SQLite the transaction may wait for the write lock; a time read before
    that wait would be stale by the time anything is written.
    """
    session.connection()
    return clock.now()


def _suppressed(
    session: Session, journeys: list[ClaimedJourney], runtimes: dict[int, CampaignRuntime]
) -> dict[Channel, set[str]]:
    """Which of the batch's addresses are suppressed, per channel the batch may use."""
    channels = {step.channel for runtime in runtimes.values() for step in runtime.steps}
    phones = [j.phone for j in journeys if j.phone]
    emails = [j.email.lower() for j in journeys if j.email]
    found: dict[Channel, set[str]] = {}
    for channel in channels:
        addresses = emails if channel is Channel.EMAIL else phones
        found[channel] = find_suppressed(session, addresses, channel) if addresses else set()
    return found


def _recover_intent(
    effects: BatchEffects, journey: ClaimedJourney, intent: store.PendingIntent
) -> None:
    """A send intent nobody answered: the worker that made it died mid-call."""
    effects.message_results.append(
        {
            "key": intent.key,
            "status": "unknown",
            "status_at": effects.now,
            "from_statuses": ["pending"],
        }
    )
    effects.record(journey, "unknown", step=intent.step, detail="worker stopped during the send")
    journey.last_sent_at = effects.now
    effects.apply(journey, SendOutcomeUnknown(intent.step, intent.attempt))


def _apply_provider_event(
    effects: BatchEffects, journey: ClaimedJourney, routed: store.RoutedEvent
) -> None:
    event = store.decode_event(routed)
    if isinstance(event, InboundMessage):
        if routed.route in OPT_OUT_ROUTES:
            effects.record(journey, routed.route, detail=event.text[:500])
            effects.apply(journey, OptOut())
        else:
            effects.record(journey, "reply", detail=event.text[:500])
            effects.apply(journey, Reply(event.text))
        return
    assert isinstance(event, DeliveryUpdate)
    if routed.step is None:
        return
    journey_event = _status_event(event, routed.step)
    code = event.failure.code if event.failure else None
    effects.record(
        journey,
        event.status.value,
        step=routed.step,
        provider_message_id=event.provider_message_id,
        error_code=code,
        detail=event.failure.title if event.failure else None,
    )
    if event.failure is not None:
        effects.counters[(journey.campaign_id, f"error:{event.provider.value}:{code}")] += 1
    effects.message_results.append(_message_status(journey, routed.step, event, effects))
    if journey_event is not None:
        effects.apply(journey, journey_event)


def _status_event(event: DeliveryUpdate, step: int) -> JourneyEvent | None:
    match event.status:
        case DeliveryStatus.DELIVERED:
            return Delivered(step)
        case DeliveryStatus.READ:
            return Read(step)
        case DeliveryStatus.FAILED:
            return Failed(step, event.failure.code if event.failure else "failed")
        case DeliveryStatus.SENT:
            return None


def _message_status(
    journey: ClaimedJourney, step: int, event: DeliveryUpdate, effects: BatchEffects
) -> dict[str, object]:
    row: dict[str, object] = {"key": message_key(journey.id, step), "status_at": effects.now}
    if event.status is DeliveryStatus.FAILED:
        row |= {
            "status": "failed",
            "error_code": event.failure.code if event.failure else None,
            "error_title": event.failure.title if event.failure else None,
            "error_detail": event.failure.detail if event.failure else None,
            "from_statuses": ["pending", "accepted", "unknown", "sent"],
        }
    elif event.status is DeliveryStatus.SENT:
        row |= {"status": "sent", "from_statuses": ["pending", "accepted", "unknown"]}
    else:
        row |= {
            "status": event.status.value,
            "from_statuses": ["pending", "accepted", "unknown", "sent", "delivered", "expired"],
        }
    return row


def _apply_control(effects: BatchEffects, journey: ClaimedJourney, status: CampaignStatus) -> None:
    state = journey.state
    if state.is_done:
        return
    match status:
        case CampaignStatus.CANCELLED:
            effects.apply(journey, Cancel())
        case CampaignStatus.PAUSED if not state.is_paused:
            effects.apply(journey, Pause())
        case CampaignStatus.RUNNING if state.is_paused:
            effects.apply(journey, Resume())
    if journey.state.phase is Phase.PENDING and status is CampaignStatus.RUNNING:
        effects.record(journey, "launched")
        effects.apply(journey, Launch())


def _apply_due_timer(effects: BatchEffects, journey: ClaimedJourney) -> None:
    timer = journey.state.timer
    if timer is None or timer.due_at > effects.now:
        return
    match timer.kind:
        case TimerKind.RETRY:
            effects.apply(journey, RetryDue(timer.step))
        case TimerKind.DELIVERY_WINDOW:
            effects.record(journey, "window_expired", step=timer.step)
            effects.apply(journey, DeliveryWindowExpired(timer.step))
        case TimerKind.FOLLOW_UP:
            effects.apply(journey, FollowUpDue())


def _apply_send_result(
    effects: BatchEffects, journey: ClaimedJourney, send: PendingSend, result: SendResult
) -> None:
    event, message, log = result_effects(send, result, effects.now)
    effects.message_results.append(message)
    effects.record(journey, **log)
    if isinstance(result, SendAccepted | SendUnknown):
        journey.last_sent_at = effects.now
        effects.counters[(journey.campaign_id, f"sent:{send.channel}")] += 1
    if isinstance(result, SendRetryable | SendTerminal):
        provider = result.failure.provider.value
        effects.counters[(journey.campaign_id, f"error:{provider}:{result.failure.code}")] += 1
    effects.apply(journey, event)


def _give_back(
    effects: BatchEffects, journey: ClaimedJourney, send: PendingSend, *, stopping: bool
) -> None:
    """A send not started (its campaign was paused, or the worker is stopping):
    nothing left Herald, so the step is retried later like a throttled send."""
    effects.message_results.append(
        {
            "key": message_key(journey.id, send.step),
            "status": "retry_wait",
            "status_at": effects.now,
            "from_statuses": ["pending"],
        }
    )
    detail = "worker stopping before sending" if stopping else "campaign paused before sending"
    effects.record(journey, "held", step=send.step, detail=detail)
    effects.apply(
        journey,
        SendRejectedRetryable(
            send.step, send.attempt, "stopping" if stopping else "paused", is_throttle=True
        ),
    )

"""Group commit for provider events: many webhooks, one transaction.

Providers deliver statuses in bursts, one HTTP request each. Committing each
alone makes the database's commit rate the ceiling of webhook intake (on
SQLite, every commit also waits for the single write lock). Here the first
request to arrive becomes the leader: it waits a moment for others to join,
writes everything pending in one transaction, then hands every request its
own result. No request is answered before its events are committed, so
nothing a provider was told "200" about can be lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from herald.channels.base import ChannelEvent
from herald.clock import Clock
from herald.services.webhooks import IngestResult, event_rows
from herald.store.inbox import insert_new_events

LINGER_SECONDS = 0.003
MAX_BATCH_REQUESTS = 500


@dataclass
class _Ticket:
    events: Sequence[ChannelEvent]
    done: threading.Event = field(default_factory=threading.Event)
    result: IngestResult | None = None
    error: BaseException | None = None


class GroupCommitRecorder:
    """Thread-safe: call :meth:`record` from any number of request threads."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[_Ticket] = []
        self._is_flushing = False
        self.batches = 0  # commits made, for tests and metrics

    def record(self, events: Sequence[ChannelEvent]) -> IngestResult:
        """Store events not seen before; return once they are committed."""
        ticket = _Ticket(events)
        with self._lock:
            self._pending.append(ticket)
            is_leader = not self._is_flushing
            self._is_flushing = True
        if is_leader:
            time.sleep(LINGER_SECONDS)
            self._lead()
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch = self._pending[:MAX_BATCH_REQUESTS]
                del self._pending[:MAX_BATCH_REQUESTS]
                if not batch:
                    self._is_flushing = False
                    return
            self._flush(batch)

    def _flush(self, batch: list[_Ticket]) -> None:
        try:
            with self._sessions() as session, session.begin():
                session.connection()  # the write lock first, then the time
                rows = event_rows([e for t in batch for e in t.events], self._clock.now())
                inserted = set(insert_new_events(session, rows))
            self.batches += 1
        except BaseException as exc:  # every waiting request learns of the failure
            for ticket in batch:
                ticket.error = exc
                ticket.done.set()
            if not isinstance(exc, Exception):
                raise
            return
        for ticket in batch:
            keys = {event.dedupe_key for event in ticket.events}
            new = keys & inserted
            inserted -= new  # an event in two requests counts as new once
            ticket.result = IngestResult(new=len(new), duplicates=len(ticket.events) - len(new))
            ticket.done.set()

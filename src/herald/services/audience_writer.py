"""Streams an upload's outcomes into the store in bulk batches."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Engine

from herald.domain.audience.email_address import email_key
from herald.domain.audience.pipeline import RowOutcome, RowStatus
from herald.domain.audience.problems import Problem
from herald.domain.ids import AudienceId
from herald.store import audiences as store

FLUSH_ROWS = 5000


class FlatJson:
    """JSON for flat objects of strings that all have the same keys, in order.

    Custom values are such objects, one per contact. Assembled from keys
    encoded once, the text is the same as ``json.dumps(values,
    ensure_ascii=False, separators=(",", ":"))`` at a fraction of the cost.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [encode_basestring(key) + ":" for key in keys]

    def encode(self, values: dict[str, str]) -> str:
        encoded = map(encode_basestring, values.values())
        return "{" + ",".join(map(operator.add, self._keys, encoded)) + "}"


class AudienceWriter:
    """Buffers contacts, excluded rows and problems; writes them every ``FLUSH_ROWS``,
    each batch in a transaction of its own, from a background thread.

    Memory is bounded by two buffers (one filling, one being written), whatever
    the size of the upload. No transaction lasts longer than one batch: on
    SQLite, other writers (the engine, webhooks) wait for the write lock only
    that long. The database works (SQLite's steps, PostgreSQL's network
    round trips) while the reading thread goes on with the next rows.

    Use as a context manager: leaving it waits for the last write, and a write
    that failed raises there (or at the next flush).
    """

    def __init__(self, engine: Engine, audience_id: AudienceId, variables: Sequence[str]) -> None:
        self._engine = engine
        self._audience_id = audience_id
        self._values_json = FlatJson(variables).encode
        self._contacts: list[tuple[Any, ...]] = []
        self._excluded: list[tuple[Any, ...]] = []
        self._problems: list[tuple[Any, ...]] = []
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audience-writer")
        self._writing: Future[None] | None = None

    def __enter__(self) -> AudienceWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self._wait()
            elif self._writing is not None:
                # Already failing: let the write finish, but keep the first error.
                wait([self._writing])
        finally:
            self._thread.shutdown(wait=True)

    def add_problems(self, problems: Iterable[Problem]) -> None:
        audience = self._audience_id
        self._problems.extend(
            (audience, p.row, p.column, str(p.code), str(p.severity), p.message) for p in problems
        )

    def add(self, outcome: RowOutcome) -> None:
        if outcome.status is RowStatus.ADDED:
            email = outcome.email
            self._contacts.append(
                (
                    self._audience_id,
                    outcome.row,
                    outcome.phone,
                    email,
                    None if email is None else email_key(email),
                    self._values_json(outcome.values),
                    outcome.original,
                )
            )
        else:
            self._excluded.append(
                (
                    self._audience_id,
                    outcome.row,
                    str(outcome.status),
                    outcome.duplicate_of,
                    outcome.original,
                )
            )
        if outcome.problems:
            self.add_problems(outcome.problems)
        if len(self._contacts) + len(self._excluded) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writing thread (after its previous batch)."""
        self._wait()
        batch = (self._contacts, self._excluded, self._problems)
        self._contacts, self._excluded, self._problems = [], [], []
        self._writing = self._thread.submit(self._write, *batch)

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _write(
        self,
        contacts: list[tuple[Any, ...]],
        excluded: list[tuple[Any, ...]],
        problems: list[tuple[Any, ...]],
    ) -> None:
        with self._engine.begin() as connection:
            store.add_contacts(connection, contacts)
            store.add_excluded_rows(connection, excluded)
            store.add_problems(connection, problems)

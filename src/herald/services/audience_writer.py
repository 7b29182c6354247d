"""Streams an upload's outcomes into the store in bulk batches."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
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
    each batch in a transaction of its own.

    Memory is bounded by the buffer, whatever the size of the upload, and no
    transaction lasts longer than one batch: on SQLite, other writers (the
    engine, webhooks) wait for the write lock only that long.
    """

    def __init__(self, engine: Engine, audience_id: AudienceId, variables: Sequence[str]) -> None:
        self._engine = engine
        self._audience_id = audience_id
        self._values_json = FlatJson(variables).encode
        self._contacts: list[tuple[Any, ...]] = []
        self._excluded: list[tuple[Any, ...]] = []
        self._problems: list[tuple[Any, ...]] = []

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
        with self._engine.begin() as connection:
            store.add_contacts(connection, self._contacts)
            store.add_excluded_rows(connection, self._excluded)
            store.add_problems(connection, self._problems)
        self._contacts.clear()
        self._excluded.clear()
        self._problems.clear()

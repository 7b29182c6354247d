"""Streams an upload's settled batches into the store in bulk writes."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import Engine

from herald.domain.audience.pipeline import SettledBatch
from herald.domain.audience.problems import Problem
from herald.services.audience_preparation import (
    DUPLICATE,
    PreparedRows,
    RowTarget,
    StoredForm,
    stored_form,
)
from herald.store import audiences as store
from herald.store.audience_rows import excluded_row, problem_row

FLUSH_ROWS = 5000


class AudienceWriter:
    """Buffers contacts, excluded rows and problems; writes them every ``FLUSH_ROWS``
    records, each write in a transaction of its own, from a background thread.

    Rows arrive ready to store (see :mod:`herald.services.audience_preparation`);
    here a batch's duplicates leave its contacts and join its excluded rows,
    and each table's rows keep the file's order.

    Memory is bounded by two buffers (one filling, one being written), whatever
    the size of the upload. No transaction lasts longer than one write: on
    SQLite, other writers (the engine, webhooks) wait for the write lock only
    that long. The database works (SQLite's steps, PostgreSQL's network
    round trips) while the reading thread goes on with the next rows.

    Use as a context manager: leaving it waits for the last write, and a write
    that failed raises there (or at the next flush).
    """

    def __init__(self, engine: Engine, target: RowTarget) -> None:
        self._engine = engine
        self._target = target
        self._form = stored_form(target)
        # Rows of the target's one form: all tuples, or all COPY lines.
        self._contacts: list[Any] = []
        self._excluded: list[Any] = []
        self._problems: list[Any] = []
        self._records = 0
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
        """Problems of the file as a whole (header, encoding), in order."""
        audience, form = self._target.audience_id, self._form
        self._problems.extend(form(problem_row(audience, problem)) for problem in problems)

    def add(self, settled: SettledBatch[PreparedRows]) -> None:
        contacts, excluded, problems = batch_rows(settled, self._target)
        self._contacts.extend(contacts)
        self._excluded.extend(excluded)
        self._problems.extend(problems)
        self._records += len(settled.prepared.contacts)
        if self._records >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writing thread (after its previous write)."""
        self._wait()
        batch = (self._contacts, self._excluded, self._problems)
        self._contacts, self._excluded, self._problems = [], [], []
        self._records = 0
        self._writing = self._thread.submit(self._write, *batch)

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _write(self, contacts: list[Any], excluded: list[Any], problems: list[Any]) -> None:
        with self._engine.begin() as connection:
            if self._target.as_copy_text:
                store.copy_upload_lines(connection, contacts, excluded, problems)
            else:
                store.add_contacts(connection, contacts)
                store.add_excluded_rows(connection, excluded)
                store.add_problems(connection, problems)


def batch_rows(
    settled: SettledBatch[PreparedRows], target: RowTarget
) -> tuple[list[StoredForm], list[StoredForm], list[StoredForm]]:
    """A settled batch's contacts, excluded rows and problems, each in file order.

    The workers prepared every record that was not rejected as a contact;
    duplicates, known only now, leave the contacts for the excluded rows, and
    their duplicate problem follows the record's own problems. The batch's lists
    are reused for that (a settled batch is written once).
    """
    contacts, rejected, problems = settled.prepared
    audience, form = target.audience_id, stored_form(target)
    excluded = dict(rejected)
    for duplicate in settled.duplicates:
        position = duplicate.position
        contacts[position] = None
        excluded[position] = form(
            excluded_row(
                audience, duplicate.row, DUPLICATE, duplicate.duplicate_of, duplicate.original
            )
        )
        problems.setdefault(position, []).append(form(problem_row(audience, duplicate.problem)))
    ordered_problems = [row for position in sorted(problems) for row in problems[position]]
    return (
        list(filter(None, contacts)),
        [excluded[position] for position in sorted(excluded)],
        ordered_problems,
    )

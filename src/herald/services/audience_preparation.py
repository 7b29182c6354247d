"""Validation plus storage form for one batch of an import, in a worker process.

The process that reads an upload is an import's bottleneck: every row
passes through it in order. So :func:`prepare_batch`, run where the batch
is validated, also builds every row the way it is stored (a tuple, or a
``COPY`` text line on PostgreSQL; see :mod:`herald.store.audience_rows`):
each record as a contact, rejected records as excluded rows, and every
problem. The reading process then only finds duplicates (which needs every
earlier row), turns those few records into excluded rows, and hands the
rest to the database as they are.

Imports stay light (no SQLAlchemy): each worker process loads this module.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import NamedTuple

from herald.domain.audience.batches import Batch, BatchVerdicts
from herald.domain.audience.email_address import email_key
from herald.domain.audience.validation import ValidationPlan, VerdictCollector, checked_records
from herald.store.audience_rows import (
    StoredRow,
    contact_row,
    copy_line,
    excluded_row,
    problem_row,
)

REJECTED = "rejected"
DUPLICATE = "duplicate"

StoredForm = StoredRow | str
"""A row as a tuple (``executemany``) or a ``COPY`` text line (PostgreSQL)."""


class FlatJson:
    """JSON for flat objects of strings that all have the same keys, in order.

    Custom values are such objects, one per contact. Assembled from keys
    encoded once, the text is the same as ``json.dumps(values,
    ensure_ascii=False, separators=(",", ":"))`` at a fraction of the cost.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [encode_basestring(key) + ":" for key in keys]

    def encode_values(self, values: Iterable[str]) -> str:
        """The object of these values under the keys, in order."""
        encoded = map(encode_basestring, values)
        return "{" + ",".join(map(operator.add, self._keys, encoded)) + "}"


@dataclass(frozen=True)
class RowTarget:
    """Where a batch's rows go: the audience, and the form its database takes."""

    audience_id: int
    as_copy_text: bool


class PreparedRows(NamedTuple):
    """A batch's rows in stored form, by position in the batch.

    ``contacts[position]`` is the record as a contact, ``None`` when rejected
    (a duplicate's entry is dropped once duplicates are known);
    ``rejected`` holds the excluded row of each rejected record; ``problems``
    the problem rows of each record that has any, in the order found.
    """

    contacts: list[StoredForm | None]
    rejected: dict[int, StoredForm]
    problems: dict[int, list[StoredForm]]


def stored_form(target: RowTarget) -> Callable[[StoredRow], StoredForm]:
    return copy_line if target.as_copy_text else _as_is


def _as_is(row: StoredRow) -> StoredForm:
    return row


def prepare_batch(
    plan: ValidationPlan, target: RowTarget, batch: Batch
) -> tuple[BatchVerdicts, PreparedRows]:
    """The batch's verdicts (as :func:`~herald.domain.audience.validation.validate_batch`
    gives them) and its rows ready to store."""
    mapping = plan.mapping
    audience = target.audience_id
    form = stored_form(target)
    values_json = FlatJson(mapping.variables).encode_values
    custom = mapping.custom_indexes
    collector = VerdictCollector(mapping)
    originals = batch.original_texts()
    contacts: list[StoredForm | None] = []
    rejected: dict[int, StoredForm] = {}
    problems: dict[int, list[StoredForm]] = {}
    for position, (fields, verdict) in enumerate(checked_records(plan, batch)):
        collector.add(fields, verdict)
        if verdict.problems:
            problems[position] = [form(problem_row(audience, p)) for p in verdict.problems]
        row, original = verdict.row, originals[position]
        if verdict.rejected:
            contacts.append(None)
            rejected[position] = form(excluded_row(audience, row, REJECTED, None, original))
            continue
        email = verdict.email
        key = None if email is None else email_key(email)
        values = values_json([fields[index] for index in custom])
        contacts.append(
            form(contact_row(audience, row, verdict.phone, email, key, values, original))
        )
    return collector.verdicts(), PreparedRows(contacts, rejected, problems)

"""Suppression use cases: opt out, opt back in, check before sending, browse.

Every function takes the caller's ``Session`` and leaves committing to it, so
an opt-out can be recorded in the same transaction as the inbound message
that caused it. Policy (scopes, who may lift what) lives in
:mod:`herald.domain.suppression`; CSV import and export in
:mod:`herald.services.suppression_csv`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from herald.clock import Clock
from herald.domain.channels import Channel
from herald.domain.suppression import (
    CONTACT_LIFTABLE_REASONS,
    SuppressionReason,
    SuppressionScope,
    can_opt_in,
    canonical_address,
    normalize_address,
    scopes_checked,
)
from herald.errors import ValidationError
from herald.store import suppression as table
from herald.store.suppression import EntryFilter, Executor, NewSuppression

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Suppression:
    id: int
    address: str
    scope: SuppressionScope
    reason: SuppressionReason
    channel: Channel | None
    source_campaign_id: int | None
    detail: str | None
    created_at: datetime


@dataclass(frozen=True)
class SuppressResult:
    """The entry now in force; ``created`` is False when one already existed."""

    entry: Suppression
    created: bool


@dataclass(frozen=True)
class SuppressionPage:
    items: tuple[Suppression, ...]
    next_after_id: int | None  # pass back as ``after_id``; None on the last page


def to_suppression(row: Row[Any]) -> Suppression:
    return Suppression(
        id=row.id,
        address=row.address,
        scope=SuppressionScope(row.scope),
        reason=SuppressionReason(row.reason),
        channel=Channel(row.channel) if row.channel else None,
        source_campaign_id=row.source_campaign_id,
        detail=row.detail,
        created_at=row.created_at,
    )


def suppress(
    session: Executor,
    address: str,
    *,
    reason: SuppressionReason,
    clock: Clock,
    scope: SuppressionScope = SuppressionScope.ALL,
    channel: Channel | None = None,
    source_campaign_id: int | None = None,
    detail: str | None = None,
    default_region: str = "US",
) -> SuppressResult:
    """Put ``address`` on the suppression list; idempotent.

    A second opt-out of the same address and scope keeps the first entry
    (its reason and time are the evidence that matters). ``channel`` records
    where it happened; ``scope`` where it applies (everywhere by default).
    """
    canonical = normalize_address(address, default_region=default_region)
    entry = NewSuppression(
        address=canonical,
        scope=scope,
        reason=reason,
        created_at=clock.now(),
        channel=channel,
        source_campaign_id=source_campaign_id,
        detail=detail,
    )
    created = bool(table.insert_new(session, [entry]))
    row = table.find_entry(session, canonical, [scope.value])
    assert row is not None  # just inserted, or the conflicting row exists
    return SuppressResult(to_suppression(row), created)


def opt_in(session: Executor, address: str, channel: Channel, *, default_region: str = "US") -> int:
    """Lift the contact's own opt-outs after START/UNSTOP on ``channel``.

    Only channels whose convention offers opt-in qualify, and only entries the
    contact caused are lifted (see :mod:`herald.domain.suppression`). Returns
    how many entries were removed (0 when nothing applied).
    """
    if not can_opt_in(channel):
        raise ValidationError(
            f"contacts cannot opt back in on {channel.value}; an operator must "
            "remove the suppression",
            code="opt_in_not_allowed",
            field="channel",
        )
    return table.delete_entries(
        session,
        normalize_address(address, default_region=default_region),
        scopes=[scope.value for scope in scopes_checked(channel)],
        reasons=[reason.value for reason in CONTACT_LIFTABLE_REASONS],
    )


def unsuppress(
    session: Executor,
    address: str,
    *,
    scope: SuppressionScope | None = None,
    default_region: str = "US",
) -> int:
    """An operator removes entries of ``address`` (every scope, or one), any reason."""
    return table.delete_entries(
        session,
        normalize_address(address, default_region=default_region),
        scopes=None if scope is None else [scope.value],
    )


def is_suppressed(session: Executor, address: str, channel: Channel) -> bool:
    """Whether ``address`` (canonical) must not be messaged on ``channel``."""
    canonical = canonical_address(address)
    return bool(table.find_suppressed(session, [canonical], channel))


def find_suppressed(session: Executor, addresses: Iterable[str], channel: Channel) -> set[str]:
    """The suppressed subset of a batch of canonical addresses, as given.

    Set-based: the engine calls this at send time for a whole claimed batch.
    Returned strings are the input strings (so they can be looked up in the
    caller's own map) for every address whose canonical form is suppressed.
    """
    by_canonical: dict[str, list[str]] = {}
    for address in addresses:
        by_canonical.setdefault(canonical_address(address), []).append(address)
    hits = table.find_suppressed(session, by_canonical, channel)
    return {original for canonical in hits for original in by_canonical[canonical]}


def list_suppressions(
    session: Executor,
    *,
    scope: SuppressionScope | None = None,
    reason: SuppressionReason | None = None,
    search: str | None = None,
    after_id: int | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> SuppressionPage:
    """A page of entries in creation order, filtered; ``search`` matches inside addresses."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    where = EntryFilter(scope=scope, reason=reason, address_contains=search)
    rows = table.page_entries(session, where, after_id=after_id, limit=limit + 1)
    items = tuple(to_suppression(row) for row in rows[:limit])
    next_after_id = items[-1].id if len(rows) > limit else None
    return SuppressionPage(items, next_after_id)

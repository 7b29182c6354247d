"""``/api/v1/suppression``: addresses Herald must not message; list, add, remove.

Every campaign checks this list before each send. Addresses are stored in
canonical form (E.164 phones, lower-cased emails), so ``+1 (202) 555-0101``
and ``+12025550101`` are one entry. Adding an address that is already on the
list for that scope keeps the first entry (``200`` instead of ``201``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.channels import Channel
from herald.domain.suppression import SuppressionReason, SuppressionScope
from herald.services.suppression import (
    MAX_PAGE_SIZE,
    Suppression,
    list_suppressions,
    suppress,
    unsuppress,
)
from herald.web.api import API_PREFIX
from herald.web.api.auditing import audit
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import int_cursor
from herald.web.auth import CurrentActor, RequireWrite
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/suppression", tags=["suppression"], route_class=IdempotentRoute
)


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=3, max_length=320, examples=["+12025550101"])
    scope: SuppressionScope = Field(
        default=SuppressionScope.ALL, description="Where it applies: `all` or one channel."
    )
    detail: str | None = Field(default=None, max_length=500, examples=["asked by phone"])


class SuppressionOut(BaseModel):
    id: int
    address: str
    scope: SuppressionScope
    reason: SuppressionReason
    channel: Channel | None = Field(description="Where the opt-out happened, when known.")
    source_campaign_id: int | None
    detail: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: Suppression) -> SuppressionOut:
        return cls.model_validate(entry, from_attributes=True)


class SuppressionPageOut(BaseModel):
    items: list[SuppressionOut]
    next_cursor: str | None


class RemovedOut(BaseModel):
    removed: int = Field(description="Entries deleted (0 when the address was not listed).")


@router.get("", response_model=SuppressionPageOut)
def list_entries(
    db: SessionDep,
    scope: SuppressionScope | None = None,
    reason: SuppressionReason | None = None,
    q: Annotated[str | None, Query(max_length=320, description="Text inside addresses.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> SuppressionPageOut:
    """Entries in the order they were added."""
    page = list_suppressions(
        db, scope=scope, reason=reason, search=q, after_id=int_cursor(cursor), limit=limit
    )
    next_cursor = None if page.next_after_id is None else str(page.next_after_id)
    return SuppressionPageOut(
        items=[SuppressionOut.of(entry) for entry in page.items], next_cursor=next_cursor
    )


@router.post(
    "",
    response_model=SuppressionOut,
    status_code=201,
    responses={200: {"model": SuppressionOut, "description": "Already listed; kept as it was."}},
)
def add_entry(
    body: SuppressionIn,
    response: Response,
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
) -> SuppressionOut:
    result = suppress(
        db,
        body.address,
        reason=SuppressionReason.MANUAL,
        clock=herald.clock,
        scope=body.scope,
        detail=body.detail,
        default_region=herald.settings.default_region,
    )
    db.commit()
    if not result.created:
        response.status_code = 200
    else:
        target = ("suppression", result.entry.id)
        audit(herald, db, actor, "suppression.added", target, {"scope": body.scope.value})
    return SuppressionOut.of(result.entry)


@router.delete("", response_model=RemovedOut)
def remove_entries(
    herald: HeraldDep,
    db: SessionDep,
    _who: RequireWrite,
    actor: CurrentActor,
    address: Annotated[str, Query(min_length=3, max_length=320)],
    scope: SuppressionScope | None = None,
) -> RemovedOut:
    """Remove an address (from every scope, or one); any reason, opt-outs included."""
    removed = unsuppress(db, address, scope=scope, default_region=herald.settings.default_region)
    db.commit()
    if removed:
        details = {"scope": scope.value if scope else "all scopes", "entries": removed}
        audit(herald, db, actor, "suppression.removed", None, details)
    return RemovedOut(removed=removed)

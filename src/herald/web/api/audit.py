"""``/api/v1/audit``: the audit log, newest first, for admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from herald.domain.audit import ActorKind
from herald.services.audit import AuditEntry, list_audit
from herald.store.audit import AuditFilter
from herald.web.api import API_PREFIX
from herald.web.api.paging import IdQuery
from herald.web.auth import require_admin
from herald.web.deps import SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/audit", tags=["audit"], dependencies=[Depends(require_admin)]
)


class ActorOut(BaseModel):
    kind: ActorKind
    id: int | None
    label: str | None
    client_ip: str | None


class TargetOut(BaseModel):
    type: str
    id: str


class AuditEntryOut(BaseModel):
    id: int
    occurred_at: datetime
    actor: ActorOut
    action: str
    target: TargetOut | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        actor = entry.actor
        return cls(
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor=ActorOut(
                kind=actor.kind, id=actor.id, label=actor.label, client_ip=actor.client_ip
            ),
            action=entry.action,
            target=TargetOut(type=entry.target.type, id=entry.target.id) if entry.target else None,
            details=entry.details,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: int | None = Field(description="Pass as `before` for the next (older) page.")


@router.get("", response_model=AuditPageOut)
def list_entries(
    db: SessionDep,
    before: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_kind: ActorKind | None = None,
    actor_id: IdQuery = None,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPageOut:
    where = AuditFilter(
        action=action,
        actor_kind=actor_kind.value if actor_kind else None,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
    )
    page = list_audit(db, where, before_id=before, limit=limit)
    return AuditPageOut(
        items=[AuditEntryOut.of(entry) for entry in page.items], next_cursor=page.next_cursor
    )

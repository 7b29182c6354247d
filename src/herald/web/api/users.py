"""``/api/v1/users``: user management, for admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from herald.domain.users import NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, Role
from herald.services.users import UserView
from herald.web.api import API_PREFIX
from herald.web.api.idempotency import IdempotentRoute
from herald.web.api.paging import MAX_ID, ResourceId
from herald.web.auth import CurrentActor, require_admin
from herald.web.deps import HeraldDep, SessionDep

router = APIRouter(
    prefix=f"{API_PREFIX}/users",
    tags=["users"],
    dependencies=[Depends(require_admin)],
    route_class=IdempotentRoute,
)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, examples=["ana@example.com"])
    name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    role: Role = Role.MEMBER


class UserPatch(BaseModel):
    """Only the fields given change. A new ``password`` ends the user's sessions."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, max_length=PASSWORD_MAX_LENGTH)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: UserView) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: int | None = Field(description="Pass as `after` for the next page.")


@router.get("", response_model=UserPageOut)
def list_users(
    herald: HeraldDep,
    db: SessionDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UserPageOut:
    page = herald.users.list_users(db, after_id=after, limit=limit)
    return UserPageOut(items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, herald: HeraldDep, db: SessionDep, actor: CurrentActor) -> UserOut:
    user = herald.users.create_user(
        db, email=body.email, password=body.password, name=body.name, role=body.role, actor=actor
    )
    return UserOut.of(user)


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: ResourceId, herald: HeraldDep, db: SessionDep) -> UserOut:
    return UserOut.of(herald.users.get_user(db, user_id))


@router.patch("/{user_id}", response_model=UserOut)
def update_user(
    user_id: ResourceId, body: UserPatch, herald: HeraldDep, db: SessionDep, actor: CurrentActor
) -> UserOut:
    user = herald.users.update_user(
        db,
        user_id,
        actor=actor,
        name=body.name,
        role=body.role,
        is_active=body.is_active,
        password=body.password,
    )
    return UserOut.of(user)

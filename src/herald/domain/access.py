"""Who is making a request, and what that lets them do.

A request is made by a :class:`Principal`: a signed-in user or an API key.
The rules are few and live here so every surface applies the same ones:

========  =================  ===================  ======================
who       read               change (write)       manage users and keys
========  =================  ===================  ======================
member    yes                yes                  no
admin     yes                yes                  yes
key read  yes                no                   no
key write yes                yes                  no
key admin yes                yes                  yes
========  =================  ===================  ======================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from herald.domain.api_keys import ApiKeyScope
from herald.domain.users import Role


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    ``id`` is the user's id or the key's id, depending on ``kind``; ``label``
    is the user's email or the key's name (for audit entries and pages).
    """

    kind: PrincipalKind
    id: int
    label: str
    name: str
    role: Role | None = None
    scope: ApiKeyScope | None = None

    @classmethod
    def for_user(cls, user_id: int, email: str, name: str, role: Role) -> Principal:
        return cls(PrincipalKind.USER, user_id, email, name, role=role)

    @classmethod
    def for_api_key(cls, key_id: int, name: str, scope: ApiKeyScope) -> Principal:
        return cls(PrincipalKind.API_KEY, key_id, name, name, scope=scope)

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.USER

    @property
    def can_write(self) -> bool:
        return self.is_user or self.scope in (ApiKeyScope.WRITE, ApiKeyScope.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN or self.scope is ApiKeyScope.ADMIN


@dataclass(frozen=True)
class SessionPolicy:
    """A browser session ends ``max_age`` after login, or after ``idle`` without requests."""

    max_age: timedelta
    idle: timedelta

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.max_age < self.idle:
            raise ValueError("session idle time must be positive and at most the maximum age")


# How stale a session's "last seen" may grow before the cookie is re-issued:
# refreshing on every request would set a cookie on every response for no gain.
SESSION_REFRESH_INTERVAL = timedelta(minutes=1)


def session_expired(
    issued_at: datetime, last_seen_at: datetime, now: datetime, policy: SessionPolicy
) -> bool:
    """Expired by age or idleness; a session "issued in the future" is not trusted either."""
    if issued_at > now + SESSION_REFRESH_INTERVAL:
        return True
    return now - issued_at >= policy.max_age or now - last_seen_at >= policy.idle


def session_needs_refresh(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= SESSION_REFRESH_INTERVAL

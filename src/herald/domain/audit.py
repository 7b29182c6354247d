"""Audit entries: who did what to which thing, with details that never hold secrets.

An entry names its actor (a user, an API key, the command line or Herald
itself), an action in ``area.verb`` form (``user.created``,
``campaign.launched``), optionally a target (``user`` 7), the client IP and
a small JSON object of details. Details pass through :func:`redact_details`
so a caller that hands over a whole input object cannot store a password by
accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from herald.domain.access import Principal, PrincipalKind
from herald.errors import ValidationError

REDACTED = "[redacted]"
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# Key names that mean "a secret"; matched as whole words within the key.
_SECRET_WORDS = re.compile(
    r"(^|[_\-.])(password|passwd|secret|token|api_key|apikey|authorization|cookie|"
    r"credential|credentials|private_key|hash)($|[_\-.])",
    re.IGNORECASE,
)
LABEL_MAX_LENGTH = 254


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    CLI = "cli"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


class AuthAction(StrEnum):
    """The actions recorded by authentication and user management."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout.succeeded"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105
    USER_DEACTIVATED = "user.deactivated"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    label: str | None = None
    client_ip: str | None = None

    @classmethod
    def from_principal(cls, principal: Principal, client_ip: str | None = None) -> Actor:
        kind = ActorKind.USER if principal.kind is PrincipalKind.USER else ActorKind.API_KEY
        return cls(kind, principal.id, principal.label, client_ip)

    @classmethod
    def user(cls, user_id: int, email: str, client_ip: str | None = None) -> Actor:
        return cls(ActorKind.USER, user_id, email, client_ip)

    @classmethod
    def cli(cls, operator: str | None = None) -> Actor:
        return cls(ActorKind.CLI, label=operator)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, label="herald")

    @classmethod
    def anonymous(cls, client_ip: str | None = None, label: str | None = None) -> Actor:
        return cls(ActorKind.ANONYMOUS, label=label, client_ip=client_ip)


@dataclass(frozen=True)
class AuditTarget:
    type: str
    id: str

    @classmethod
    def of(cls, target_type: str, target_id: int | str) -> AuditTarget:
        return cls(target_type, str(target_id))


def check_action(action: str) -> str:
    if not ACTION_PATTERN.fullmatch(action):
        raise ValidationError(
            f"audit action {action!r} must read like 'area.verb' in lower case", field="action"
        )
    return action


def redact_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of ``details`` with the value of every secret-looking key replaced."""
    if not details:
        return {}
    return {key: _redact(key, value) for key, value in details.items()}


def _redact(key: str, value: Any) -> Any:
    # Flags such as ``password_changed: true`` say that something happened,
    # not what the secret is, so booleans and nulls stay readable.
    if _SECRET_WORDS.search(str(key)) and value is not None and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact("", item) for item in value]
    return value

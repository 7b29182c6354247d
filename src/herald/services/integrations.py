"""Use cases for integrations: create, update, activate, test, read safely.

Secrets never leave this module in clear except inside the validated
settings object handed to a channel client; every view of an integration
shows them masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pydantic
from pydantic import BaseModel, SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from herald.channels.base import ConnectionCheck
from herald.channels.registry import ProviderRegistry, ProviderSpec
from herald.clock import Clock
from herald.domain.channels import CHANNEL_OF_KIND, Channel, IntegrationKind
from herald.domain.ids import IntegrationId
from herald.engine.clients import ClientEntry
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.store.encryption import SecretBox
from herald.store.integrations import IntegrationRow

MASK = "********"


@dataclass(frozen=True)
class IntegrationView:
    """What users see of an integration: secrets replaced by a mask."""

    id: IntegrationId
    name: str
    kind: IntegrationKind
    channel: Channel
    settings: dict[str, Any]
    is_active: bool
    rate_limit_per_second: float
    health: str
    health_reason: str | None
    health_checked_at: datetime | None


@dataclass(frozen=True)
class IntegrationServices:
    registry: ProviderRegistry
    box: SecretBox
    clock: Clock

    def create(
        self,
        session: Session,
        *,
        name: str,
        kind: IntegrationKind | str,
        settings: dict[str, Any],
        is_active: bool = True,
        rate_limit_per_second: float | None = None,
    ) -> IntegrationView:
        spec = self.registry.get(_kind(kind))
        name = _clean_name(name)
        if session.scalar(select(IntegrationRow.id).where(IntegrationRow.name == name)):
            raise ConflictError(f"an integration named {name!r} already exists", field="name")
        validated = _validate(spec, settings)
        now = self.clock.now()
        row = IntegrationRow(
            name=name,
            kind=spec.kind.value,
            is_active=is_active,
            rate_limit_per_second=_rate(
                rate_limit_per_second, spec, getattr(validated, "rate_limit_per_second", None)
            ),
            health="unknown",
            created_at=now,
            updated_at=now,
        )
        self._store_settings(row, spec, validated)
        session.add(row)
        session.commit()
        return self._view(row)

    def update(
        self,
        session: Session,
        integration_id: IntegrationId,
        *,
        settings: dict[str, Any] | None = None,
        is_active: bool | None = None,
        rate_limit_per_second: float | None = None,
    ) -> IntegrationView:
        """Change settings; secret fields left out or given as the mask keep their value."""
        row = _get_row(session, integration_id)
        spec = self.registry.get(IntegrationKind(row.kind))
        if settings is not None:
            merged = self._plain_settings(row, spec) | {
                key: value for key, value in settings.items() if value != MASK
            }
            self._store_settings(row, spec, _validate(spec, merged))
            row.health, row.health_reason = "unknown", None
        if is_active is not None:
            row.is_active = is_active
        if rate_limit_per_second is not None:
            row.rate_limit_per_second = _rate(rate_limit_per_second, spec)
        row.updated_at = self.clock.now()
        session.commit()
        return self._view(row)

    def get(self, session: Session, integration_id: IntegrationId) -> IntegrationView:
        return self._view(_get_row(session, integration_id))

    def find_by_name(self, session: Session, name: str) -> IntegrationView | None:
        row = session.scalar(select(IntegrationRow).where(IntegrationRow.name == name))
        return None if row is None else self._view(row)

    def list(self, session: Session, *, active_only: bool = False) -> list[IntegrationView]:
        query = select(IntegrationRow).order_by(IntegrationRow.name)
        if active_only:
            query = query.where(IntegrationRow.is_active.is_(True))
        return [self._view(row) for row in session.scalars(query)]

    def provider_settings(self, session: Session, integration_id: IntegrationId) -> BaseModel:
        """The validated settings with secrets in clear, for building a client."""
        row = _get_row(session, integration_id)
        spec = self.registry.get(IntegrationKind(row.kind))
        return _validate(spec, self._plain_settings(row, spec))

    async def test_connection(
        self, settings: BaseModel, kind: IntegrationKind, session: aiohttp.ClientSession
    ) -> ConnectionCheck:
        client = self.registry.get(kind).create_client(settings, session)
        return await client.check_connection()

    def record_health(
        self, session: Session, integration_id: IntegrationId, check: ConnectionCheck
    ) -> IntegrationView:
        row = _get_row(session, integration_id)
        row.health = "healthy" if check.connected else "unhealthy"
        row.health_reason = check.reason
        row.health_checked_at = self.clock.now()
        session.commit()
        return self._view(row)

    def _store_settings(self, row: IntegrationRow, spec: ProviderSpec, model: BaseModel) -> None:
        secret_names = spec.secret_fields()
        plain = model.model_dump(mode="json", exclude=set(secret_names))
        secrets = {
            name: value.get_secret_value()
            for name in secret_names
            if isinstance(value := getattr(model, name), SecretStr)
        }
        row.settings = plain
        row.encrypted_secrets = self.box.encrypt(json.dumps(secrets)) if secrets else None

    def _plain_settings(self, row: IntegrationRow, spec: ProviderSpec) -> dict[str, Any]:
        secrets: dict[str, Any] = {}
        if row.encrypted_secrets:
            secrets = json.loads(self.box.decrypt(row.encrypted_secrets))
        return dict(row.settings) | secrets

    def _view(self, row: IntegrationRow) -> IntegrationView:
        kind = IntegrationKind(row.kind)
        spec = self.registry.get(kind)
        has_secrets: set[str] = set()
        if row.encrypted_secrets:
            has_secrets = set(json.loads(self.box.decrypt(row.encrypted_secrets)))
        masked = {name: MASK for name in spec.secret_fields() if name in has_secrets}
        return IntegrationView(
            id=IntegrationId(row.id),
            name=row.name,
            kind=kind,
            channel=CHANNEL_OF_KIND[kind],
            settings=dict(row.settings) | masked,
            is_active=row.is_active,
            rate_limit_per_second=row.rate_limit_per_second,
            health=row.health,
            health_reason=row.health_reason,
            health_checked_at=row.health_checked_at,
        )


def _kind(kind: IntegrationKind | str) -> IntegrationKind:
    try:
        return IntegrationKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IntegrationKind)
        raise ValidationError(
            f"unknown integration kind {kind!r}; use one of {known}", field="kind"
        ) from None


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError("an integration needs a name of 1 to 120 characters", field="name")
    return name


def _rate(rate: float | None, spec: ProviderSpec, from_settings: float | None = None) -> float:
    """The explicit rate, else the one in the provider settings, else the provider default."""
    if rate is None:
        return float(from_settings) if from_settings else spec.default_rate_per_second
    if not 0 < rate <= 10_000:
        raise ValidationError(
            "rate limit must be between 0 and 10000 messages per second",
            field="rate_limit_per_second",
        )
    return float(rate)


def _validate(spec: ProviderSpec, settings: dict[str, Any]) -> BaseModel:
    try:
        return spec.settings_model.model_validate(settings)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ValidationError(
            f"{spec.kind} settings: {where}: {first['msg']}", field=where
        ) from exc


def _get_row(session: Session, integration_id: IntegrationId) -> IntegrationRow:
    row = session.get(IntegrationRow, integration_id)
    if row is None:
        raise NotFoundError(f"integration {integration_id} does not exist", field="integration_id")
    return row


def client_builder(
    services: IntegrationServices, sessions: sessionmaker[Session], http: aiohttp.ClientSession
) -> Callable[[int], ClientEntry]:
    """How the engine's client pool builds a client for a stored integration."""

    def build(integration_id: int) -> ClientEntry:
        with sessions() as session:
            row = _get_row(session, IntegrationId(integration_id))
            settings = services.provider_settings(session, IntegrationId(integration_id))
            spec = services.registry.get(IntegrationKind(row.kind))
            return ClientEntry(
                client=spec.create_client(settings, http),
                rate_per_second=row.rate_limit_per_second,
                is_active=row.is_active,
                health=row.health,
                updated_at=row.updated_at,
            )

    return build

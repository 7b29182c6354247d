"""The template lists of WhatsApp integrations: fetched from Meta, cached, read by pages and checks.

Pages show an integration's templates and the checks verify template steps
against them, so they are kept in a table (see
:mod:`herald.store.whatsapp_templates`) instead of being asked of Meta on
every render. A page asks for a fresh list (:meth:`ensure_fresh`), which
fetches only when the cached one is older than the TTL, was read from
another business account, or the last attempt failed more than
:data:`ERROR_RETRY_SECONDS` ago; a "Refresh" button fetches at once
(:meth:`refresh`). The checks read only the cache (:func:`cached_catalogues`):
a launch never waits on Meta.

Fetch failures never reach the pages as exceptions: they are stored with
the attempt and shown as a sentence, and the last good list stays in use.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from herald.channels.whatsapp import TemplateList, TemplateListError, WhatsAppClient
from herald.clock import Clock
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.domain.whatsapp_templates import TemplateCatalogue, TemplateDefinition
from herald.errors import NotFoundError, ValidationError
from herald.services.integrations import IntegrationServices
from herald.store.integrations import IntegrationRow
from herald.store.whatsapp_templates import TemplateCacheRow

DEFAULT_TTL_SECONDS = 3600
ERROR_RETRY_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 15.0

Fetcher = Callable[[IntegrationServices, Any, IntegrationKind], Awaitable[TemplateList]]
"""Reads the list for validated settings; the default asks the provider's client over HTTP."""


@dataclass(frozen=True)
class TemplateCacheView:
    """An integration's cached templates as a page shows them."""

    integration_id: IntegrationId
    integration_name: str
    templates: tuple[TemplateDefinition, ...] | None
    is_complete: bool
    fetched_at: datetime | None
    attempted_at: datetime | None
    error: str | None

    @property
    def approved(self) -> tuple[TemplateDefinition, ...]:
        return tuple(item for item in self.templates or () if item.is_approved)

    def catalogue(self) -> TemplateCatalogue:
        return TemplateCatalogue(
            self.integration_name, self.templates, self.fetched_at, self.error, self.is_complete
        )


async def fetch_with_client(
    services: IntegrationServices, settings: Any, kind: IntegrationKind
) -> TemplateList:
    """The list through the same client the integration sends and tests its connection with."""
    async with aiohttp.ClientSession() as http:
        client = services.registry.get(kind).create_client(settings, http)
        if not isinstance(client, WhatsAppClient):
            raise ValidationError(f"{kind} integrations have no WhatsApp templates", field="kind")
        return await client.list_templates()


@dataclass
class WhatsAppTemplateServices:
    integrations: IntegrationServices
    sessions: sessionmaker[Session]
    clock: Clock
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    fetch: Fetcher = fetch_with_client
    timeout_seconds: float = FETCH_TIMEOUT_SECONDS

    def cached(self, session: Session, integration_id: IntegrationId) -> TemplateCacheView:
        """What the cache holds for a WhatsApp integration (nothing fetched yet: no templates)."""
        integration = self._whatsapp_row(session, integration_id)
        return _view(integration, session.get(TemplateCacheRow, integration.id))

    def ensure_fresh(self, integration_id: IntegrationId) -> TemplateCacheView:
        """The cached list, fetched again first when stale. Blocking: call from a thread."""
        with self.sessions() as session:
            integration = self._whatsapp_row(session, integration_id)
            cache = session.get(TemplateCacheRow, integration.id)
            if not self.is_stale(integration, cache):
                return _view(integration, cache)
        return self.refresh(integration_id)

    def ensure_fresh_for_journey(self, journey: Mapping[str, Any] | None) -> None:
        """Bring up to date the lists of the WhatsApp integrations a stored journey names,
        so its review checks against current templates (a draft may be incomplete)."""
        names = _integration_names(journey)
        with self.sessions() as session:
            ids = session.scalars(
                select(IntegrationRow.id).where(
                    IntegrationRow.kind == IntegrationKind.WHATSAPP.value,
                    IntegrationRow.name.in_(names),
                )
            ).all()
        for integration_id in ids:
            self.ensure_fresh(IntegrationId(integration_id))

    def refresh(self, integration_id: IntegrationId) -> TemplateCacheView:
        """Fetch the list now and store the outcome; a failure is stored, not raised.

        Blocking (runs its own event loop); the database session is not held
        while Meta answers.
        """
        with self.sessions() as session:
            integration = self._whatsapp_row(session, integration_id)
            settings = self.integrations.provider_settings(session, integration_id)
        listed, error = asyncio.run(self._fetch(settings))
        with self.sessions() as session:
            integration = self._whatsapp_row(session, integration_id)
            cache = self._store(session, integration, listed, error)
            return _view(integration, cache)

    def is_stale(self, integration: IntegrationRow, cache: TemplateCacheRow | None) -> bool:
        if cache is None or cache.waba_id != _waba_id(integration):
            return True
        age = self.clock.now() - cache.attempted_at
        if cache.error is not None:
            return age >= timedelta(seconds=min(self.ttl_seconds, ERROR_RETRY_SECONDS))
        return age >= timedelta(seconds=self.ttl_seconds)

    async def _fetch(self, settings: Any) -> tuple[TemplateList | None, str | None]:
        try:
            listed = await asyncio.wait_for(
                self.fetch(self.integrations, settings, IntegrationKind.WHATSAPP),
                self.timeout_seconds,
            )
        except TimeoutError:
            return None, f"no answer from the WhatsApp API within {self.timeout_seconds:g} seconds"
        except TemplateListError as exc:
            return None, exc.message
        except (aiohttp.ClientError, OSError) as exc:
            return None, f"cannot reach the WhatsApp API: {exc}"
        return listed, None

    def _store(
        self,
        session: Session,
        integration: IntegrationRow,
        listed: TemplateList | None,
        error: str | None,
    ) -> TemplateCacheRow:
        now = self.clock.now()
        waba_id = _waba_id(integration)
        cache = session.get(TemplateCacheRow, integration.id)
        if cache is None:
            cache = TemplateCacheRow(integration_id=integration.id, waba_id=waba_id)
            session.add(cache)
        elif cache.waba_id != waba_id:
            # Another account's templates say nothing about this one.
            cache.templates, cache.fetched_at = None, None
        cache.waba_id, cache.attempted_at, cache.error = waba_id, now, error
        if listed is not None:
            cache.templates = [dataclasses.asdict(item) for item in listed.templates]
            cache.is_complete = listed.is_complete
            cache.fetched_at = now
        try:
            session.commit()
        except IntegrityError:
            # Another request stored the first row at the same moment; write over it.
            session.rollback()
            return self._store(session, integration, listed, error)
        return cache

    def _whatsapp_row(self, session: Session, integration_id: IntegrationId) -> IntegrationRow:
        row = session.get(IntegrationRow, integration_id)
        if row is None:
            raise NotFoundError(
                f"integration {integration_id} does not exist", field="integration_id"
            )
        if row.kind != IntegrationKind.WHATSAPP.value:
            raise ValidationError(
                f"integration {row.name!r} is a {row.kind} integration: only WhatsApp "
                "integrations have templates",
                field="integration_id",
            )
        return row


def cached_catalogues(session: Session) -> dict[str, TemplateCatalogue]:
    """Every WhatsApp integration's cached catalogue by integration name, for the checks.

    Reads the cache only: checks (and so launches) never wait on Meta.
    """
    rows = session.execute(
        select(IntegrationRow, TemplateCacheRow)
        .outerjoin(TemplateCacheRow, TemplateCacheRow.integration_id == IntegrationRow.id)
        .where(IntegrationRow.kind == IntegrationKind.WHATSAPP.value)
    )
    return {row.name: _view(row, cache).catalogue() for row, cache in rows}


def _integration_names(journey: Mapping[str, Any] | None) -> set[str]:
    if not journey:
        return set()
    fallbacks = journey.get("fallbacks")
    steps = [journey.get("primary"), journey.get("follow_up")]
    steps += fallbacks if isinstance(fallbacks, list) else []
    names = set()
    for step in steps:
        integration = step.get("integration") if isinstance(step, Mapping) else None
        name = integration.get("name") if isinstance(integration, Mapping) else None
        if isinstance(name, str) and name:
            names.add(name)
    return names


def _waba_id(integration: IntegrationRow) -> str:
    return str(integration.settings.get("waba_id", ""))


def _view(integration: IntegrationRow, cache: TemplateCacheRow | None) -> TemplateCacheView:
    stale_account = cache is not None and cache.waba_id != _waba_id(integration)
    templates = None
    if cache is not None and cache.templates is not None and not stale_account:
        templates = _templates(cache.templates)
    error = cache.error if cache is not None else None
    if stale_account:
        error = "the business account changed since the templates were read"
    elif templates is None and cache is not None and cache.templates is not None:
        error = "the cached templates are unreadable; refresh them"
    return TemplateCacheView(
        integration_id=IntegrationId(integration.id),
        integration_name=integration.name,
        templates=templates,
        is_complete=cache.is_complete if cache is not None else True,
        fetched_at=None if templates is None or cache is None else cache.fetched_at,
        attempted_at=None if cache is None else cache.attempted_at,
        error=error,
    )


def _templates(stored: list[dict[str, Any]]) -> tuple[TemplateDefinition, ...] | None:
    try:
        return tuple(TemplateDefinition(**item) for item in stored)
    except TypeError:
        return None

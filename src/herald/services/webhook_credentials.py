"""The integrations' webhook secrets, decrypted once and reused between requests.

Every webhook request is checked against the secrets of the integrations of
its provider. Decrypting them for each request would put a decryption, a
JSON parse and a settings validation on the path of every status callback;
instead the validated settings of each integration are kept in memory and
reused for as long as its stored row is unchanged.

Freshness without a time-to-live: each lookup reads which integrations are
active and a fingerprint of each (its ciphertext and ``updated_at``: one
small query on a tiny table, no decryption) and compares it with the
fingerprint the cached settings were built from. An update, an activation
or deactivation, a new or a deleted integration is therefore seen by the
very next request, in every process, with no invalidation message to send.
Only a row whose fingerprint changed is decrypted again. Saving settings
always writes a new ciphertext (fresh nonce), so a change is caught even
when two saves share one ``updated_at``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.errors import HeraldError
from herald.services.integrations import IntegrationServices
from herald.store.integrations import IntegrationRow

logger = logging.getLogger(__name__)

SettingsT = TypeVar("SettingsT", bound=BaseModel)


@dataclass(frozen=True)
class Credential(Generic[SettingsT]):
    """One integration's validated settings, secrets in clear: never log it."""

    integration_id: IntegrationId
    name: str
    settings: SettingsT


@dataclass(frozen=True)
class _Cached:
    fingerprint: tuple[str | None, datetime]  # (ciphertext, updated_at) they were built from
    settings: BaseModel


class WebhookCredentials:
    """Thread-safe: web servers run webhook handlers on a pool of threads."""

    def __init__(self, integrations: IntegrationServices) -> None:
        self._integrations = integrations
        self._cache: dict[int, _Cached] = {}
        self._lock = threading.Lock()
        self.decryptions = 0  # how many times settings were rebuilt; for tests and metrics

    def of_kind(
        self,
        session: Session,
        kind: IntegrationKind,
        model: type[SettingsT],
        *,
        active_only: bool = True,
    ) -> list[Credential[SettingsT]]:
        """The integrations of ``kind`` (active ones by default), oldest first.

        An integration whose stored settings no longer validate is left out
        with a warning: one broken integration must not make the webhooks of
        the others fail.
        """
        query = (
            select(
                IntegrationRow.id,
                IntegrationRow.name,
                IntegrationRow.encrypted_secrets,
                IntegrationRow.updated_at,
            )
            .where(IntegrationRow.kind == kind.value)
            .order_by(IntegrationRow.id)
        )
        if active_only:
            query = query.where(IntegrationRow.is_active.is_(True))
        found: list[Credential[SettingsT]] = []
        for row_id, name, ciphertext, updated_at in session.execute(query):
            settings = self._settings(session, row_id, name, (ciphertext, updated_at))
            if isinstance(settings, model):
                found.append(Credential(IntegrationId(row_id), name, settings))
        return found

    def _settings(
        self, session: Session, row_id: int, name: str, fingerprint: tuple[str | None, datetime]
    ) -> BaseModel | None:
        with self._lock:
            cached = self._cache.get(row_id)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached.settings
        try:
            settings = self._integrations.provider_settings(session, IntegrationId(row_id))
        except HeraldError as exc:
            logger.warning("integration %r is skipped for webhooks: %s", name, exc.message)
            return None
        with self._lock:
            self._cache[row_id] = _Cached(fingerprint, settings)
            self.decryptions += 1
        return settings

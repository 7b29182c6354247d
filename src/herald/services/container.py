"""The composition root: one object that owns Herald's long-lived parts.

The web app, the CLI and the workers build one :class:`Herald` at start-up
from settings and a clock, and pass it down; nothing is built at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from herald.channels.registry import ProviderRegistry, default_registry
from herald.clock import Clock, CompressedClock, SystemClock
from herald.services.integrations import IntegrationServices
from herald.settings import Settings
from herald.store.database import create_database_engine, create_session_factory
from herald.store.encryption import SecretBox, load_secret_box
from herald.store.migrate import upgrade_database


@dataclass
class Herald:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    registry: ProviderRegistry
    box: SecretBox
    integrations: IntegrationServices = field(init=False)

    def __post_init__(self) -> None:
        self.integrations = IntegrationServices(self.registry, self.box, self.clock)

    @classmethod
    def create(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        *,
        registry: ProviderRegistry | None = None,
        migrate: bool = True,
    ) -> Herald:
        """Connect to the configured database, bringing its schema up to date first."""
        engine = create_database_engine(settings.resolved_database_url())
        if migrate:
            upgrade_database(engine)
        return cls(
            settings=settings,
            clock=clock or clock_from(settings),
            engine=engine,
            sessions=create_session_factory(engine),
            registry=registry or default_registry(),
            box=load_secret_box(settings),
        )

    def close(self) -> None:
        self.engine.dispose()


def clock_from(settings: Settings) -> Clock:
    """The wall clock, or a sped-up one when the settings ask for it."""
    if settings.clock_speedup == 1:
        return SystemClock()
    return CompressedClock(settings.clock_speedup, epoch=settings.clock_epoch)

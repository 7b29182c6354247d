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
from herald.services.api_keys import ApiKeyServices
from herald.services.campaigns import CampaignServices
from herald.services.event_recorder import GroupCommitRecorder
from herald.services.integrations import IntegrationServices
from herald.services.login import Authenticator
from herald.services.passwords import Passwords
from herald.services.users import UserServices
from herald.services.whatsapp_templates import WhatsAppTemplateServices
from herald.settings import Settings
from herald.store.database import create_database_engine, create_session_factory, is_sqlite
from herald.store.encryption import SecretBox, load_secret_box, load_session_secrets
from herald.store.migrate import upgrade_database


@dataclass
class Herald:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    registry: ProviderRegistry
    box: SecretBox
    session_secrets: list[str] = field(repr=False)
    passwords: Passwords = field(default_factory=Passwords)
    read_engine: Engine | None = None
    read_sessions: sessionmaker[Session] = field(init=False)
    events: GroupCommitRecorder = field(init=False)
    integrations: IntegrationServices = field(init=False)
    users: UserServices = field(init=False)
    login: Authenticator = field(init=False)
    api_keys: ApiKeyServices = field(init=False)
    campaigns: CampaignServices = field(init=False)
    whatsapp_templates: WhatsAppTemplateServices = field(init=False)

    def __post_init__(self) -> None:
        # Reads that must not queue behind writers (SQLite's single write lock).
        self.read_sessions = create_session_factory(self.read_engine or self.engine)
        self.events = GroupCommitRecorder(self.sessions, self.clock)
        self.integrations = IntegrationServices(self.registry, self.box, self.clock)
        self.users = UserServices(self.passwords, self.clock)
        self.login = Authenticator(self.passwords, self.session_clock)
        self.api_keys = ApiKeyServices(self.clock)
        self.campaigns = CampaignServices(self.clock)
        self.whatsapp_templates = WhatsAppTemplateServices(
            self.integrations,
            self.sessions,
            self.clock,
            ttl_seconds=self.settings.whatsapp_templates_ttl_seconds,
        )

    @classmethod
    def create(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        *,
        registry: ProviderRegistry | None = None,
        migrate: bool = True,
        passwords: Passwords | None = None,
    ) -> Herald:
        """Connect to the configured database, bringing its schema up to date first.

        ``passwords`` replaces the password hasher (tests use cheap parameters).
        """
        url = settings.resolved_database_url()
        engine = create_database_engine(url)
        read_engine = create_database_engine(url, read_only=True) if is_sqlite(url) else None
        if migrate:
            upgrade_database(engine)
        return cls(
            settings=settings,
            clock=clock or clock_from(settings),
            engine=engine,
            sessions=create_session_factory(engine),
            registry=registry or default_registry(),
            box=load_secret_box(settings),
            session_secrets=load_session_secrets(settings),
            passwords=passwords or Passwords(),
            read_engine=read_engine,
        )

    @property
    def session_clock(self) -> Clock:
        """The clock of things timed for people, not journeys: browser sessions,
        CSRF tokens, login throttling, API request rates.

        When journey time is sped up (demos, browser tests) this is the wall
        clock, so a sign-in lasts real hours instead of a blink; otherwise it is
        the injected clock, so tests still move it at will.
        """
        if isinstance(self.clock, CompressedClock):
            return SystemClock()
        return self.clock

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


def clock_from(settings: Settings) -> Clock:
    """The wall clock, or a sped-up one when the settings ask for it."""
    if settings.clock_speedup == 1:
        return SystemClock()
    return CompressedClock(settings.clock_speedup, epoch=settings.clock_epoch)

"""Integration records: validation, encryption at rest, masking, health."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from herald.channels.base import ChannelClient
from herald.channels.registry import ProviderRegistry, ProviderSpec
from herald.domain.channels import Channel, IntegrationKind
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.services.integrations import MASK, IntegrationServices
from herald.store.encryption import SecretBox, generate_secret_key
from herald.store.integrations import IntegrationRow
from herald.testing import FakeClock, InMemoryChannel


class FakeSmsSettings(BaseModel):
    base_url: str = "https://sms.example.test"
    sender: str = Field(min_length=1, max_length=11)
    api_key: SecretStr
    webhook_secret: SecretStr | None = None


def _client(settings: BaseModel, _session: aiohttp.ClientSession) -> ChannelClient:
    assert isinstance(settings, FakeSmsSettings)
    return InMemoryChannel(
        IntegrationKind.INFOBIP_SMS, connected=settings.api_key.get_secret_value() == "good"
    )


@pytest.fixture
def services() -> IntegrationServices:
    registry = ProviderRegistry()
    registry.register(ProviderSpec(IntegrationKind.INFOBIP_SMS, FakeSmsSettings, _client, 50.0))
    return IntegrationServices(registry, SecretBox([generate_secret_key()]), FakeClock())


def test_secrets_are_encrypted_at_rest_and_masked_in_views(
    engine: Engine, services: IntegrationServices
) -> None:
    with Session(engine) as session:
        view = services.create(
            session,
            name="Infobip EU",
            kind="infobip_sms",
            settings={"sender": "Herald", "api_key": "top-secret-key"},
        )
    assert view.settings == {
        "base_url": "https://sms.example.test",
        "sender": "Herald",
        "api_key": MASK,
    }
    assert view.channel is Channel.SMS
    assert view.rate_limit_per_second == 50.0
    with Session(engine) as session:
        row = session.scalars(select(IntegrationRow)).one()
        assert "top-secret-key" not in repr(row.settings)
        assert row.encrypted_secrets is not None
        assert "top-secret-key" not in row.encrypted_secrets
        clear = services.provider_settings(session, view.id)
    assert isinstance(clear, FakeSmsSettings)
    assert clear.api_key.get_secret_value() == "top-secret-key"


def test_update_keeps_masked_secrets_and_replaces_given_ones(
    engine: Engine, services: IntegrationServices
) -> None:
    with Session(engine) as session:
        view = services.create(
            session, name="sms", kind="infobip_sms", settings={"sender": "A", "api_key": "k1"}
        )
        services.update(session, view.id, settings={"sender": "B", "api_key": MASK})
        kept = services.provider_settings(session, view.id)
        services.update(session, view.id, settings={"api_key": "k2"}, is_active=False)
        changed = services.provider_settings(session, view.id)
        assert services.get(session, view.id).is_active is False
    assert isinstance(kept, FakeSmsSettings) and isinstance(changed, FakeSmsSettings)
    assert (kept.sender, kept.api_key.get_secret_value()) == ("B", "k1")
    assert (changed.sender, changed.api_key.get_secret_value()) == ("B", "k2")


def test_bad_input_names_the_field(engine: Engine, services: IntegrationServices) -> None:
    with Session(engine) as session:
        with pytest.raises(ValidationError, match="sender") as excinfo:
            services.create(
                session, name="x", kind="infobip_sms", settings={"sender": "", "api_key": "k"}
            )
        assert excinfo.value.field == "sender"
        with pytest.raises(ValidationError, match="unknown integration kind"):
            services.create(session, name="x", kind="pigeon", settings={})
        services.create(
            session, name="x", kind="infobip_sms", settings={"sender": "A", "api_key": "k"}
        )
        with pytest.raises(ConflictError, match="already exists"):
            services.create(
                session, name="x", kind="infobip_sms", settings={"sender": "A", "api_key": "k"}
            )
        with pytest.raises(NotFoundError):
            services.get(session, 999)  # type: ignore[arg-type]


def test_connection_check_is_recorded_as_health(
    engine: Engine, services: IntegrationServices
) -> None:
    async def check(settings: BaseModel) -> object:
        async with aiohttp.ClientSession() as http:
            return await services.test_connection(settings, IntegrationKind.INFOBIP_SMS, http)

    with Session(engine) as session:
        view = services.create(
            session, name="sms", kind="infobip_sms", settings={"sender": "A", "api_key": "bad"}
        )
        result = asyncio.run(check(services.provider_settings(session, view.id)))
        recorded = services.record_health(session, view.id, result)  # type: ignore[arg-type]
    assert recorded.health == "unhealthy"
    assert recorded.health_reason == "rejected credentials"
    assert recorded.health_checked_at is not None


def test_shipped_providers_connect_to_the_sandbox(engine: Engine) -> None:
    """Every registered kind validates real settings and checks its connection."""
    from herald.channels.registry import default_registry
    from herald.channels.sandbox.scenario import SandboxCredentials
    from herald.channels.sandbox.server import SandboxServer

    creds = SandboxCredentials()
    services = IntegrationServices(
        default_registry(), SecretBox([generate_secret_key()]), FakeClock()
    )

    async def run() -> dict[str, bool]:
        async with SandboxServer() as sandbox, aiohttp.ClientSession() as http:
            settings = {
                IntegrationKind.WHATSAPP: {
                    "graph_base_url": sandbox.base_url,
                    "phone_number_id": creds.whatsapp_phone_number_id,
                    "waba_id": creds.whatsapp_business_account_id,
                    "access_token": creds.whatsapp_access_token,
                    "app_secret": creds.whatsapp_app_secret,
                    "webhook_verify_token": "verify-token-for-tests-0001",
                },
                IntegrationKind.INFOBIP_SMS: {
                    "base_url": sandbox.base_url,
                    "api_key": creds.infobip_api_key,
                    "sender": "Herald",
                    "webhook_secret": creds.infobip_webhook_secret,
                },
                IntegrationKind.TWILIO_VOICE: {
                    "api_base_url": sandbox.base_url,
                    "account_sid": creds.twilio_account_sid,
                    "auth_token": creds.twilio_auth_token,
                    "caller_id": creds.twilio_number,
                    "public_base_url": "http://127.0.0.1:9",
                },
            }
            results = {}
            with Session(engine) as session:
                for kind, values in settings.items():
                    view = services.create(session, name=kind.value, kind=kind, settings=values)
                    stored = services.provider_settings(session, view.id)
                    check = await services.test_connection(stored, kind, http)
                    results[kind.value] = check.connected
            return results

    assert asyncio.run(run()) == {"whatsapp": True, "infobip_sms": True, "twilio_voice": True}

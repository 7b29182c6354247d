"""Which settings and which client belong to each integration kind.

The integration service validates stored settings with ``settings_model`` and
the engine builds clients with ``create_client``; neither needs to know the
providers by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from pydantic import BaseModel, SecretStr

from herald.channels.base import ChannelClient
from herald.domain.channels import IntegrationKind
from herald.errors import ConfigurationError

ClientFactory = Callable[[BaseModel, aiohttp.ClientSession], ChannelClient]
_Settings = TypeVar("_Settings", bound=BaseModel)


@dataclass(frozen=True)
class ProviderSpec:
    kind: IntegrationKind
    settings_model: type[BaseModel]
    create_client: ClientFactory
    default_rate_per_second: float

    def secret_fields(self) -> frozenset[str]:
        """Fields typed ``SecretStr`` (optional or not): stored encrypted, shown masked."""
        return frozenset(
            name
            for name, field in self.settings_model.model_fields.items()
            if _is_secret(field.annotation)
        )


def _is_secret(annotation: object) -> bool:
    if annotation is SecretStr:
        return True
    return SecretStr in getattr(annotation, "__args__", ())


class ProviderRegistry:
    def __init__(self) -> None:
        self._specs: dict[IntegrationKind, ProviderSpec] = {}

    def register(self, spec: ProviderSpec) -> None:
        self._specs[spec.kind] = spec

    def get(self, kind: IntegrationKind) -> ProviderSpec:
        try:
            return self._specs[kind]
        except KeyError:
            raise ConfigurationError(f"no provider is registered for kind {kind!r}") from None

    def kinds(self) -> list[IntegrationKind]:
        return sorted(self._specs)


def default_registry() -> ProviderRegistry:
    """Every provider Herald ships with."""
    from herald.channels import email, infobip, twilio, whatsapp

    def typed(
        model: type[_Settings], factory: Callable[[_Settings, aiohttp.ClientSession], ChannelClient]
    ) -> ClientFactory:
        def create(settings: BaseModel, session: aiohttp.ClientSession) -> ChannelClient:
            if not isinstance(settings, model):
                raise ConfigurationError(
                    f"expected {model.__name__}, got {type(settings).__name__}"
                )
            return factory(settings, session)

        return create

    registry = ProviderRegistry()
    registry.register(
        _spec(
            IntegrationKind.WHATSAPP,
            whatsapp.WhatsAppSettings,
            typed(whatsapp.WhatsAppSettings, whatsapp.create_client),
        )
    )
    registry.register(
        _spec(
            IntegrationKind.INFOBIP_SMS,
            infobip.InfobipSettings,
            typed(infobip.InfobipSettings, infobip.create_client),
        )
    )
    registry.register(
        _spec(
            IntegrationKind.TWILIO_VOICE,
            twilio.TwilioSettings,
            typed(twilio.TwilioSettings, twilio.create_client),
        )
    )
    registry.register(
        _spec(
            IntegrationKind.EMAIL_SMTP,
            email.EmailSettings,
            typed(email.EmailSettings, email.create_client),
        )
    )
    return registry


def _spec(kind: IntegrationKind, model: type[BaseModel], factory: ClientFactory) -> ProviderSpec:
    default_rate = model.model_fields["rate_limit_per_second"].default
    return ProviderSpec(kind, model, factory, float(default_rate))

"""Integration settings as form fields, and a connection check run to completion.

The fields come from each provider's settings model, so a form never falls
behind the model it fills: a new setting appears in the form the day it is
added. Required settings come first; settings with a default are "advanced"
and may be left alone. Secret settings (``SecretStr``) are password inputs
that are never filled in from storage: left empty on an edit, the stored
secret stays.
"""

from __future__ import annotations

import asyncio
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Session, sessionmaker

from herald.channels.base import ConnectionCheck
from herald.channels.registry import ProviderRegistry
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.services.integrations import IntegrationServices, IntegrationView

CHECK_TIMEOUT_SECONDS = 20.0
KIND_LABELS: dict[IntegrationKind, str] = {
    IntegrationKind.WHATSAPP: "WhatsApp Cloud API",
    IntegrationKind.INFOBIP_SMS: "Infobip SMS",
    IntegrationKind.TWILIO_VOICE: "Twilio Voice",
    IntegrationKind.EMAIL_SMTP: "SMTP email",
}
# What to register at each provider (docs/webhooks.md): (purpose, path) pairs and a note.
WEBHOOKS: dict[IntegrationKind, tuple[tuple[tuple[str, str], ...], str]] = {
    IntegrationKind.WHATSAPP: (
        (("Callback URL (statuses and messages)", "/webhooks/whatsapp"),),
        "In the app dashboard, with the integration's webhook verify token; "
        "subscribe to the messages field.",
    ),
    IntegrationKind.INFOBIP_SMS: (
        (
            ("Delivery reports", "/webhooks/infobip/delivery"),
            ("Inbound SMS", "/webhooks/infobip/inbound"),
        ),
        "Give the webhook secret as the Basic authentication password. Delivery reports "
        "need no registration when Notify URL base is set.",
    ),
    IntegrationKind.TWILIO_VOICE: (
        (),
        "Nothing to register: every call carries its own callback URLs, built from "
        "the public base URL setting.",
    ),
    IntegrationKind.EMAIL_SMTP: (
        (("Inbound replies", "/webhooks/email/inbound"), ("Bounces", "/webhooks/email/bounce")),
        "Authenticate with the inbound webhook secret (Basic authentication password or "
        "the X-Herald-Webhook-Secret header).",
    ),
}
# Words spelled in capitals (or otherwise) when a setting's name becomes its label.
_WORDS = {
    "id": "ID",
    "url": "URL",
    "api": "API",
    "waba": "WABA",
    "sid": "SID",
    "smtp": "SMTP",
    "tls": "TLS",
    "pem": "PEM",
    "ca": "CA",
}


@dataclass(frozen=True)
class SettingField:
    """One input of an integration form."""

    name: str
    label: str
    input_type: str  # text, password, number, checkbox, select, textarea
    is_required: bool
    is_secret: bool
    default: str | None  # as the input shows it; None when there is none
    choices: tuple[str, ...]
    description: str | None
    step: str | None = None  # for number inputs: "1" (whole) or "any"

    @property
    def is_advanced(self) -> bool:
        return not self.is_required

    @property
    def hint(self) -> str:
        """What the form says under the input: the setting's description, then how
        a secret is kept or what the default is."""
        parts = [_sentence(self.description)] if self.description else []
        if self.is_secret:
            parts.append("Stored encrypted; never shown again.")
        elif self.default and self.input_type != "checkbox":
            parts.append(f"Default: {self.default}.")
        return " ".join(parts)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", ")")) else text + "."


def kind_label(kind: IntegrationKind | str) -> str:
    try:
        return KIND_LABELS[IntegrationKind(kind)]
    except ValueError:
        return str(kind)


def setting_fields(registry: ProviderRegistry, kind: IntegrationKind) -> tuple[SettingField, ...]:
    """The form of ``kind``: required settings first, each group in the model's order."""
    spec = registry.get(kind)
    secrets = spec.secret_fields()
    fields = [
        _field(name, info, is_secret=name in secrets)
        for name, info in spec.settings_model.model_fields.items()
    ]
    return tuple(sorted(fields, key=lambda field: not field.is_required))


def settings_from_form(
    registry: ProviderRegistry, kind: IntegrationKind, form: Mapping[str, str], *, is_edit: bool
) -> dict[str, Any]:
    """The settings a submitted form means, for the service to validate.

    Empty inputs are left out so the model's default applies; on an edit an
    empty secret keeps the stored one, while an emptied setting goes back to
    its default (or is refused when required). An unticked checkbox means
    ``False``.
    """
    values: dict[str, Any] = {}
    for field in setting_fields(registry, kind):
        if field.input_type == "checkbox":
            values[field.name] = field.name in form
            continue
        raw = form.get(field.name, "")
        text = raw if field.input_type in ("password", "textarea") else raw.strip()
        if text:
            values[field.name] = text
        elif is_edit and not field.is_secret:
            # Cleared on purpose: back to the default, or refused when required.
            values[field.name] = "" if field.is_required else field.default
    return values


def _field(name: str, info: FieldInfo, *, is_secret: bool) -> SettingField:
    annotation = _unwrap_optional(info.annotation)
    default = None if info.is_required() or info.default is None else info.default
    choices: tuple[str, ...] = ()
    step = None
    if is_secret:
        input_type = "password"
    elif annotation is bool:
        input_type = "checkbox"
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        input_type = "select"
        choices = tuple(str(member.value) for member in annotation)
    elif annotation in (int, float):
        input_type, step = "number", "1" if annotation is int else "any"
    elif name.endswith("_pem"):
        input_type = "textarea"
    else:
        input_type = "text"
    return SettingField(
        name=name,
        label=_label(name),
        input_type=input_type,
        is_required=info.is_required(),
        is_secret=is_secret,
        default=_shown(default),
        choices=choices,
        description=info.description,
        step=step,
    )


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def _label(name: str) -> str:
    words = [_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def check_integration(
    sessions: sessionmaker[Session],
    services: IntegrationServices,
    integration_id: IntegrationId,
    *,
    timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
) -> tuple[IntegrationView, ConnectionCheck]:
    """Ask the provider whether the stored credentials work, and record the answer.

    Blocking: runs its own event loop, so call it from a worker thread (a
    ``def`` route). The database session is not held while the provider answers.
    """
    with sessions() as session:
        view = services.get(session, integration_id)
        settings = services.provider_settings(session, integration_id)

    async def ask() -> ConnectionCheck:
        async with aiohttp.ClientSession() as http:
            try:
                return await asyncio.wait_for(
                    services.test_connection(settings, view.kind, http), timeout_seconds
                )
            except TimeoutError:
                return ConnectionCheck(False, f"no answer within {timeout_seconds:g} seconds")
            except (aiohttp.ClientError, OSError) as exc:
                return ConnectionCheck(False, f"cannot reach the provider: {exc}")

    check = asyncio.run(ask())
    with sessions() as session:
        return services.record_health(session, integration_id, check), check

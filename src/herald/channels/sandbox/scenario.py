"""How the sandbox behaves: latency, rejections, failures, delivery, replies.

A scenario is plain data, loaded from YAML or built from command-line flags.
Every probability is drawn from one seeded random generator so a run can be
repeated exactly.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from herald.errors import ValidationError as HeraldValidationError


class ScriptedRule(BaseModel):
    """A fixed outcome for addresses starting with ``match``.

    For phones ``match`` is a prefix of the E.164 number (``+1555000``); for
    email it is a suffix of the address (``@bounce.example.test``). Exactly
    the outcomes that are set happen; the first matching rule wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str = Field(min_length=1)
    reject: str | None = Field(default=None, description="provider error code returned at once")
    fail: str | None = Field(default=None, description="error code of a later failed status")
    reply: str | None = Field(default=None, description="text the person replies")


class ChannelScenario(BaseModel):
    """Behaviour of one emulated channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(default=0.0, ge=0, description="added before every API answer")
    reject_rate: float = Field(default=0.0, ge=0, le=1)
    reject_codes: list[str] = Field(default_factory=list)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    fail_codes: list[str] = Field(default_factory=list)
    delivery_delay_seconds: float = Field(default=1.0, ge=0)
    read_rate: float = Field(default=0.5, ge=0, le=1)
    reply_rate: float = Field(default=0.0, ge=0, le=1)
    reply_delay_seconds: float = Field(default=3.0, ge=0)
    reply_texts: list[str] = Field(default_factory=lambda: ["Yes, thanks!"])
    rules: list[ScriptedRule] = Field(default_factory=list)

    def rule_for(self, address: str) -> ScriptedRule | None:
        for rule in self.rules:
            if address.startswith(rule.match) or address.endswith(rule.match):
                return rule
        return None


class SandboxCredentials(BaseModel):
    """The credentials the emulated providers accept and sign webhooks with.

    These are sandbox values only; Herald's integrations are configured with
    the same values when they point at the sandbox.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    whatsapp_access_token: str = "sandbox-whatsapp-token"
    whatsapp_app_secret: str = "sandbox-whatsapp-app-secret"
    whatsapp_phone_number_id: str = "106540352242922"
    whatsapp_display_phone_number: str = "15550783881"
    whatsapp_business_account_id: str = "102290129340398"
    infobip_api_key: str = "sandbox-infobip-key"
    infobip_webhook_secret: str = "sandbox-infobip-webhook-secret"
    infobip_number: str = "447860099299"
    twilio_account_sid: str = "AC" + "0" * 31 + "1"
    twilio_auth_token: str = "sandbox-twilio-auth-token"
    twilio_number: str = "+15017122661"
    smtp_username: str = "sandbox"
    smtp_password: str = "sandbox-smtp-password"
    inbound_email_secret: str = "sandbox-inbound-email-secret"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int | None = None
    time_compression: float = Field(
        default=1.0, gt=0, description="delays are divided by this (86400: a day per second)"
    )
    webhook_base_url: str | None = Field(
        default=None, description="Herald's base URL; webhooks go to its /webhooks/... paths"
    )
    whatsapp: ChannelScenario = Field(default_factory=ChannelScenario)
    sms: ChannelScenario = Field(default_factory=ChannelScenario)
    voice: ChannelScenario = Field(default_factory=ChannelScenario)
    email: ChannelScenario = Field(default_factory=ChannelScenario)
    credentials: SandboxCredentials = Field(default_factory=SandboxCredentials)

    def seconds(self, scenario_seconds: float) -> float:
        """Real seconds to wait for a delay written in scenario time."""
        return scenario_seconds / self.time_compression


def load_scenario(path: Path) -> Scenario:
    """Read a YAML scenario, naming the offending key when it is invalid."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HeraldValidationError(f"cannot read scenario {path}: {exc}", field=str(path)) from exc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise HeraldValidationError(
            f"scenario {path}: {where}: {first['msg']}", field=where
        ) from exc

"""The demo: a whole appointment-reminder campaign against the sandbox.

Everything is real except the providers: Herald's clients talk HTTP to the
sandbox, the sandbox posts signed webhooks back to Herald's web server, the
workers move every contact through WhatsApp → SMS → voice with a follow-up
two days after delivery. Time is compressed so those days pass in seconds.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any

from herald.channels.sandbox.scenario import (
    ChannelScenario,
    SandboxCredentials,
    Scenario,
    ScriptedRule,
)
from herald.domain.channels import IntegrationKind
from herald.domain.ids import IntegrationId
from herald.services.audiences import import_audience
from herald.services.campaigns import CampaignServices
from herald.services.container import Herald

DAY_SECONDS = 86_400
FIRST_NAMES = (
    "Alex",
    "Jamie",
    "Priya",
    "María",
    "Hans",
    "Li",
    "Sam",
    "Kofi",
    "Aiko",
    "Omar",
    "Zoé",
    "Lars",
    "Ana",
    "Chen",
    "Fatima",
    "Noah",
    "Élodie",
    "Ravi",
    "Sofia",
    "Tomás",
)
# Countries with the national number length that makes a valid mobile number.
PHONE_FORMATS = (
    ("+1202555", 4),
    ("+34612", 6),
    ("+4915123", 6),
    ("+33612", 6),
    ("+5511987", 6),
)


@dataclass(frozen=True)
class DemoSetup:
    campaign_id: int
    contacts: int


def demo_scenario(webhook_base_url: str, *, speedup: float, seed: int) -> Scenario:
    """Realistic trouble: undeliverable numbers, failures, replies, a few opt-outs."""
    replies = ["Yes, confirmed", "Can I move it to Friday?", "Thanks!", "STOP"]
    return Scenario(
        seed=seed,
        time_compression=speedup,
        webhook_base_url=webhook_base_url,
        whatsapp=ChannelScenario(
            delivery_delay_seconds=120,
            read_rate=0.4,
            reply_rate=0.25,
            reply_delay_seconds=600,
            reply_texts=replies,
            fail_rate=0.08,
            fail_codes=["131049"],
            rules=[ScriptedRule(match="3", fail="131026")],
        ),
        sms=ChannelScenario(
            delivery_delay_seconds=300,
            reply_rate=0.15,
            reply_delay_seconds=900,
            reply_texts=replies,
            rules=[ScriptedRule(match="7", fail="EC_UNKNOWN_SUBSCRIBER")],
        ),
        voice=ChannelScenario(
            delivery_delay_seconds=60,
            reply_rate=0.3,
            fail_rate=0.3,
            fail_codes=["busy", "no-answer"],
        ),
    )


def demo_csv(contacts: int, seed: int) -> str:
    """A seed-example-like audience: email, phone, name, appointment_date."""
    rng = random.Random(seed)
    lines = ["email,phone,name,appointment_date"]
    for index in range(contacts):
        name = rng.choice(FIRST_NAMES)
        prefix, digits = rng.choice(PHONE_FORMATS)
        phone = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
        if index % 25 == 0:
            phone = ""  # some people only gave an email address
        email = f"{name.lower()}.{index}@example.com".replace("é", "e").replace("í", "i")
        day = 10 + index % 18
        lines.append(f"{email},{phone},{name},2025-09-{day:02d}")
    return "\n".join(lines) + "\n"


def demo_journey() -> dict[str, Any]:
    sms_text = "Hi {{name|there}}, a reminder of your appointment on {{appointment_date}}."
    return {
        "primary": {
            "integration": {"name": "demo-whatsapp", "kind": "whatsapp"},
            "content": {
                "type": "whatsapp_template",
                "name": "appointment_reminder",
                "language": "en",
                "body": [{"column": "name", "default": "there"}, {"column": "appointment_date"}],
            },
            # Long windows: with a day compressed into seconds, the default
            # windows would close in well under a second of real time.
            "delivery_window_minutes": 24 * 60,
        },
        "fallbacks": [
            {
                "integration": {"name": "demo-sms", "kind": "infobip_sms"},
                "content": {"type": "sms", "text": sms_text + " Reply YES to confirm."},
                "delivery_window_minutes": 24 * 60,
            },
            {
                "integration": {"name": "demo-voice", "kind": "twilio_voice"},
                "content": {"type": "voice", "text": sms_text},
                "delivery_window_minutes": 12 * 60,
            },
        ],
        "follow_up": {
            "delay_days": 2,
            "integration": {"name": "demo-sms", "kind": "infobip_sms"},
            "content": {
                "type": "sms",
                "text": "Hi {{name|there}}, will we see you on "
                "{{appointment_date}}? Reply YES or call us to reschedule.",
            },
        },
    }


def integration_settings(
    sandbox_url: str, herald_url: str
) -> dict[str, tuple[str, dict[str, Any]]]:
    creds = SandboxCredentials()
    return {
        "demo-whatsapp": (
            "whatsapp",
            {
                "graph_base_url": sandbox_url,
                "phone_number_id": creds.whatsapp_phone_number_id,
                "waba_id": creds.whatsapp_business_account_id,
                "access_token": creds.whatsapp_access_token,
                "app_secret": creds.whatsapp_app_secret,
                "webhook_verify_token": "demo-verify-token-0123456789",
                "rate_limit_per_second": 5000,
            },
        ),
        "demo-sms": (
            "infobip_sms",
            {
                "base_url": sandbox_url,
                "api_key": creds.infobip_api_key,
                "sender": "HeraldDemo",
                "webhook_secret": creds.infobip_webhook_secret,
                "notify_url_base": herald_url,
                "rate_limit_per_second": 5000,
            },
        ),
        "demo-voice": (
            "twilio_voice",
            {
                "api_base_url": sandbox_url,
                "account_sid": creds.twilio_account_sid,
                "auth_token": creds.twilio_auth_token,
                "caller_id": creds.twilio_number,
                "public_base_url": herald_url,
                "rate_limit_per_second": 5000,
            },
        ),
    }


def set_up_demo(
    herald: Herald, *, sandbox_url: str, herald_url: str, contacts: int, seed: int
) -> DemoSetup:
    """Integrations, audience and a launched campaign, on a fresh database.

    Blocking (fetches the WhatsApp templates): call it from a thread.
    """
    whatsapp_ids: list[IntegrationId] = []
    with herald.sessions() as session:
        for name, (kind, settings) in integration_settings(sandbox_url, herald_url).items():
            added = herald.integrations.create(session, name=name, kind=kind, settings=settings)
            if added.kind is IntegrationKind.WHATSAPP:
                whatsapp_ids.append(added.id)
    # The template step is checked against the account's templates before launch.
    for integration_id in whatsapp_ids:
        herald.whatsapp_templates.refresh(integration_id)
    imported = import_audience(
        herald.engine,
        io.BytesIO(demo_csv(contacts, seed).encode()),
        name="Demo patients",
        filename="demo-patients.csv",
        clock=herald.clock,
        default_region="US",
    )
    campaigns = CampaignServices(herald.clock)
    with herald.sessions() as session:
        view = campaigns.create_draft(
            session,
            name="Appointment reminders (demo)",
            extra_tags=["demo"],
            audience_id=int(imported.audience.id),
            journey=demo_journey(),
        )
        launched = campaigns.launch(session, view.id)
    return DemoSetup(campaign_id=int(launched.id), contacts=launched.contact_count)

"""Provider webhooks in: authenticate, parse, store each event once.

One method per endpoint, each in the same order, so nothing from a caller
that cannot prove who it is reaches a parser or the database:

1. no credential at all → :class:`WebhookUnauthenticatedError` (HTTP 401);
2. a credential that matches no integration → :class:`WebhookForbiddenError`
   (403), after checking it against *every* candidate integration so the
   time taken does not tell which one came close;
3. a body that cannot be read → :class:`~herald.errors.ValidationError`
   naming the field (400);
4. the events, stored with the group-commit recorder (duplicates, which
   providers send on every retry, are counted and dropped).

A refused request leaves nothing behind: the session it ran in is never
committed. The caller answers the provider as soon as the method returns;
applying events to journeys is the event router's job, later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session

from herald.channels import email, infobip, twilio, whatsapp
from herald.channels.base import ChannelEvent
from herald.channels.email import EmailSettings
from herald.channels.infobip import InfobipSettings
from herald.channels.infobip_webhooks import SECRET_HEADER as INFOBIP_SECRET_HEADER
from herald.channels.twilio import TwilioSettings
from herald.channels.whatsapp import SubscriptionRefusedError, WhatsAppSettings
from herald.clock import Clock
from herald.domain.channels import IntegrationKind
from herald.errors import HeraldError, ValidationError
from herald.services.event_recorder import GroupCommitRecorder
from herald.services.webhook_credentials import Credential, SettingsT, WebhookCredentials
from herald.services.webhooks import IngestResult

logger = logging.getLogger(__name__)

MAX_FORM_FIELDS = 200  # Twilio sends about 30; more is not Twilio


class WebhookUnauthenticatedError(HeraldError):
    """The request carries no credential at all."""

    code = "webhook_unauthenticated"


class WebhookForbiddenError(HeraldError):
    """The request's signature or secret matches no integration."""

    code = "webhook_forbidden"


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook handler may look at: the bytes as they arrived.

    ``query_string`` is kept raw, percent-escapes and order untouched,
    because Twilio signs the URL exactly as it requested it.
    """

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query_string: str = ""

    def __post_init__(self) -> None:
        lowered = {name.lower(): value for name, value in self.headers.items()}
        object.__setattr__(self, "headers", lowered)

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value if value else None

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the first value of a repeated name wins."""
        params: dict[str, str] = {}
        for name, value in parse_qsl(self.query_string, keep_blank_values=True):
            params.setdefault(name, value)
        return params


@dataclass(frozen=True)
class GatherAnswer:
    result: IngestResult
    twiml: str


class WebhookIntake:
    """The webhook use cases; ``public_base_url`` is Herald's own, from settings."""

    def __init__(
        self,
        credentials: WebhookCredentials,
        clock: Clock,
        public_base_url: str | None,
        recorder: GroupCommitRecorder,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.public_base_url = public_base_url
        self.recorder = recorder

    # --- WhatsApp ------------------------------------------------------------------

    def whatsapp_challenge(self, session: Session, params: Mapping[str, str]) -> str:
        """The challenge to echo when the verify token is one of an active integration's."""
        accounts = self._accounts(session, IntegrationKind.WHATSAPP, WhatsAppSettings)
        answers: list[str] = []
        refusal: SubscriptionRefusedError | None = None
        for account in accounts:  # every token is compared, whichever matches
            try:
                answers.append(
                    whatsapp.verify_subscription(params, account.settings.webhook_verify_token)
                )
            except SubscriptionRefusedError as exc:
                refusal = exc
        if answers:
            return answers[0]
        message = refusal.message if refusal else "no active WhatsApp integration"
        field_name = refusal.field if refusal else "hub.verify_token"
        raise WebhookForbiddenError(f"subscription refused: {message}", field=field_name)

    def whatsapp(self, session: Session, request: WebhookRequest) -> IngestResult:
        signature = request.header(whatsapp.SIGNATURE_HEADER)
        if signature is None:
            raise _missing(whatsapp.SIGNATURE_HEADER)
        accounts = self._accounts(session, IntegrationKind.WHATSAPP, WhatsAppSettings)
        checks = [
            whatsapp.verify_signature(request.body, signature, account.settings.app_secret)
            for account in accounts
        ]
        if not any(checks):
            raise _mismatch(whatsapp.SIGNATURE_HEADER, "the app secret of", "WhatsApp", accounts)
        contents = whatsapp.read_webhook(request.body)
        for failure in contents.errors:
            logger.warning("WhatsApp reported error %s: %s", failure.code, failure.title)
        return self._record(session, contents.events)

    # --- Infobip -------------------------------------------------------------------

    def infobip_delivery(self, session: Session, request: WebhookRequest) -> IngestResult:
        self._infobip_account(session, request)
        return self._record(session, infobip.parse_delivery_reports(request.body))

    def infobip_inbound(self, session: Session, request: WebhookRequest) -> IngestResult:
        self._infobip_account(session, request)
        return self._record(session, infobip.parse_inbound(request.body))

    def _infobip_account(
        self, session: Session, request: WebhookRequest
    ) -> Credential[InfobipSettings]:
        offered = request.query.get("secret") or request.header(INFOBIP_SECRET_HEADER)
        if not offered and request.header("Authorization") is None:
            raise WebhookUnauthenticatedError(
                "the webhook secret is missing: pass ?secret=, basic auth or "
                f"{INFOBIP_SECRET_HEADER}",
                field="secret",
            )
        accounts = self._accounts(session, IntegrationKind.INFOBIP_SMS, InfobipSettings)
        checks = [
            infobip.verify_webhook_secret(
                account.settings.webhook_secret, headers=request.headers, query=request.query
            )
            for account in accounts
        ]
        return _first_match(accounts, checks, "secret", "the webhook secret of", "Infobip")

    # --- Twilio --------------------------------------------------------------------

    def twilio_status(self, session: Session, request: WebhookRequest) -> IngestResult:
        account, form = self._twilio_account(session, request, twilio.STATUS_PATH)
        events = twilio.parse_status_callback(
            form,
            query=request.query,
            received_at=self.clock.now(),
            machine_counts_as_delivered=account.settings.machine_counts_as_delivered,
        )
        return self._record(session, events)

    def twilio_gather(self, session: Session, request: WebhookRequest) -> GatherAnswer:
        """Store the key pressed and say goodbye (TwiML), in the call's language."""
        _account, form = self._twilio_account(session, request, twilio.GATHER_PATH)
        events = twilio.parse_gather(form, query=request.query, received_at=self.clock.now())
        result = self._record(session, events)
        return GatherAnswer(result, twilio.render_gather_reply(request.query))

    def _twilio_account(
        self, session: Session, request: WebhookRequest, path: str
    ) -> tuple[Credential[TwilioSettings], list[tuple[str, str]]]:
        signature = request.header(twilio.SIGNATURE_HEADER)
        if signature is None:
            raise _missing(twilio.SIGNATURE_HEADER)
        form = _form(request.body)
        account_sid = next((value for name, value in form if name == "AccountSid"), "")
        if not account_sid.strip():
            raise ValidationError("twilio: parameter AccountSid is missing", field="AccountSid")
        accounts = [
            account
            for account in self._accounts(session, IntegrationKind.TWILIO_VOICE, TwilioSettings)
            if account.settings.account_sid.lower() == account_sid.strip().lower()
        ]
        if not accounts:
            raise WebhookForbiddenError(
                f"no active Twilio integration has AccountSid {account_sid.strip()!r}",
                field="AccountSid",
            )
        checks = [
            any(
                twilio.verify_signature(url, form, signature, account.settings.auth_token)
                for url in self.twilio_urls(account.settings, path, request.query_string)
            )
            for account in accounts
        ]
        return _first_match(
            accounts, checks, twilio.SIGNATURE_HEADER, "the auth token and URL of", "Twilio"
        ), form

    def twilio_urls(self, settings: TwilioSettings, path: str, query_string: str) -> list[str]:
        """The public URLs Twilio may have called: Herald's base and the integration's.

        Both are configured, never taken from the request's Host header; the
        query string is appended byte for byte as received.
        """
        bases = [base for base in (self.public_base_url, settings.public_base_url) if base]
        suffix = f"{path}?{query_string}" if query_string else path
        return list(dict.fromkeys(base + suffix for base in bases))

    # --- email ---------------------------------------------------------------------

    def email_inbound(self, session: Session, request: WebhookRequest) -> IngestResult:
        account = self._email_account(session, request)
        events = email.parse_inbound(request.body, account.settings, received_at=self.clock.now())
        return self._record(session, events)

    def email_bounce(self, session: Session, request: WebhookRequest) -> IngestResult:
        account = self._email_account(session, request)
        events = email.parse_dsn(request.body, account.settings, received_at=self.clock.now())
        return self._record(session, events)

    def _email_account(
        self, session: Session, request: WebhookRequest
    ) -> Credential[EmailSettings]:
        header = email.WEBHOOK_SECRET_HEADER
        if request.header(header) is None and request.header("Authorization") is None:
            raise WebhookUnauthenticatedError(
                f"the webhook secret is missing: send it as basic auth password or {header}",
                field=header,
            )
        accounts = [
            account
            for account in self._accounts(session, IntegrationKind.EMAIL_SMTP, EmailSettings)
            if account.settings.inbound_webhook_secret is not None
        ]
        checks = [
            email.verify_webhook_secret(
                request.headers, _secret(account.settings.inbound_webhook_secret)
            )
            for account in accounts
        ]
        return _first_match(accounts, checks, header, "the inbound webhook secret of", "email")

    # --- shared --------------------------------------------------------------------

    def _accounts(
        self, session: Session, kind: IntegrationKind, model: type[SettingsT]
    ) -> list[Credential[SettingsT]]:
        return self.credentials.of_kind(session, kind, model)

    def _record(self, session: Session, events: Sequence[ChannelEvent]) -> IngestResult:
        # ``session`` only read the credentials; the events are committed by
        # the group-commit recorder together with other requests' events.
        return self.recorder.record(events)


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else ""


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(
            f"body is not an application/x-www-form-urlencoded form: {exc}", field="body"
        ) from exc


def _missing(header: str) -> WebhookUnauthenticatedError:
    return WebhookUnauthenticatedError(f"the {header} header is missing", field=header)


def _mismatch(
    where: str, what: str, provider: str, accounts: Sequence[object]
) -> WebhookForbiddenError:
    if not accounts:
        return WebhookForbiddenError(
            f"no active {provider} integration can accept this request", field=where
        )
    return WebhookForbiddenError(
        f"{where} does not match {what} any active {provider} integration", field=where
    )


def _first_match(
    accounts: Sequence[Credential[SettingsT]],
    checks: Sequence[bool],
    where: str,
    what: str,
    provider: str,
) -> Credential[SettingsT]:
    for account, ok in zip(accounts, checks, strict=True):
        if ok:
            return account
    raise _mismatch(where, what, provider, accounts)

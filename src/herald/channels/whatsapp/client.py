"""The WhatsApp Cloud API client: sends templates and text, checks credentials, lists templates.

One client per integration (business number) over the process's shared
aiohttp session. ``send`` never raises for anything the provider or the
network does; it returns a classified :data:`SendResult`.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from herald.channels.base import (
    ChannelClient,
    ConnectionCheck,
    OutboundMessage,
    ProviderFailure,
    SendResult,
    SendRetryable,
    SendTerminal,
    SendUnknown,
    WhatsAppTextContent,
)
from herald.channels.http import HttpAnswer, OutcomeUnknownError, ProviderHttp, RequestNotSentError
from herald.channels.whatsapp.classify import classify_send_answer
from herald.channels.whatsapp.payloads import build_message_body
from herald.channels.whatsapp.settings import WhatsAppSettings
from herald.channels.whatsapp.templates import (
    DEFAULT_MAX_PAGES,
    DEFAULT_PAGE_SIZE,
    TemplateList,
    TemplateListError,
    read_template_list,
)
from herald.channels.whatsapp.throttle import Throttle
from herald.clock import Clock, SystemClock
from herald.domain.channels import IntegrationKind
from herald.domain.service_window import is_window_open, window_closes_at

_WA = IntegrationKind.WHATSAPP


class WhatsAppClient:
    """Sends through one business number; see :func:`create_client`."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        session: aiohttp.ClientSession,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock or SystemClock()
        self._http = ProviderHttp(
            session,
            max_in_flight=settings.max_in_flight,
            timeout_seconds=settings.request_timeout_seconds,
        )
        self._throttle = Throttle(settings.rate_limit_per_second)
        token = settings.access_token.get_secret_value()
        self._headers = {"Authorization": f"Bearer {token}"}

    @property
    def kind(self) -> IntegrationKind:
        return _WA

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send a template (any time) or free-form text (inside the 24 h window only).

        Free-form text outside the window is refused here with the failure
        WhatsApp would report (131047), without calling the API. Content
        WhatsApp cannot carry raises :class:`herald.errors.ValidationError`:
        that is a bug in the caller, not a provider answer.
        """
        refusal = self._window_refusal(message)
        if refusal is not None:
            return refusal
        body = build_message_body(message)
        await self._throttle.acquire()
        try:
            answer = await self._http.request(
                "POST", self.settings.messages_url, headers=self._headers, json=body
            )
        except RequestNotSentError as exc:
            return SendRetryable(
                ProviderFailure(_WA, "not_sent", "WhatsApp API not reachable", str(exc))
            )
        except OutcomeUnknownError as exc:
            return SendUnknown(str(exc))
        return classify_send_answer(answer, now=self._clock.now())

    def _window_refusal(self, message: OutboundMessage) -> SendTerminal | None:
        content = message.content
        if not isinstance(content, WhatsAppTextContent):
            return None
        if is_window_open(content.last_inbound_at, self._clock.now()):
            return None
        closed = window_closes_at(content.last_inbound_at)
        detail = (
            "the person never wrote to this number"
            if closed is None
            else f"the 24-hour window closed at {closed.isoformat()}"
        )
        failure = ProviderFailure(
            _WA,
            "131047",
            "Re-engagement message",
            f"free-form text refused before sending: {detail}; send an approved template",
        )
        return SendTerminal(failure)

    async def check_connection(self) -> ConnectionCheck:
        """Read the phone number object with the token: proves token, id and permission."""
        try:
            answer = await self._http.request(
                "GET", self.settings.phone_number_url, headers=self._headers
            )
        except (RequestNotSentError, OutcomeUnknownError) as exc:
            return ConnectionCheck(False, f"cannot reach the WhatsApp API: {exc}")
        return describe_connection(answer)

    async def list_templates(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, max_pages: int = DEFAULT_MAX_PAGES
    ) -> TemplateList:
        """The business account's templates, every page up to ``max_pages``.

        Raises :class:`TemplateListError` when the API cannot be reached, refuses
        (a wrong token or account id) or answers something unreadable.
        """

        async def fetch(url: str) -> HttpAnswer:
            try:
                return await self._http.request("GET", url, headers=self._headers)
            except (RequestNotSentError, OutcomeUnknownError) as exc:
                raise TemplateListError(f"cannot reach the WhatsApp API: {exc}") from exc

        return await read_template_list(
            fetch, self.settings.templates_url, page_size=page_size, max_pages=max_pages
        )


def describe_connection(answer: HttpAnswer) -> ConnectionCheck:
    """Connected with the number's name and quality, or not with Meta's own reason."""
    try:
        data: Any = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return ConnectionCheck(False, f"unreadable answer (HTTP {answer.status})")
    error = data.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message") or "no message"
        return ConnectionCheck(False, f"WhatsApp error {code}: {message} (HTTP {answer.status})")
    if not 200 <= answer.status < 300:
        return ConnectionCheck(False, f"HTTP {answer.status} from the WhatsApp API")
    name = data.get("verified_name") or "unnamed business"
    number = data.get("display_phone_number") or data.get("id") or "unknown number"
    quality = data.get("quality_rating")
    suffix = f", quality {quality}" if quality else ""
    return ConnectionCheck(True, f"connected as {name} ({number}){suffix}")


def create_client(
    settings: WhatsAppSettings, session: aiohttp.ClientSession, *, clock: Clock | None = None
) -> ChannelClient:
    """The integration registry's entry point for ``whatsapp`` integrations.

    ``clock`` decides the 24-hour window check (a compressed clock in the demo).
    """
    return WhatsAppClient(settings, session, clock=clock)

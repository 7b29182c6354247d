"""The provider webhook routes: WhatsApp, Infobip, Twilio and inbound email.

The paths are the ones Herald's clients put in their requests (Infobip
``notifyUrl``, Twilio ``StatusCallback`` and ``<Gather action>``) and the
ones the sandbox posts to, under the public base URL. Each route only reads
the request and answers; :mod:`herald.services.webhook_intake` decides.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from herald.channels.infobip_webhooks import DELIVERY_PATH as INFOBIP_DELIVERY_PATH
from herald.channels.infobip_webhooks import INBOUND_PATH as INFOBIP_INBOUND_PATH
from herald.channels.twilio_webhooks import GATHER_PATH as TWILIO_GATHER_PATH
from herald.channels.twilio_webhooks import STATUS_PATH as TWILIO_STATUS_PATH
from herald.errors import HeraldError
from herald.services.container import Herald
from herald.services.webhook_intake import GatherAnswer
from herald.services.webhooks import IngestResult
from herald.web.deps import HeraldDep
from herald.web.webhooks.intake import get_intake, handle, ingest_summary, refusal

WHATSAPP_PATH = "/webhooks/whatsapp"
EMAIL_INBOUND_PATH = "/webhooks/email/inbound"
EMAIL_BOUNCE_PATH = "/webhooks/email/bounce"
PROVIDER_PATHS = (
    WHATSAPP_PATH,
    INFOBIP_DELIVERY_PATH,
    INFOBIP_INBOUND_PATH,
    TWILIO_STATUS_PATH,
    TWILIO_GATHER_PATH,
    EMAIL_INBOUND_PATH,
    EMAIL_BOUNCE_PATH,
)

router = APIRouter(tags=["webhooks"], include_in_schema=False)


def _new(result: IngestResult) -> int:
    return result.new


def _limit(herald: Herald) -> int:
    return herald.settings.webhook_max_body_bytes


def _email_limit(herald: Herald) -> int:
    return herald.settings.email_webhook_max_body_bytes


@router.get(WHATSAPP_PATH)
async def whatsapp_subscription(request: Request, herald: HeraldDep) -> Response:
    """Meta's handshake: echo ``hub.challenge`` when ``hub.verify_token`` is ours."""
    intake = get_intake(request)
    params = dict(request.query_params)

    def challenge() -> str:
        with herald.sessions() as session:
            return intake.whatsapp_challenge(session, params)

    try:
        answer = await run_in_threadpool(challenge)
    except HeraldError as exc:
        return refusal(exc, request.url.path)
    return PlainTextResponse(answer, headers={"X-Content-Type-Options": "nosniff"})


@router.post(WHATSAPP_PATH)
async def whatsapp_events(request: Request, herald: HeraldDep) -> Response:
    """Statuses and inbound messages, signed with ``X-Hub-Signature-256``."""
    intake = get_intake(request)
    return await handle(request, _limit(herald), intake.whatsapp, ingest_summary, _new)


@router.post(INFOBIP_DELIVERY_PATH)
async def infobip_delivery_reports(request: Request, herald: HeraldDep) -> Response:
    intake = get_intake(request)
    return await handle(request, _limit(herald), intake.infobip_delivery, ingest_summary, _new)


@router.post(INFOBIP_INBOUND_PATH)
async def infobip_inbound_sms(request: Request, herald: HeraldDep) -> Response:
    intake = get_intake(request)
    return await handle(request, _limit(herald), intake.infobip_inbound, ingest_summary, _new)


@router.post(TWILIO_STATUS_PATH)
async def twilio_status_callback(request: Request, herald: HeraldDep) -> Response:
    intake = get_intake(request)
    return await handle(request, _limit(herald), intake.twilio_status, ingest_summary, _new)


def _twiml(answer: GatherAnswer) -> Response:
    return Response(answer.twiml, media_type="text/xml")


@router.post(TWILIO_GATHER_PATH)
async def twilio_gather(request: Request, herald: HeraldDep) -> Response:
    """The key pressed during a call; answered with TwiML that ends the call politely."""
    intake = get_intake(request)
    return await handle(
        request, _limit(herald), intake.twilio_gather, _twiml, lambda a: a.result.new
    )


@router.post(EMAIL_INBOUND_PATH)
async def email_inbound(request: Request, herald: HeraldDep) -> Response:
    """A reply, as Postmark's inbound JSON or Herald's generic JSON."""
    intake = get_intake(request)
    return await handle(request, _email_limit(herald), intake.email_inbound, ingest_summary, _new)


@router.post(EMAIL_BOUNCE_PATH)
async def email_bounce(request: Request, herald: HeraldDep) -> Response:
    """A delivery status notification (RFC 3464), the raw message as the body."""
    intake = get_intake(request)
    return await handle(request, _email_limit(herald), intake.email_bounce, ingest_summary, _new)

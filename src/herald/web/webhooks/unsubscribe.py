"""The one-click unsubscribe link: ``GET`` and ``POST /u/{token}``.

RFC 8058: a mailbox provider POSTs ``List-Unsubscribe=One-Click``
(urlencoded or multipart) with no cookie and no confirmation, and the
address must be suppressed. A ``GET`` is what link scanners and prefetchers
send, so it only shows a page whose button makes that same POST; it never
changes anything.

The pages are deliberately plain: no script, no external resource, no
referrer (the token is in the URL) and no caching.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import Message

from herald.errors import HeraldError, NotFoundError, ValidationError
from herald.services.unsubscribe import UnsubscribeLinks
from herald.web.deps import HeraldDep
from herald.web.webhooks.intake import read_body, webhook_status

UNSUBSCRIBE_PATH = "/u/{token}"
MAX_BODY_BYTES = 64 * 1024
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}

router = APIRouter(tags=["unsubscribe"], include_in_schema=False)


def get_links(request: Request) -> UnsubscribeLinks:
    links = request.app.state.unsubscribe_links
    assert isinstance(links, UnsubscribeLinks)
    return links


@router.get(UNSUBSCRIBE_PATH, response_class=HTMLResponse)
async def confirm_page(token: str, request: Request, herald: HeraldDep) -> HTMLResponse:
    """Ask for confirmation; the address is shown masked."""
    links = get_links(request)

    def read() -> str:
        with herald.sessions() as session:
            return links.read(session, token).address

    try:
        address = await run_in_threadpool(read)
    except HeraldError as exc:
        return _refused(exc)
    body = (
        f"<p>Stop all email to <strong>{escape(mask_address(address))}</strong>?</p>"
        '<form method="post">'
        f'<input type="hidden" name="{ONE_CLICK_FIELD}" value="{ONE_CLICK_VALUE}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page(200, "Unsubscribe", body)


@router.post(UNSUBSCRIBE_PATH, response_class=HTMLResponse)
async def one_click(token: str, request: Request, herald: HeraldDep) -> HTMLResponse:
    """Suppress the address (every channel) and confirm; repeating it changes nothing."""
    links = get_links(request)
    try:
        await _require_one_click(request)

        def unsubscribe() -> str:
            with herald.sessions() as session:
                return links.unsubscribe(session, token).entry.address

        address = await run_in_threadpool(unsubscribe)
    except HeraldError as exc:
        return _refused(exc)
    body = (
        f"<p><strong>{escape(mask_address(address))}</strong> will receive no more email "
        "from us.</p>"
    )
    return _page(200, "You are unsubscribed", body)


async def _require_one_click(request: Request) -> None:
    body = await read_body(request, MAX_BODY_BYTES)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await StarletteRequest(request.scope, replay).form(max_files=0, max_fields=20)
    except StarletteHTTPException as exc:
        raise _not_one_click(f"the form cannot be read: {exc.detail}") from exc
    if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        raise _not_one_click(f"the body must be {ONE_CLICK_FIELD}={ONE_CLICK_VALUE}")


def _not_one_click(message: str) -> ValidationError:
    return ValidationError(message, field=ONE_CLICK_FIELD)


def mask_address(address: str) -> str:
    """``ana.ruiz@example.org`` → ``a•••@example.org``: enough to recognise, not to harvest."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "•••"
    return f"{local[:1]}•••@{domain}"


def _refused(exc: HeraldError) -> HTMLResponse:
    status = webhook_status(exc)
    if isinstance(exc, NotFoundError):
        text = "This unsubscribe link is not valid. Please use the link in the email itself."
        return _page(status, "Link not valid", f"<p>{escape(text)}</p>")
    return _page(status, "Request not understood", f"<p>{escape(exc.message)}</p>")


def _page(status: int, title: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1.25rem}</style>"
        f"</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

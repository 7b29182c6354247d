"""Listing an account's templates: the sandbox's list over HTTP and the client reading it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from herald.channels.http import create_client_session
from herald.channels.sandbox.scenario import Scenario
from herald.channels.sandbox.server import SandboxServer
from herald.channels.sandbox.whatsapp_catalogue import catalogue_entries
from herald.channels.whatsapp import (
    TemplateListError,
    WhatsAppClient,
    WhatsAppSettings,
)

CREDENTIALS = Scenario().credentials
WABA = CREDENTIALS.whatsapp_business_account_id


def _settings(base_url: str, **overrides: Any) -> WhatsAppSettings:
    data: dict[str, Any] = {
        "graph_base_url": base_url,
        "phone_number_id": CREDENTIALS.whatsapp_phone_number_id,
        "waba_id": WABA,
        "access_token": CREDENTIALS.whatsapp_access_token,
        "app_secret": CREDENTIALS.whatsapp_app_secret,
        "webhook_verify_token": "herald-verify",
    }
    return WhatsAppSettings.model_validate(data | overrides)


Body = Callable[[aiohttp.ClientSession, SandboxServer], Awaitable[None]]


def _run(body: Body) -> None:
    async def run() -> None:
        async with SandboxServer() as sandbox, create_client_session() as session:
            await body(session, sandbox)

    asyncio.run(run())


async def _get(session: aiohttp.ClientSession, url: str, token: str | None = None) -> Any:
    token = CREDENTIALS.whatsapp_access_token if token is None else token
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


def test_the_sandbox_pages_its_catalogue_with_cursors() -> None:
    async def body(session: aiohttp.ClientSession, sandbox: SandboxServer) -> None:
        url = f"{sandbox.base_url}/v21.0/{WABA}/message_templates"
        status, first = await _get(session, url + "?limit=4")
        assert status == 200
        assert len(first["data"]) == 4
        assert first["paging"]["next"].startswith(url)
        seen = [(item["name"], item["language"]) for item in first["data"]]
        after = first["paging"]["cursors"]["after"]
        while after:
            status, page = await _get(session, f"{url}?limit=4&after={after}")
            assert status == 200
            seen += [(item["name"], item["language"]) for item in page["data"]]
            after = page["paging"]["cursors"]["after"] if "next" in page["paging"] else None
        assert seen == [(item["name"], item["language"]) for item in catalogue_entries()]
        assert len(seen) == len(set(seen))
        statuses = {item["status"] for item in catalogue_entries()}
        assert statuses == {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"}
        assert {"en", "es", "pt_BR", "en_US"} <= {language for _name, language in seen}

    _run(body)


@pytest.mark.parametrize(
    ("path", "token", "status", "code"),
    [
        (f"/v21.0/{WABA}/message_templates", "wrong-token", 401, 190),
        (f"/v21.0/{WABA}/message_templates", "", 401, 190),
        ("/v21.0/999/message_templates", None, 400, 100),
        (f"/v21.0/{WABA}/message_templates?limit=0", None, 400, 100),
        (f"/v21.0/{WABA}/message_templates?limit=abc", None, 400, 100),
        (f"/v21.0/{WABA}/message_templates?after=bm90LWEtY3Vyc29y", None, 400, 100),
    ],
)
def test_the_sandbox_refuses_like_the_graph_api(
    path: str, token: str | None, status: int, code: int
) -> None:
    async def body(session: aiohttp.ClientSession, sandbox: SandboxServer) -> None:
        got_status, answer = await _get(session, sandbox.base_url + path, token)
        assert (got_status, answer["error"]["code"]) == (status, code)
        assert answer["error"]["fbtrace_id"]

    _run(body)


def test_the_client_reads_every_page_into_typed_templates() -> None:
    async def body(session: aiohttp.ClientSession, sandbox: SandboxServer) -> None:
        client = WhatsAppClient(_settings(sandbox.base_url), session)
        listed = await client.list_templates(page_size=3)
        assert listed.is_complete
        assert listed.pages == -(-len(catalogue_entries()) // 3)
        by_key = {(item.name, item.language): item for item in listed.templates}
        assert len(by_key) == len(catalogue_entries())
        reminder = by_key["appointment_reminder", "es"]
        assert (reminder.status, reminder.category) == ("APPROVED", "UTILITY")
        assert reminder.body_parameters == 2
        assert "{{1}}" in reminder.body_text and "{{2}}" in reminder.body_text
        assert by_key["order_update", "en"].header_format == "IMAGE"
        assert by_key["shipping_update", "en"].header_format == "TEXT"
        assert by_key["shipping_update", "en"].header_parameters == 1
        assert by_key["order_update", "en"].has_media_header
        assert by_key["hello_world", "en_US"].body_parameters == 0
        assert by_key["spring_sale", "es"].status == "PAUSED"
        assert by_key["feedback_survey", "en"].status == "PENDING"

    _run(body)


def test_the_client_stops_at_its_page_bound() -> None:
    async def body(session: aiohttp.ClientSession, sandbox: SandboxServer) -> None:
        client = WhatsAppClient(_settings(sandbox.base_url), session)
        listed = await client.list_templates(page_size=2, max_pages=2)
        assert not listed.is_complete
        assert (listed.pages, len(listed.templates)) == (2, 4)

    _run(body)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"access_token": "expired-token"}, "WhatsApp error 190"),
        ({"waba_id": "123"}, "WhatsApp error 100"),
    ],
)
def test_refusals_raise_with_metas_reason(overrides: dict[str, Any], reason: str) -> None:
    async def body(session: aiohttp.ClientSession, sandbox: SandboxServer) -> None:
        client = WhatsAppClient(_settings(sandbox.base_url, **overrides), session)
        with pytest.raises(TemplateListError, match=reason):
            await client.list_templates()

    _run(body)


async def _serve(answers: list[tuple[int, str]], run: Callable[[str], Awaitable[None]]) -> None:
    """A server answering the given bodies in turn."""
    queue = list(answers)

    async def handle(request: web.Request) -> web.Response:
        status, text = queue.pop(0)
        return web.Response(status=status, text=text, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await run(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ([(200, "<html>")], "unreadable answer"),
        ([(200, '{"templates": []}')], "no 'data' list"),
        ([(200, '{"data": [{"name": "x", "status": "APPROVED"}]}')], "'language' is missing"),
        ([(200, '{"data": [5]}')], "page 1, item 1: expected an object"),
        ([(200, '{"data": [], "paging": {"next": "http://elsewhere/"}}')], "gives no cursor"),
        ([(502, '{"oops": true}')], "HTTP 502"),
    ],
)
def test_malformed_answers_raise_naming_what_is_wrong(
    answers: list[tuple[int, str]], reason: str
) -> None:
    async def run(base_url: str) -> None:
        async with create_client_session() as session:
            client = WhatsAppClient(_settings(base_url), session)
            with pytest.raises(TemplateListError, match=reason):
                await client.list_templates()

    asyncio.run(_serve(answers, run))


def test_an_unreachable_api_raises() -> None:
    async def run() -> None:
        async with create_client_session() as session:
            client = WhatsAppClient(_settings("http://127.0.0.1:9"), session)
            with pytest.raises(TemplateListError, match="cannot reach"):
                await client.list_templates()

    asyncio.run(run())

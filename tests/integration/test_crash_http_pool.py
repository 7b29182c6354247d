"""A busy worker process queues its sends; it does not mistake the queue for a dead provider.

Found by the crash test: the workers' shared HTTP session had aiohttp's
default limit of 100 connections while each provider client allows 200
requests in flight, so requests waited inside aiohttp for a connection and
that wait counted against the 5-second connect timeout. Under load, sends
that had only waited their turn failed as "cannot connect" and were retried.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from herald.channels import http as provider_http
from herald.channels.http import ProviderHttp, create_client_session

CLIENTS = 2
IN_FLIGHT_PER_CLIENT = 150
ANSWER_SECONDS = 2.5


def test_requests_beyond_any_pool_size_wait_for_their_client_slot_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_http, "CONNECT_TIMEOUT_SECONDS", 1.0)

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(ANSWER_SECONDS)
        return web.json_response({})

    async def run() -> list[int]:
        app = web.Application()
        app.router.add_post("/x", slow)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)  # all connect at once
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with create_client_session() as session:
                clients = [
                    ProviderHttp(session, max_in_flight=IN_FLIGHT_PER_CLIENT)
                    for _ in range(CLIENTS)
                ]
                answers = await asyncio.gather(
                    *(
                        client.request("POST", f"http://127.0.0.1:{port}/x")
                        for client in clients
                        for _ in range(IN_FLIGHT_PER_CLIENT)
                    )
                )
        finally:
            await runner.cleanup()
        return [answer.status for answer in answers]

    assert asyncio.run(run()) == [200] * (CLIENTS * IN_FLIGHT_PER_CLIENT)

"""The shared provider transport: timeouts, connection errors, bounded concurrency."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from herald.channels.http import (
    OutcomeUnknownError,
    ProviderHttp,
    RequestNotSentError,
    create_client_session,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/x", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/x"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert isinstance(port, int)
        return port


def test_answers_come_back_with_status_and_body() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.json()}, status=201)

    async def run() -> None:
        runner, url = await _serve(handler)
        async with create_client_session() as session:
            answer = await ProviderHttp(session).request("POST", url, json={"a": 1})
        await runner.cleanup()
        assert answer.status == 201
        assert answer.json() == {"got": {"a": 1}}

    asyncio.run(run())


def test_refused_connection_means_the_request_was_not_sent() -> None:
    async def run() -> None:
        async with create_client_session() as session:
            with pytest.raises(RequestNotSentError):
                await ProviderHttp(session).request("POST", f"http://127.0.0.1:{_free_port()}/x")

    asyncio.run(run())


def test_read_timeout_means_the_outcome_is_unknown() -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.Response()

    async def run() -> None:
        runner, url = await _serve(slow)
        async with create_client_session() as session:
            with pytest.raises(OutcomeUnknownError, match="no answer"):
                await ProviderHttp(session, timeout_seconds=0.2).request("POST", url)
        await runner.cleanup()

    asyncio.run(run())


def test_in_flight_requests_are_bounded() -> None:
    in_flight = 0
    peak = 0

    async def handler(_request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return web.Response()

    async def run() -> None:
        runner, url = await _serve(handler)
        async with create_client_session() as session:
            http = ProviderHttp(session, max_in_flight=3)
            await asyncio.gather(*(http.request("GET", url) for _ in range(12)))
        await runner.cleanup()

    asyncio.run(run())
    assert peak == 3


def test_a_connection_dropped_without_answer_is_retried_once_then_unknown() -> None:
    calls = 0

    async def drop(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    async def run() -> None:
        runner, url = await _serve(drop)
        async with create_client_session() as session:
            with pytest.raises(OutcomeUnknownError):
                await ProviderHttp(session).request("POST", url)
        await runner.cleanup()

    asyncio.run(run())
    assert calls == 2

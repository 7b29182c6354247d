"""The sandbox's shared machinery: server lifecycle, webhooks, log, scenarios."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from herald.channels.sandbox.log import AcceptedSend, SandboxLog
from herald.channels.sandbox.scenario import Scenario, load_scenario
from herald.channels.sandbox.server import SandboxServer, ThreadedSandbox
from herald.errors import ValidationError


async def _receiver(received: list[bytes], statuses: list[int]) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


def test_server_answers_health_and_log_on_loopback() -> None:
    async def scenario() -> None:
        async with SandboxServer() as sandbox, aiohttp.ClientSession() as session:
            assert sandbox.base_url.startswith("http://127.0.0.1:")
            async with session.get(sandbox.base_url + "/_sandbox/health") as response:
                assert (await response.json()) == {"status": "ok"}
            async with session.get(sandbox.base_url + "/_sandbox/log") as response:
                body = await response.json()
            assert body["summary"]["accepted"] == 0
            assert body["sends"] == []

    asyncio.run(scenario())


def test_webhooks_are_delivered_and_retried_after_server_errors() -> None:
    async def scenario() -> None:
        received: list[bytes] = []
        runner, url = await _receiver(received, statuses=[503, 200])
        try:
            async with SandboxServer() as sandbox:
                assert sandbox.context is not None
                sandbox.context.webhooks.schedule(url, b'{"n": 1}', {"X-Test": "1"})
                await sandbox.drain()
                assert received == [b'{"n": 1}', b'{"n": 1}']
                assert sandbox.log.webhooks_delivered == 1
                assert sandbox.log.webhooks_failed == 0
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_threaded_sandbox_serves_synchronous_callers() -> None:
    with ThreadedSandbox() as sandbox:
        response = _get(sandbox.base_url + "/_sandbox/health")
    assert response == {"status": "ok"}


def _get(url: str) -> object:
    async def fetch() -> object:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.json()

    return asyncio.run(fetch())


def test_log_reports_duplicate_correlation_keys(tmp_path: Path) -> None:
    log = SandboxLog(tmp_path / "sends.jsonl")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for key in ("c1:j1:s0", "c1:j2:s0", "c1:j1:s0"):
        log.record_send(AcceptedSend("whatsapp", "+34600111222", key, "wamid.x", at))
    assert log.duplicate_keys() == {"c1:j1:s0": 2}
    assert len((tmp_path / "sends.jsonl").read_text().splitlines()) == 3


def test_scenario_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("whatsapp:\n  reject_rate: 1.5\n")
    with pytest.raises(ValidationError, match=r"whatsapp\.reject_rate"):
        load_scenario(path)
    path.write_text(
        "seed: 7\ntime_compression: 86400\nsms:\n  rules:\n    - match: '+1555'\n      fail: '1'\n"
    )
    scenario = load_scenario(path)
    assert scenario.seconds(86400) == pytest.approx(1.0)
    rule = scenario.sms.rule_for("+15550001111")
    assert rule is not None and rule.fail == "1"
    assert Scenario().sms.rule_for("+15550001111") is None

"""A loopback HTTP server standing in for Herald's webhook endpoints in tests.

It records every request exactly as it arrived (raw URL, headers, body) so
tests can run Herald's verify and parse functions on what the sandbox sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from herald.channels.twilio import render_gather_reply


@dataclass(frozen=True)
class Received:
    url: str  # as requested, query string byte for byte (what Twilio signs)
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    def field(self, name: str) -> str:
        return dict(self.form())[name]


class RecordingReceiver:
    """``async with RecordingReceiver() as receiver:`` then ``receiver.base_url``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        url = f"{self.base_url}{request.raw_path}"
        self.received.append(Received(url, dict(request.headers), await request.read()))
        if request.path.endswith("/twilio/gather"):
            reply = render_gather_reply(dict(request.query))
            return web.Response(text=reply, content_type="text/xml")
        return web.Response(text="ok")

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def __aenter__(self) -> RecordingReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def serve_fixed(status: int, body: bytes, content_type: str) -> tuple[web.AppRunner, str]:
    """A server answering every request with the same (often broken) answer."""

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"

"""Browser sessions in signed cookies.

The cookie holds a small JSON object signed with HMAC (itsdangerous): the
user id and session version, when the session began and was last seen,
and the CSRF token. Nothing in it is secret, and nothing in it can be
changed without the signing key. The server keeps no session table; a
session ends when:

* it is older than ``session_max_age_seconds`` (absolute expiry),
* it was not used for ``session_idle_seconds`` (idle expiry),
* the user's session version moved on (logout, password change,
  deactivation; checked by :mod:`herald.web.auth` on every request).

Cookies are ``HttpOnly`` and ``SameSite=Lax``; behind an https public URL
they are ``Secure`` and use the ``__Host-`` name prefix, which browsers only
accept from a secure origin for the whole host.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.clock import Clock
from herald.domain.access import SessionPolicy, session_expired
from herald.web.csrf import new_csrf_token

COOKIE_NAME = "herald_session"
SECURE_COOKIE_NAME = "__Host-herald_session"
SCOPE_KEY = "herald.session"
_SALT = "herald.session.v1"


class BrowserSession:
    """The session of one request. Changes are written back as a cookie."""

    def __init__(self, payload: dict[str, Any] | None = None, *, expired: bool = False) -> None:
        self._payload: dict[str, Any] = dict(payload or {})
        self.modified = False
        self.expired = expired  # a signed-in session ended by age or idleness

    @property
    def user_id(self) -> int | None:
        return _int(self._payload.get("u"))

    @property
    def session_version(self) -> int | None:
        return _int(self._payload.get("v"))

    @property
    def issued_at(self) -> datetime | None:
        return _time(self._payload.get("i"))

    @property
    def last_seen_at(self) -> datetime | None:
        return _time(self._payload.get("s"))

    def csrf_token(self, now: datetime) -> str:
        """The token forms must send back; made on first use."""
        token = self._payload.get("c")
        if not isinstance(token, str) or not token:
            token = new_csrf_token()
            self._update({"c": token} | ({} if "i" in self._payload else {"i": _epoch(now)}))
        return token

    def peek_csrf_token(self) -> str | None:
        token = self._payload.get("c")
        return token if isinstance(token, str) and token else None

    def log_in(self, user_id: int, session_version: int, now: datetime) -> None:
        """Start a signed-in session, with a fresh CSRF token: none from before survives."""
        self._payload = {}
        self._update(
            {"u": user_id, "v": session_version, "i": _epoch(now), "s": _epoch(now)}
            | {"c": new_csrf_token()}
        )

    def log_out(self, now: datetime) -> None:
        self._payload = {}
        self._update({"c": new_csrf_token(), "i": _epoch(now)})

    def forget_user(self) -> None:
        """Drop the user but keep the CSRF token, so an open form can still log in."""
        kept: dict[str, Any] = {k: self._payload[k] for k in ("c", "i") if k in self._payload}
        self._payload = kept
        self.modified = True

    def touch(self, now: datetime) -> None:
        self._update({"s": _epoch(now)})

    def payload(self) -> dict[str, Any]:
        return dict(self._payload)

    def _update(self, values: dict[str, Any]) -> None:
        self._payload.update(values)
        self.modified = True


class SessionCookies:
    """Reads and writes session cookies with rotating keys (the first signs)."""

    def __init__(self, secrets: list[str], policy: SessionPolicy, *, secure: bool) -> None:
        if not secrets:
            raise ValueError("at least one session secret is needed")
        # itsdangerous signs with the last key of the list and verifies with all.
        self._serializer = URLSafeSerializer(list(reversed(secrets)), salt=_SALT)
        self.policy = policy
        self.secure = secure
        self.name = SECURE_COOKIE_NAME if secure else COOKIE_NAME

    def load(self, value: str | None, now: datetime) -> BrowserSession:
        if not value:
            return BrowserSession()
        try:
            payload = self._serializer.loads(value)
        except BadData:
            return BrowserSession()
        if not isinstance(payload, dict):
            return BrowserSession()
        return self._expire(BrowserSession(payload), now)

    def dump(self, session: BrowserSession) -> str:
        return str(self._serializer.dumps(session.payload()))

    def set_cookie_header(self, session: BrowserSession) -> str:
        parts = [
            f"{self.name}={self.dump(session)}",
            "Path=/",
            f"Max-Age={int(self.policy.max_age.total_seconds())}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def _expire(self, session: BrowserSession, now: datetime) -> BrowserSession:
        issued, seen = session.issued_at, session.last_seen_at
        if session.user_id is not None:
            if issued is None or seen is None or session_expired(issued, seen, now, self.policy):
                session.forget_user()
                session.expired = True
        elif issued is None or now - issued >= self.policy.max_age:
            # An anonymous session only carries a CSRF token; renew it now and then.
            session.log_out(now)
        return session


class SessionMiddleware:
    """Puts the request's :class:`BrowserSession` in the scope; writes it back if changed."""

    def __init__(self, app: ASGIApp, cookies: SessionCookies, clock: Clock) -> None:
        self.app = app
        self.cookies = cookies
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        session = self.cookies.load(connection.cookies.get(self.cookies.name), self.clock.now())
        scope[SCOPE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", self.cookies.set_cookie_header(session))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def browser_session(connection: HTTPConnection) -> BrowserSession:
    """The session of this request (an empty one outside :class:`SessionMiddleware`)."""
    session = connection.scope.get(SCOPE_KEY)
    if not isinstance(session, BrowserSession):
        session = BrowserSession()
        connection.scope[SCOPE_KEY] = session
    return session


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""The web pages' protections (spec 12; docs/web.md says what each is and why):

- `SecurityHeaders`: every answer outside /api/ carries a Content-Security-Policy that allows
  scripts, styles, images and form targets from this app only (no inline script), plus
  X-Frame-Options DENY, Referrer-Policy same-origin and X-Content-Type-Options nosniff.
- `Sessions`: Starlette's SessionMiddleware (the cookie is the session's JSON, signed with
  itsdangerous' TimestampSigner: HMAC-SHA1 over the content and a timestamp), HttpOnly,
  SameSite=Lax, Secure when the public URL is https, Max-Age OMS_SESSION_HOURS. Its key is
  read from the database (migration 0015 makes it, shared by every process) at the first
  request, or from OMS_SESSION_SECRET.
- `check_change`: a form that changes something must come from this app's own origin (Origin,
  else Referer) and carry the session's CSRF token; else 403 and nothing changed.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import structlog
from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
COOKIE = "oms_session"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
NO_SESSION = ("/api/", "/healthz", "/static/")  # answers that never read or write a session
log = structlog.get_logger("web.security")


class SecurityHeaders:
    """Adds HEADERS to every answer whose path is not under /api/ (the JSON API and its
    Swagger page keep their own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if scope["path"].startswith(("/portal/", "/login", "/logout")):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


class Sessions:
    """SessionMiddleware built at the first request, when the signing key can be read."""

    def __init__(
        self, app: ASGIApp, *, secret: Callable[[], str], max_age: int, https_only: bool
    ) -> None:
        self.app = app
        self._secret = secret
        self._max_age = max_age
        self._https_only = https_only
        self._inner: SessionMiddleware | None = None
        self._lock = threading.Lock()

    def _middleware(self) -> SessionMiddleware:
        with self._lock:
            if self._inner is None:
                self._inner = SessionMiddleware(
                    self.app,
                    secret_key=os.environ.get("OMS_SESSION_SECRET") or self._secret(),
                    session_cookie=COOKIE,
                    max_age=self._max_age,
                    same_site="lax",
                    https_only=self._https_only,
                )
            return self._inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not path or path.startswith(NO_SESSION):
            await self.app(scope, receive, send)  # the API authenticates by key, not cookie
            return
        try:
            middleware = await to_thread.run_sync(self._middleware)
        except SQLAlchemyError as error:  # the key could not be read: the database is down
            log.warning("web.database_unavailable", error=type(error).__name__)
            answer = PlainTextResponse("database unavailable; try again shortly", 503)
            await answer(scope, receive, send)
            return
        await middleware(scope, receive, send)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use; a login makes a new one)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def expected_origin(request: Request, public_url: str | None) -> str:
    if public_url:
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}".lower()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request, public_url: str | None) -> bool:
    """The browser says where the form was: Origin (sent with every POST by current
    browsers), else Referer. A post from another site is refused; one that names neither is
    left to the CSRF token alone (some proxies strip both)."""
    expected = expected_origin(request, public_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == expected
    referer = request.headers.get("referer")
    if referer is not None:
        return _origin_of(referer) == expected
    return True


def valid_csrf(request: Request, submitted: object) -> bool:
    token = request.session.get(CSRF_KEY)
    return (
        isinstance(token, str)
        and bool(token)
        and isinstance(submitted, str)
        and hmac.compare_digest(token.encode(), submitted.encode())
    )

"""Puts the web interface into the API's app (spec 12: one process serves both): static assets
at /static/, the login pages and `/`, the portal under /portal/, the error pages, the session
cookie and the security headers. The back office will add its router here."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from adapters.persistence.users import session_secret
from api.context import ApiContext
from web import auth
from web.auth import LoginRequired, WebError, login_redirect
from web.portal import router as portal
from web.rendering import STATIC, render
from web.security import SecurityHeaders, Sessions


def install(app: FastAPI, ctx: ApiContext) -> None:
    """Routes and error pages (the middleware: add_sessions, add_headers)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    app.include_router(auth.router)
    app.include_router(portal.router)

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, error: LoginRequired) -> Response:
        return login_redirect(error.next_path)

    @app.exception_handler(WebError)
    async def _error(request: Request, error: WebError) -> Response:
        return render(
            request, "error.html", status_code=error.status, title=error.title,
            message=error.message,
        )  # fmt: skip


def add_sessions(app: FastAPI, ctx: ApiContext) -> None:
    """The session cookie (inside the host and body guards)."""
    public = ctx.settings.api_public_url or ""
    app.add_middleware(
        Sessions,
        secret=lambda: session_secret(ctx.engine),
        max_age=ctx.settings.session_hours * 3600,
        https_only=public.startswith("https://"),
    )


def add_headers(app: FastAPI) -> None:
    """The security headers (outside the guards: their refusals carry them too)."""
    app.add_middleware(SecurityHeaders)

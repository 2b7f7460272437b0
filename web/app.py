"""Puts the web interface into the API's app (spec 12: one process serves both): static assets
at /static/, the login pages and `/`, the portal under /portal/, the error pages, the session
cookie and the security headers. The Back Office's areas are under /backoffice/."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from adapters.messaging.publisher import BrokerUnavailable
from adapters.persistence.users import session_secret
from api.context import ApiContext
from api.params import no_unknown_query
from web import auth
from web.auth import LoginRequired, WebError, login_redirect
from web.backoffice import dead_letters as bo_dead_letters
from web.backoffice import merchants as bo_merchants
from web.backoffice import orders as bo_orders
from web.backoffice import packages as bo_packages
from web.backoffice import queues as bo_queues
from web.backoffice import reservations as bo_reservations
from web.portal import router as portal
from web.rendering import STATIC, render
from web.security import SecurityHeaders, Sessions

NOT_FOUND = "There is no page at this address. Start again from your order list."
UNAVAILABLE: dict[type[Exception], str] = {
    OperationalError: "database",
    InterfaceError: "database",
    PoolTimeout: "database",
    BrokerUnavailable: "message broker",
}
BAD_REQUEST = "This address holds a value the page cannot read (a page number, a date, an id)."


async def _answer(answer: Response | Awaitable[Response]) -> Response:
    return await answer if inspect.isawaitable(answer) else answer


def install(app: FastAPI, ctx: ApiContext) -> None:
    """Routes and error pages (the middleware: add_sessions, add_headers)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    checked = [Depends(no_unknown_query)]  # pages need no key: the check is their dependency
    app.include_router(auth.router, dependencies=checked)
    app.include_router(portal.router, dependencies=checked)
    for area in (bo_orders, bo_packages, bo_merchants, bo_reservations, bo_dead_letters, bo_queues):
        app.include_router(area.router, dependencies=checked)

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, error: LoginRequired) -> Response:
        return login_redirect(error.next_path)

    @app.exception_handler(WebError)
    async def _error(request: Request, error: WebError) -> Response:
        return render(
            request, "error.html", status_code=error.status, title=error.title,
            message=error.message,
        )  # fmt: skip

    # outside /api/ and /healthz, the API's JSON errors become pages
    json_http = app.exception_handlers[StarletteHTTPException]
    json_invalid = app.exception_handlers[RequestValidationError]

    def _api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/healthz"

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if _api(request):
            return await _answer(json_http(request, error))
        if error.status_code == 404:
            return await _error(request, WebError(404, "Page not found", NOT_FOUND))
        title = "Not allowed" if error.status_code == 405 else "Request refused"
        return await _error(request, WebError(error.status_code, title, str(error.detail)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if _api(request):
            return await _answer(json_invalid(request, error))
        return await _error(request, WebError(400, "Bad request", BAD_REQUEST))

    for kind, what in UNAVAILABLE.items():
        _unavailable_page(app, kind, what, _api)


def _unavailable_page(
    app: FastAPI, kind: type[Exception], what: str, is_api: Callable[[Request], bool]
) -> None:
    """The API's 503 for a service that is down stays JSON; a page answers a 503 page."""
    json_handler = app.exception_handlers[kind]

    async def handler(request: Request, error: Exception) -> Response:
        answer = await _answer(json_handler(request, error))
        if is_api(request):
            return answer
        message = f"The {what} does not answer. Nothing was changed; try again in a moment."
        return render(request, "error.html", status_code=503, title="Unavailable", message=message)

    app.add_exception_handler(kind, handler)


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

"""Logging in and out, and who a request is (spec 12). The session cookie holds the user's id,
when it was issued, a random session id and the CSRF token; every request reads the user again
by primary key (with the ended sessions), so a disabled user, a session issued before a password
change, one older than OMS_SESSION_HOURS or one ended by logging out is refused at its next
request, not when the cookie runs out."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

import structlog
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from adapters.persistence.users import User, authenticate, end_session
from adapters.persistence.users import session_user as find_session_user
from api.context import ApiContext, context
from web.rendering import render
from web.security import CSRF_FIELD, same_origin, valid_csrf

log = structlog.get_logger("web.auth")
router = APIRouter(include_in_schema=False)
FAILED = (
    "The user name or password is wrong, or this user name is locked for 15 minutes after "
    "10 failed logins in a row."
)
MAX_FIELD = 1024


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the login page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class WebError(Exception):
    """An error page with this status and message (404, 403, 400)."""

    def __init__(self, status: int, title: str, message: str):
        self.status = status
        self.title = title
        self.message = message
        super().__init__(message)


def refused_change() -> WebError:
    return WebError(
        403,
        "Not allowed",
        "This form was not sent from this site's own page, or its security token is missing "
        "or stale. Nothing was changed: reload the page and try again.",
    )


def session_hours(ctx: ApiContext) -> float:
    return ctx.settings.session_hours


def session_user(request: Request, ctx: ApiContext) -> User | None:
    """The live user of this session, or None (and the session cleared)."""
    user_id, issued = request.session.get("user_id"), request.session.get("issued")
    session_id = request.session.get("sid")
    if not isinstance(user_id, int) or not isinstance(issued, int | float):
        return None
    if not isinstance(session_id, str) or time.time() - issued > session_hours(ctx) * 3600:
        request.session.clear()
        return None
    user = find_session_user(ctx.engine, user_id, session_id)
    if (
        user is None
        or user.disabled_at is not None
        or user.password_changed_at.timestamp() > issued + 1
    ):
        request.session.clear()
        return None
    return user


def _next_path(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def require_user(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> User:
    user = session_user(request, ctx)
    if user is None:
        raise LoginRequired(_next_path(request))
    request.state.user = user
    return user


def require_merchant(user: Annotated[User, Depends(require_user)]) -> User:
    if user.is_operator or user.merchant_reference is None:
        raise WebError(403, "Merchant users only", "The merchant portal is for merchant users.")
    return user


async def check_change(request: Request, ctx: ApiContext) -> dict[str, str]:
    """The form's fields, when it came from this app with the session's CSRF token; else
    WebError 403 (before anything is read or changed)."""
    if not same_origin(request, ctx.settings.api_public_url):
        log.warning("web.cross_site_post", path=request.url.path)
        raise refused_change()
    form = await request.form(max_files=0, max_fields=50)
    fields = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= MAX_FIELD}
    if not valid_csrf(request, fields.pop(CSRF_FIELD, None)):
        log.warning("web.csrf_refused", path=request.url.path)
        raise refused_change()
    return fields


def safe_next(value: str | None) -> str:
    """Only a path of this app (no scheme, no host, no //): never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/")
def home(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Response:
    user = session_user(request, ctx)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.is_operator:
        request.state.user = user
        return render(request, "operator_home.html")
    return RedirectResponse("/portal/", status_code=303)


@router.get("/login")
def login_page(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    if session_user(request, ctx) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), error=None, username="")


@router.post("/login")
async def login(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Response:
    fields = await check_change(request, ctx)
    username = fields.get("username", "").strip()[:150]
    password = fields.get("password", "")
    target = safe_next(fields.get("next"))
    result = await to_thread.run_sync(authenticate, ctx.engine, username, password)
    if result.user is None:
        log.info("web.login_failed", locked=result.locked)  # never the name or the password
        return render(
            request, "login.html", status_code=200, next=target, error=FAILED, username=username
        )
    request.session.clear()  # a new session: nothing of the anonymous one is kept
    request.session["user_id"] = result.user.id  # a new CSRF token is made at the next page
    request.session["issued"] = int(datetime.now(UTC).timestamp())
    request.session["sid"] = secrets.token_urlsafe(24)  # names the session, to end it
    log.info("web.login", user_id=result.user.id)
    if target == "/":
        target = "/" if result.user.is_operator else "/portal/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Response:
    await check_change(request, ctx)
    session_id, issued = request.session.get("sid"), request.session.get("issued")
    if isinstance(session_id, str) and isinstance(issued, int | float):
        expires = datetime.fromtimestamp(issued, UTC) + timedelta(hours=session_hours(ctx))
        await to_thread.run_sync(end_session, ctx.engine, session_id, expires)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)

"""Jinja2 templates (autoescape on for every template: text from upstream — customer and
product names, addresses — is always escaped) and the filters the pages share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from domain.money import format_minor_units
from web.security import CSRF_FIELD, csrf_token

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def money(amount: int | None, currency: str = "TRY") -> str:
    return "" if amount is None else format_minor_units(int(amount), currency.lower())


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def badge(state: str | None) -> str:
    """A CSS class for a state's badge: its family (open, moving, done, stopped)."""
    if not state:
        return "badge"
    text = state.lower()
    if "cancel" in text or "refund" in text or "return" in text or "reject" in text:
        return "badge badge-stopped"
    if text in {"delivered", "closed", "applied", "forced"} or "arrived" in text:
        return "badge badge-done"
    if text in {"new", "created", "waiting", "pending"}:
        return "badge badge-open"
    return "badge badge-moving"


def segment(text: str) -> str:
    """A reference as one URL path segment (it may hold `/`, `?`, `#` or a space)."""
    return quote(str(text), safe="")


environment.filters.update(money=money, when=when, badge=badge, segment=segment)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page, with what every page's layout needs: the user (or None) and the form token."""
    user = getattr(request.state, "user", None)
    page = environment.get_template(template).render(
        request=request,
        user=user,
        csrf_field=CSRF_FIELD,
        # no session on /static/ (a missing asset's page has no form)
        csrf_token=csrf_token(request) if "session" in request.scope else "",
        **context,
    )
    return HTMLResponse(page, status_code=status_code)

"""Absolute links in answers (`next`, `previous`, `status_url`, `Location`): from
OMS_API_PUBLIC_URL when it is set, else from the request's own scheme and Host, which the
TrustedHosts guard (api/guards.py) has already checked against OMS_API_ALLOWED_HOSTS."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request

from api.context import context


def absolute(request: Request, path: str, query: str = "") -> str:
    """`path` (starting with /) and `query` (without ?) under the public base URL."""
    public = context(request).settings.api_public_url
    base = public if public is not None else str(request.base_url).rstrip("/")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def link_for(request: Request, name: str, **params: Any) -> str:
    """The absolute URL of the route called `name`, its parameters percent-encoded (a merchant
    order reference may hold a space, `?` or `#`)."""
    quoted = {key: quote(str(value), safe="") for key, value in params.items()}
    return absolute(request, str(request.app.url_path_for(name, **quoted)))


def this_page(request: Request, **query: Any) -> str:
    """This request's URL with some query parameters replaced (the others kept)."""
    return absolute(request, request.url.path, request.url.include_query_params(**query).query)

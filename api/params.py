"""Query parameters shared by the list endpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BeforeValidator, WithJsonSchema

from domain.statuses import OrderStatus

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].+)?$")
_RULE = "expected an ISO 8601 date or date-time, e.g. 2026-11-20 or 2026-11-20T10:15:00Z"


def _moment(value: Any) -> Any:
    """A date is its midnight, a date-time without an offset is UTC. Only ISO 8601 counts
    (pydantic alone would read '0.5' as a Unix time)."""
    if not isinstance(value, str):
        return value
    if not _ISO.match(value):
        raise ValueError(_RULE)
    try:
        found = datetime.fromisoformat(value)
        # as UTC: PostgreSQL takes offsets up to 15:59 only, ISO 8601 up to 23:59
        return found.astimezone(UTC) if found.tzinfo is not None else found.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{_RULE} ({error})") from None


_SCHEMA = WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
)
CreatedFrom = Annotated[
    datetime | None,
    BeforeValidator(_moment),
    _SCHEMA,
    Query(description="created at or after (ISO 8601 date or date-time; UTC if no offset)"),
]
CreatedTo = Annotated[
    datetime | None,
    BeforeValidator(_moment),
    _SCHEMA,
    Query(description="created before (ISO 8601 date or date-time; UTC if no offset)"),
]


def order_status(value: Any) -> Any:
    """An Omnitron order status by code (`550`) or name (`delivered`, any case), as the CLI
    takes statuses (spec 11: a status is a code or its name everywhere)."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    try:
        return OrderStatus(int(text)) if text.isdigit() else OrderStatus[text]
    except (KeyError, ValueError):
        known = ", ".join(f"{s.value} {s.name}" for s in OrderStatus)
        raise ValueError(f"unknown order status {value!r}; a code or its name: {known}") from None


OrderStatusFilter = Annotated[
    int | None,
    BeforeValidator(order_status),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [str(s.value) for s in OrderStatus] + [s.name for s in OrderStatus],
        }
    ),
    Query(description="an Omnitron status, its code or its name (e.g. 550 or delivered)"),
]


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_KNOWN: dict[int, set[str]] = {}  # by route: its query parameters, gathered once


async def no_unknown_query(request: Request) -> None:
    """A query parameter the endpoint does not take is an error (422), not silently ignored:
    a misspelt filter must not answer the unfiltered list. (async: no threadpool hop) The
    dependency of the routes without a key (/healthz, the docs, the web pages); an endpoint
    with a key has it checked by the key's dependency (api/auth.py: one dependency, not two)."""
    check_query(request)


def check_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.scope.get("query_string"):
        return
    known = _KNOWN.get(id(route))
    if known is None:
        known = _KNOWN[id(route)] = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "unknown query parameter", "type": "extra"}
                for name in unknown
            ]
        )

"""Every endpoint refuses a query parameter it does not take (422, api/params.py): the routes
with a key through their key's dependency (api/auth.py, after the key is checked), the others
(/healthz, the docs page, the web pages) through the check as their own dependency."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, _IncludedRouter

from adapters.settings import Settings
from api.app import create_app
from api.auth import TokenAuth
from api.context import ApiContext
from api.params import no_unknown_query


def _calls(dependant: Any) -> list[Any]:
    found = [dependant.call]
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def _dependants(routes: list[Any]) -> list[tuple[str, Any]]:
    """Each endpoint's dependencies as served: an included router's routes with the include's
    own dependencies (FastAPI 0.165 keeps routers nested and merges them per route)."""
    found = []
    for route in routes:
        if isinstance(route, _IncludedRouter):
            found += [(c.path, c.dependant) for c in route.effective_route_contexts()]
        elif isinstance(route, APIRoute):
            found.append((route.path, route.dependant))
    return found


def test_every_route_checks_its_query_once() -> None:
    app = create_app(ApiContext(Settings()))  # connects to nothing
    routes = _dependants(app.routes)
    assert len(routes) > 30  # the API's and the pages'
    for path, dependant in routes:
        calls = _calls(dependant)
        checks = [c for c in calls if c is no_unknown_query or isinstance(c, TokenAuth)]
        assert len(checks) == 1, (path, checks)

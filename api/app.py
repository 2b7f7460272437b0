"""The app factory: `create_app()` for uvicorn (one per worker process), with the OpenAPI
document at /api/v1/openapi.json, the docs at /api/v1/docs (assets served locally), and, around
every endpoint, the access log (no headers, no keys) and the guards on the Host header and the
body (api/guards.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from api import docs, errors
from api.access_log import AccessLog
from api.context import ApiContext
from api.guards import MAX_BODY_BYTES, MAX_DEPTH, BodyLimits, TrustedHosts
from api.links import PublicRedirects
from api.params import no_unknown_query
from api.routers import cargo, merchant, operations, orders, packages, reservations
from web import app as web_app

OPENAPI_URL = "/api/v1/openapi.json"
VERSION = "1.0.0"


def create_app(context: ApiContext | None = None) -> FastAPI:
    ctx = context or ApiContext.from_env()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = FastAPI(
        title="OMS pipeline API",
        version=VERSION,
        description="Marketplace order management: operator endpoints and the merchant portal "
        "(spec section 11). Authenticate with `Authorization: Token <key>`. On every endpoint "
        "but /healthz, a Host header not in OMS_API_ALLOWED_HOSTS answers 400; on every "
        f"endpoint, a body over {MAX_BODY_BYTES} bytes answers 413 and JSON nested deeper "
        f"than {MAX_DEPTH} levels 400.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # no OpenTelemetry middleware (FastAPI's own, on when a provider is configured): the
        # service's metrics are Prometheus' (docs/operations.md); its per-request provider
        # lookups cost the reads 4 % of their Python (issue 22)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.context = ctx
    errors.install(app)
    # the busiest first: a request is matched against each router's routes in this order
    for module in (merchant, orders, reservations, packages, cargo, operations):
        app.include_router(module.router)  # their endpoints check the query (api/auth.py)
    app.include_router(operations.health_router, dependencies=[Depends(no_unknown_query)])
    docs.install(app, app.title)
    web_app.install(app, ctx)  # the pages of spec 12: /, /login, /portal/
    # the last added is the outermost: the access log sees what the guards refuse
    web_app.add_sessions(app, ctx)
    app.add_middleware(BodyLimits)
    if ctx.settings.api_public_url is not None:
        app.add_middleware(PublicRedirects, public_url=ctx.settings.api_public_url)
    app.add_middleware(TrustedHosts, allowed_hosts=ctx.settings.api_allowed_hosts)
    web_app.add_headers(app)
    app.add_middleware(AccessLog)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(cargo.component_schemas())
        app.openapi_schema = document
    return app.openapi_schema

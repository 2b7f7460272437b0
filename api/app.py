"""The app factory: `create_app()` for uvicorn (one per worker process), with the OpenAPI
document at /api/v1/openapi.json and an access log that never records headers or keys."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from api import errors
from api.context import ApiContext
from api.params import no_unknown_query
from api.routers import cargo, merchant, operations, orders, packages

OPENAPI_URL = "/api/v1/openapi.json"
VERSION = "1.0.0"

access_log = structlog.get_logger("api.access")


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
        "(spec section 11). Authenticate with `Authorization: Token <key>`.",
        openapi_url=OPENAPI_URL,
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(no_unknown_query)],
    )
    app.state.context = ctx
    errors.install(app)
    for module in (orders, packages, cargo, operations, merchant):
        app.include_router(module.router)
    app.include_router(operations.health_router)
    app.middleware("http")(_access_log)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


async def _access_log(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Method, path, status and time only: no headers (the key), no query string."""
    started = time.perf_counter()
    response = await call_next(request)
    access_log.info(
        "api.request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return response


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

"""Error answers. Every error body is `{"detail": "..."}`; a request that breaks the OpenAPI
document (body, path or query) answers 422 with `errors`, one `{"field", "rule"}` per problem.
A database or broker that is down answers 503 naming it; anything unforeseen answers a plain
500 without a trace (the trace goes to the log)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.messaging.publisher import BrokerUnavailable
from api.guards import MAX_BODY_BYTES
from api.responses import JSONResponse
from schemas.errors import path_of

log = structlog.get_logger(__name__)


class Problem(BaseModel):
    detail: str


class FieldProblem(BaseModel):
    field: str
    rule: str


class ValidationProblem(BaseModel):
    detail: str
    errors: list[FieldProblem]


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def _problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def validation_problems(errors: list[Any]) -> list[dict[str, str]]:
    problems = []
    for error in errors:
        rule = str(error.get("msg", "invalid"))
        if rule.startswith("Value error, "):
            rule = rule[len("Value error, ") :]
        problems.append({"field": path_of(error.get("loc", ())), "rule": rule})
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return _problem(error.status, error.detail, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return _problem(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = validation_problems(list(error.errors()))
        detail = "; ".join(f"{p['field']}: {p['rule']}" for p in problems)
        return JSONResponse({"detail": detail, "errors": problems}, status_code=422)

    @app.exception_handler(BrokerUnavailable)
    async def _broker(_request: Request, error: BrokerUnavailable) -> JSONResponse:
        log.warning("api.broker_unavailable", error=str(error)[:300])
        return _problem(503, "broker unavailable")

    async def _database(_request: Request, error: Exception) -> JSONResponse:
        log.warning("api.database_unavailable", error=f"{type(error).__name__}")
        return _problem(503, "database unavailable")

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, error: DBAPIError) -> JSONResponse:
        if error.connection_invalidated:
            return await _database(request, error)
        log.error("api.database_error", error=f"{type(error).__name__}", exc_info=error)
        return _problem(500, "internal error")

    @app.exception_handler(Exception)
    async def _unforeseen(_request: Request, error: Exception) -> JSONResponse:
        log.error("api.unhandled", error=f"{type(error).__name__}", exc_info=error)
        return _problem(500, "internal error")


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": f"the body is larger than {MAX_BODY_BYTES} bytes"},
}

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no key, or an unknown or revoked key"},
    403: {"model": Problem, "description": "the key may not use this endpoint"},
    422: {"model": ValidationProblem, "description": "the request breaks this document"},
    503: {"model": Problem, "description": "database or broker unavailable (named)"},
}

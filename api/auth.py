"""`Authorization: Token <key>` (Omnitron's and Django REST framework's convention). No key or
an unknown or revoked one answers 401; a key of the wrong kind for the endpoint answers 403.
The key is looked up by its sha256 (one indexed lookup, its answer kept for a second at most:
a revoked key is refused within a second); it is never logged.

The check is the one dependency of an endpoint that needs a key (`TokenAuth`, FastAPI's
`APIKeyHeader` that also decides): every dependency FastAPI solves costs a request tens of
microseconds (issue 22's profiles: a chain of header, key, kind, context and query-check
dependencies was a third of a merchant order read's Python). So it answers a `Caller` (the
key's Principal with the process's ApiContext), and checks the query parameters too
(api/params.py), after the key: a caller without a valid key learns nothing of the endpoint's
parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from adapters.persistence.api_tokens import MERCHANT, OPERATOR, Principal
from api.context import ApiContext, context, context_of
from api.errors import ApiError
from api.params import check_query

CHALLENGE = {"WWW-Authenticate": "Token"}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called (a valid key of the endpoint's kind) and what handlers share in the process."""

    who: Principal
    ctx: ApiContext

    @property
    def merchant(self) -> str:
        """A merchant key's merchant reference (TokenAuth(MERCHANT) made sure there is one)."""
        assert self.who.merchant_reference is not None
        return self.who.merchant_reference


class TokenAuth(APIKeyHeader):
    """The `Token` security scheme of the OpenAPI document, and the check itself: the Caller,
    when the key is valid and of the `needs` kind (`OPERATOR`, `MERCHANT`) and every query
    parameter is one the endpoint takes."""

    def __init__(self, needs: str) -> None:
        super().__init__(
            name="Authorization",
            auto_error=False,
            scheme_name="Token",
            description="`Token <key>`; keys are made with `oms tokens create`",
        )
        self.needs = needs

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        ctx = context_of(request)
        who = await principal(ctx, request.headers.get("authorization"))
        if self.needs == OPERATOR and not who.is_operator:
            raise ApiError(403, "this endpoint needs an operator token")
        if self.needs == MERCHANT and (who.is_operator or who.merchant_reference is None):
            raise ApiError(403, "this endpoint needs a merchant token")
        check_query(request)
        return Caller(who, ctx)


async def principal(ctx: ApiContext, authorization: str | None) -> Principal:
    if not authorization:
        raise ApiError(401, "authentication credentials were not provided", CHALLENGE)
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not key or " " in key:
        raise ApiError(401, "invalid token header: expected 'Token <key>'", CHALLENGE)
    known, found = ctx.keys.cached(key)  # kept a second at most
    if not known:
        found = await run_in_threadpool(ctx.keys.principal, ctx.reads, key)
    if found is None:
        raise ApiError(401, "invalid token", CHALLENGE)
    return found


Operator = Annotated[Caller, Security(TokenAuth(OPERATOR))]
Merchant = Annotated[Caller, Security(TokenAuth(MERCHANT))]
Context = Annotated[ApiContext, Depends(context)]  # an endpoint without a key: /healthz

"""`Authorization: Token <key>` (Omnitron's and Django REST framework's convention). No key or
an unknown or revoked one answers 401; a key of the wrong kind for the endpoint answers 403.
The key is looked up by its sha256 (one indexed lookup, its answer kept for a second at most:
a revoked key is refused within a second); it is never logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from adapters.persistence.api_tokens import Principal
from api.context import ApiContext, context
from api.errors import ApiError

CHALLENGE = {"WWW-Authenticate": "Token"}

token_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="Token",
    description="`Token <key>`; keys are made with `oms tokens create`",
)


async def principal(
    ctx: Annotated[ApiContext, Depends(context)],
    authorization: Annotated[str | None, Security(token_header)] = None,
) -> Principal:
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


async def operator(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.is_operator:
        raise ApiError(403, "this endpoint needs an operator token")
    return who


async def merchant(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.is_operator or who.merchant_reference is None:
        raise ApiError(403, "this endpoint needs a merchant token")
    return who


Operator = Annotated[Principal, Depends(operator)]
Merchant = Annotated[Principal, Depends(merchant)]
Context = Annotated[ApiContext, Depends(context)]

"""Who may use the Back Office, and what its routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from adapters.persistence.users import User
from api.context import ApiContext, context
from web.auth import WebError, require_user

Ctx = Annotated[ApiContext, Depends(context)]


def require_operator(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_operator:
        raise WebError(403, "Operators only", "The Back Office is for the marketplace's operators.")
    return user


OperatorUser = Annotated[User, Depends(require_operator)]


def area_router() -> APIRouter:
    """A router of one Back Office area: every route behind the operator check."""
    return APIRouter(
        prefix="/backoffice", include_in_schema=False, dependencies=[Depends(require_operator)]
    )

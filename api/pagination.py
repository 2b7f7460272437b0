"""Pages in Django REST framework's shape, as Omnitron answers: `count`, `next`, `previous`
(absolute URLs, or null; api/links.py), `results`. `page` is 1-based; `limit` defaults to 20,
at most 100."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

from api.links import this_page

T = TypeVar("T")
MAX_LIMIT = 100
MAX_PAGE = 1_000_000


class PageParams(BaseModel):
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


# a list endpoint's own query parameters (not a dependency: FastAPI's solving of one costs a
# merchant order list request 9 % of its Python), last in its signature
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="results per page")]


class Paged(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


def paged(request: Request, params: PageParams, count: int, results: list[Any]) -> dict[str, Any]:
    def link(page: int) -> str:
        return this_page(request, page=page, limit=params.limit)

    last = max(1, -(-count // params.limit))
    return {
        "count": count,
        "next": link(params.page + 1) if params.page < last else None,
        "previous": link(min(params.page - 1, last)) if params.page > 1 else None,
        "results": results,
    }

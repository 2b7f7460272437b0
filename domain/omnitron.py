"""The Omnitron gateway port: what the pipeline asks of the marketplace back office (spec §6)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from domain.errors import DomainError, InvalidInput


class OmnitronUnavailable(DomainError):
    """Transient: connection error, timeout, 5xx or 429 after the in-call retries. Retry later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class OmnitronRejected(InvalidInput):
    """Omnitron answered a 4xx other than 401/429, or a redirect (an SSO or proxy login page):
    the same request will never succeed."""


class OmnitronMalformed(OmnitronRejected):
    """Omnitron answered with a body that cannot be read (not JSON, or not the documented shape):
    not transient, the same request gets the same answer; dead-letter it with the answer."""


@dataclass(frozen=True)
class OmnitronItem:
    id: int
    status: str | None


@dataclass(frozen=True)
class OmnitronOrder:
    number: str
    status: str
    items: list[OmnitronItem] = field(default_factory=list)
    # set when Omnitron's answer for this order could not be read: the order is then left alone
    problem: str | None = None


class OmnitronGateway(abc.ABC):
    @abc.abstractmethod
    def update_item_statuses(self, statuses: dict[int, str]) -> None:
        """One PATCH /api/i1/order_items/bulk_status_update/ with {item id: status code}."""

    @abc.abstractmethod
    def orders(self, numbers: list[str], request_id: str | None = None) -> list[OmnitronOrder]:
        """GET /api/v1/orders/?number__in=…, all pages; unknown orders are absent. The request id
        is sent as X-Request-ID so both sides' logs can be correlated. An order whose part of
        the answer is malformed comes back with `problem` set (and no items): the others in the
        batch are not held back by it."""

    @abc.abstractmethod
    def get_order(self, number: str) -> OmnitronOrder | None:
        """GET /api/v1/orders/{number}/; None when Omnitron does not know the order. A malformed
        answer raises OmnitronMalformed."""

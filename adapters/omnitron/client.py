"""The Omnitron HTTP client (spec section 6) on a requests Session: token login, one re-login on
401, connect/read timeouts, retries of connection errors, timeouts, 5xx and 429 with exponential
backoff that honours Retry-After, and no retry of other 4xx. Credentials and tokens are never
logged."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests
import structlog

from domain.omnitron import (
    OmnitronGateway,
    OmnitronItem,
    OmnitronOrder,
    OmnitronRejected,
    OmnitronUnavailable,
)

log = structlog.get_logger(__name__)
BULK_STATUS = "/api/i1/order_items/bulk_status_update/"
ORDERS = "/api/v1/orders/"
LOGIN = "/api/v1/auth/login/"
PAGE_LIMIT = 100


class OmnitronClient(OmnitronGateway):
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self.timeout = (connect_timeout, read_timeout)
        self.attempts = attempts
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.sleep = sleep
        self.session = requests.Session()
        self._token: str | None = None

    # -- the port ------------------------------------------------------------------------
    def update_item_statuses(self, statuses: dict[int, str]) -> None:
        items = [{"id": item_id, "status": statuses[item_id]} for item_id in sorted(statuses)]
        self._call("PATCH", BULK_STATUS, json={"orderitem_set": items})

    def orders(self, numbers: list[str], request_id: str | None = None) -> list[OmnitronOrder]:
        extra = {"X-Request-ID": request_id} if request_id else {}
        found: list[OmnitronOrder] = []
        for start in range(0, len(numbers), PAGE_LIMIT):
            chunk = numbers[start : start + PAGE_LIMIT]
            params: dict[str, Any] | None = {"number__in": ",".join(chunk), "limit": len(chunk)}
            url: str | None = ORDERS
            while url is not None:
                page = self._call("GET", url, params=params, headers=extra).json()
                found += [_order(result) for result in page.get("results", [])]
                url, params = page.get("next"), None  # "next" carries its own query
        return found

    def get_order(self, number: str) -> OmnitronOrder | None:
        response = self._call("GET", f"{ORDERS}{number}/", allow_404=True)
        return None if response.status_code == 404 else _order(response.json())

    # -- transport -----------------------------------------------------------------------
    def _login(self) -> None:
        response = self._send("POST", LOGIN, json=self._credentials, authenticated=False)
        if response.status_code != 200:
            raise OmnitronRejected(f"Omnitron login refused: HTTP {response.status_code}")
        self._token = str(response.json()["key"])

    def _call(
        self, method: str, path: str, *, allow_404: bool = False, **kwargs: Any
    ) -> requests.Response:
        if self._token is None:
            self._login()
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:  # the token expired: log in again, once
            self._login()
            response = self._send(method, path, **kwargs)
            if response.status_code == 401:
                raise OmnitronRejected(f"{method} {_path(path)}: 401 even after a fresh login")
        if response.status_code < 400 or (allow_404 and response.status_code == 404):
            return response
        raise OmnitronRejected(
            f"{method} {_path(path)}: HTTP {response.status_code}: {response.text[:500]}"
        )

    def _send(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One request with in-call retries of transient failures."""
        url = urljoin(self.base_url + "/", path.lstrip("/")) if path.startswith("/") else path
        headers = dict(kwargs.pop("headers", None) or {})
        if authenticated:
            headers["Authorization"] = f"Token {self._token}"
        last, retry_after = "", None
        for attempt in range(1, self.attempts + 1):
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                last, retry_after = type(error).__name__, None
            else:
                elapsed = round((time.monotonic() - started) * 1000)
                log.debug(
                    "omnitron.call",
                    method=method,
                    path=_path(url),
                    status=response.status_code,
                    attempt=attempt,
                    elapsed_ms=elapsed,
                )
                if response.status_code != 429 and response.status_code < 500:
                    return response
                last, retry_after = f"HTTP {response.status_code}", _retry_after(response)
            if attempt < self.attempts:
                delay = self._delay(attempt, retry_after)
                log.info(
                    "omnitron.retry",
                    method=method,
                    path=_path(url),
                    error=last,
                    attempt=attempt,
                    delay_s=round(delay, 2),
                )
                self.sleep(delay)
        raise OmnitronUnavailable(
            f"{method} {_path(url)}: {last} after {self.attempts} attempts",
            retry_after=None if retry_after is None else min(retry_after, self.max_retry_after),
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        exponential = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return exponential * random.uniform(0.8, 1.2)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0] if "://" in url else url


def _order(data: dict[str, Any]) -> OmnitronOrder:
    items = [
        OmnitronItem(int(i["id"]), None if i.get("status") is None else str(i["status"]))
        for i in data.get("items", [])
    ]
    return OmnitronOrder(str(data["number"]), str(data.get("status", "")), items)

"""The Omnitron HTTP client (spec section 6) on a requests Session: token login, one re-login on
401, connect/read timeouts, retries of connection errors, timeouts, 5xx and 429 with exponential
backoff that honours Retry-After, and no retry of other 4xx. Credentials and tokens are never
logged: a log line carries the method, the path (no query), the status, the attempt and the time
taken."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import structlog

from adapters.omnitron.answers import Malformed, order_from, order_or_problem
from domain.omnitron import (
    OmnitronGateway,
    OmnitronMalformed,
    OmnitronOrder,
    OmnitronRejected,
    OmnitronUnavailable,
)

log = structlog.get_logger(__name__)
BULK_STATUS = "/api/i1/order_items/bulk_status_update/"
ORDERS = "/api/v1/orders/"
LOGIN = "/api/v1/auth/login/"
PAGE_LIMIT = 100
BODY_SHOWN = 500
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class OmnitronClient(OmnitronGateway):
    """One client per thread (it keeps one Session and one token)."""

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
        self.attempts = max(1, attempts)
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.sleep = sleep
        self.session = _session(self.base_url)
        self._token: str | None = None

    def __repr__(self) -> str:  # never show the credentials or the token
        return f"OmnitronClient({self.base_url!r})"

    # -- the port ------------------------------------------------------------------------
    def update_item_statuses(self, statuses: dict[int, str]) -> None:
        if not statuses:
            return  # nothing to report; Omnitron refuses an empty orderitem_set
        items = [{"id": item_id, "status": statuses[item_id]} for item_id in sorted(statuses)]
        self._call("PATCH", BULK_STATUS, json={"orderitem_set": items})

    def orders(self, numbers: list[str], request_id: str | None = None) -> list[OmnitronOrder]:
        extra = {"X-Request-ID": request_id} if request_id else {}
        wanted = list(dict.fromkeys(numbers))
        found: dict[str, OmnitronOrder] = {}
        for start in range(0, len(wanted), PAGE_LIMIT):
            chunk = wanted[start : start + PAGE_LIMIT]
            params: dict[str, Any] | None = {"number__in": ",".join(chunk), "limit": len(chunk)}
            url: str | None = ORDERS
            seen: set[str] = set()
            while url is not None:
                if url in seen:
                    raise OmnitronUnavailable(f"GET {ORDERS}: the page links back to {url}")
                seen.add(url)
                page = _json(self._call("GET", url, params=params, headers=extra))
                results = page.get("results") or []
                if not isinstance(results, list):  # no order of this page can be read
                    problem = f"'results' is a {type(results).__name__}, not a list"
                    for number in chunk:
                        found.setdefault(number, OmnitronOrder(number, "", [], problem))
                    results = []
                for position, result in enumerate(results):
                    order = order_or_problem(result, position)
                    if order is not None and order.number in chunk:  # only what was asked
                        found[order.number] = order
                url, params = self._rebase(page.get("next")), None  # "next" has its own query
        return list(found.values())

    def get_order(self, number: str) -> OmnitronOrder | None:
        path = f"{ORDERS}{quote(number, safe='')}/"
        response = self._call("GET", path, allow_404=True)
        if response.status_code == 404:
            return None
        try:
            return order_from(_json(response))
        except Malformed as error:
            raise OmnitronMalformed(
                f"GET {path}: HTTP {response.status_code}: {error}: {response.text[:BODY_SHOWN]}"
            ) from None

    def login(self) -> None:
        """Log in now (else the first call does): a refused login raises OmnitronRejected."""
        self._login()

    def register_order(self, body: dict[str, Any]) -> bool:
        """`POST /api/v1/orders/` (the simulator's registration, spec section 6): True when the
        order was created, False when it was known before; a refused body raises
        OmnitronRejected with the answer."""
        return self._call("POST", ORDERS, json=body).status_code == 201

    # -- transport -----------------------------------------------------------------------
    def _login(self) -> None:
        response = self._send("POST", LOGIN, json=self._credentials, authenticated=False)
        key = _json(response).get("key") if response.status_code == 200 else None
        if not key:
            raise OmnitronRejected(
                f"Omnitron login refused: POST {LOGIN}: HTTP {response.status_code}: "
                f"{response.text[:BODY_SHOWN]}"
            )
        self._token = str(key)

    def _call(
        self, method: str, path: str, *, allow_404: bool = False, **kwargs: Any
    ) -> requests.Response:
        if self._token is None:
            self._login()
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:  # the token expired: log in again, once
            self._token = None
            self._login()
            response = self._send(method, path, **kwargs)
            if response.status_code == 401:
                self._token = None
                raise OmnitronRejected(
                    f"{method} {_path(path)}: HTTP 401 even after a fresh login "
                    f"(the account may lack permission): {response.text[:BODY_SHOWN]}"
                )
        status = response.status_code
        if 200 <= status < 300 or (allow_404 and status == 404):
            return response  # only a 2xx to the request actually sent is an answer
        if 300 <= status < 400:  # an SSO or proxy login page: never followed, never success
            raise OmnitronRejected(
                f"{method} {_path(path)}: HTTP {status} redirect to "
                f"{_where(response.headers.get('Location'))} instead of an answer "
                f"(an SSO or proxy in front of Omnitron?): {response.text[:BODY_SHOWN]}"
            )
        raise OmnitronRejected(
            f"{method} {_path(path)}: HTTP {response.status_code}: {response.text[:BODY_SHOWN]}"
        )

    def _send(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One request with in-call retries of transient failures."""
        url = self.base_url + path if path.startswith("/") else path
        headers = dict(kwargs.pop("headers", None) or {})
        if authenticated:
            headers["Authorization"] = f"Token {self._token}"
        last, retry_after = "", None
        for attempt in range(1, self.attempts + 1):
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,  # a redirected PATCH would come back as a GET
                    **kwargs,
                )
            except TRANSIENT as error:
                status, last, retry_after = None, type(error).__name__, None
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    _log_call(method, url, status, attempt, started)
                    return response
                last, retry_after = f"HTTP {status}", _retry_after(response)
            _log_call(method, url, status, attempt, started, error=last)
            if attempt < self.attempts:
                self.sleep(self._delay(attempt, retry_after))
        raise OmnitronUnavailable(
            f"{method} {_path(url)}: {last} after {self.attempts} attempts",
            retry_after=None if retry_after is None else min(retry_after, self.max_retry_after),
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one, else backoff * 2**(attempt-1), with up to 10 %
        jitter, never above max_backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        exponential = self.backoff * 2.0 ** (attempt - 1) * random.uniform(0.9, 1.1)
        return min(exponential, self.max_backoff)

    def _rebase(self, link: Any) -> str | None:
        """A "next" link, on our own scheme and host: the token goes nowhere else."""
        if not link:
            return None
        parts, base = urlsplit(str(link)), urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def _log_call(
    method: str, url: str, status: int | None, attempt: int, started: float, **extra: str
) -> None:
    elapsed_ms = round((time.monotonic() - started) * 1000)
    level = log.debug if not extra else log.info
    level(
        "omnitron.call",
        method=method,
        path=_path(url),
        status=status,
        attempt=attempt,
        elapsed_ms=elapsed_ms,
        **extra,
    )


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds, or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _session(base_url: str) -> requests.Session:
    """A Session that reads the environment once, here: the proxy for Omnitron's address and a
    CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE). With requests' `trust_env` it would look
    them up again at every call (3 % of a poll worker's CPU), and take a ~/.netrc entry for the
    host, whose Basic credentials would replace the token header."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise OmnitronMalformed(
            f"{response.request.method} {_path(response.url)}: HTTP {response.status_code} "
            f"with a body that is not a JSON object: {response.text[:BODY_SHOWN]}"
        )
    return data


def _where(location: str | None) -> str:
    """A redirect target without its query (it may carry a state or a token)."""
    if not location:
        return "nowhere (no Location)"
    parts = urlsplit(location)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) or "?"

"""What `oms bench portal` and `oms bench backoffice` share: a user logged in through the login
form (its CSRF token, its session cookie), then each page requested `requests` times in process
(FastAPI's TestClient), the milliseconds of each answer."""

from __future__ import annotations

import re
import time
import uuid
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from adapters.persistence.engine import make_engine
from adapters.persistence.users import create_user
from adapters.settings import Settings


def timed(call: Callable[[], Any], requests: int) -> list[float]:
    call()  # warm: the first request builds the template and the session middleware
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.request.url}: {answer.status_code}")
    return times


def timed_pages(
    database_url: str, user: tuple[str, str, str | None], pages: dict[str, str], requests: int
) -> dict[str, list[float]]:
    """`user`: (name, kind, merchant reference), created here with a random password."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient  # httpx: a dev dependency, as benchmarks are

    from api.app import create_app
    from api.context import ApiContext

    name, kind, merchant_reference = user
    engine = make_engine(database_url, pool_size=2)
    password = f"bench-{uuid.uuid4().hex}"
    create_user(engine, name, password, kind=kind, merchant_reference=merchant_reference)
    engine.dispose()
    settings = Settings.from_env()
    context = ApiContext(Settings(database_url=database_url, broker_url=settings.broker_url))
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post(
            "/login",
            data={"username": name, "password": password, "csrf_token": token.group(1)},
            headers={"Origin": "http://127.0.0.1"},
        )
        results = {
            title: timed(partial(client.get, path), requests) for title, path in pages.items()
        }
        context.close()
        return results

"""What the browser tests share: Debian's chromium driven by Playwright (its own browser
download cannot work here), `oms api` and a merchant worker as subprocesses on the session's
database and vhost, users made through the adapter, and the secrets every test saw (passwords,
session cookies, CSRF tokens) for the last test to grep the logs for."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from adapters.persistence.users import MERCHANT, create_user
from tests import services
from tests.api.server import ROOT, ApiServer
from tests.e2e.pipeline import Pipeline

SECRETS: list[str] = []  # every password, session cookie and CSRF token the tests used
LOG_DIRS: list[Path] = []
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS_ENV = "OMS_UI_SCREENSHOTS"  # set (to 1) to write the screenshots into docs/ui/


def chromium() -> str:
    """Debian's chromium, or a loud skip (a failure with OMS_REQUIRE_SERVICES=1)."""
    found = shutil.which("chromium")
    if found is None:
        message = (
            "BROWSER TESTS SKIPPED: no `chromium` on PATH (apt-get install chromium; .ci/run "
            "installs it)"
        )
        if services.REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def playwright_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shots_dir(tmp: Path) -> Path:
    if os.environ.get(SHOTS_ENV):
        target = ROOT / "docs" / "ui"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp


@dataclass
class Portal:
    url: str
    server: ApiServer
    pipeline: Pipeline
    engine: Engine


def start_portal(
    postgres_url: str, rabbitmq_url: str, log_dir: Path, engine: Engine
) -> Iterator[Portal]:
    """`oms api` (waits up to 20 s for an event's outcome) and a merchant worker."""
    LOG_DIRS.append(log_dir)
    pipeline = Pipeline(postgres_url, rabbitmq_url, log_dir)
    pipeline._spawn(
        "merchant",
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
         "--threads", "2", "--queues", "oms.merchant"],
    )  # fmt: skip
    server = ApiServer(postgres_url, rabbitmq_url, log_dir, wait_seconds=20.0, name="web")
    try:
        server.start()
        yield Portal(server.url, server, pipeline, engine)
    finally:
        server.stop()
        pipeline.stop()


def make_user(engine: Engine, name: str, merchant: str, password: str | None = None) -> str:
    password = password or f"pw-{os.urandom(8).hex()}"
    create_user(engine, name, password, kind=MERCHANT, merchant_reference=merchant)
    SECRETS.append(password)
    return password


def remember_session(context: Any, page: Any | None = None) -> None:
    """The session cookie and the page's CSRF token, for the log grep."""
    for cookie in context.cookies():
        if cookie["name"] == "oms_session":
            SECRETS.append(cookie["value"])
    if page is not None:
        for token in re.findall(r'name="csrf_token" value="([^"]+)"', page.content()):
            SECRETS.append(token)


def login(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    remember_session(page.context, page)

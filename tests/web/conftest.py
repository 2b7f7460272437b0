from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from tests import services
from tests.web.browser import Portal, playwright_browser, start_portal


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database per page module: the pages show whole tables (reservations and their verify
    result, lists), so a module must not see the rows other modules of the same pytest worker
    stored — some of them straight into tables, beside the pipeline's bookkeeping."""
    from adapters.persistence.migrate import upgrade

    for url in services.make_database():
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from playwright_browser()


@pytest.fixture(scope="module")
def web_db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def portal(
    browser: Any, postgres_url: str, rabbitmq_url: str, web_db: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Portal]:  # fmt: skip
    # the browser first: without chromium the module is skipped before any server starts
    log_dir: Path = tmp_path_factory.mktemp("web-logs")
    yield from start_portal(postgres_url, rabbitmq_url, log_dir, web_db)

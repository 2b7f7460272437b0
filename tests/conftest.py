from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import services


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, migrated to head."""
    from adapters.persistence.migrate import upgrade

    for url in services.make_database():
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """A private RabbitMQ vhost for the session."""
    yield from services.make_vhost()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if any("SERVICE TESTS SKIPPED" in str(report.longrepr) for report in skipped):
        terminalreporter.write_sep(
            "!", "PostgreSQL/RabbitMQ tests were SKIPPED: services not reachable", red=True
        )

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
import structlog

from tests import services

# Unless a test names them, the pipeline's URLs point at a closed port: a command a test runs
# (in-process, or as a subprocess that inherits the environment) then fails loudly instead of
# reaching the settings' defaults — the broker's default vhost `/`, the `oms` database — or a
# developer's own pipeline named in their shell.
UNSET_URLS = {
    "OMS_BROKER_URL": "amqp://guest:guest@127.0.0.1:1/oms-test-unset",
    "OMS_DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/oms_test_unset",
}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.update(UNSET_URLS)
    # Started in the background by a non-interactive shell (`nohup bash .ci/run &`), a process
    # ignores SIGINT, and so would every process a test starts: the tests that stop a server or
    # a scheduler with Ctrl-C then wait forever. A handler of our own is reset to the default
    # in each child at exec, so the children take Ctrl-C as a terminal would send it.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> None:
    """A command run in-process (`main([...])`) configures logging for the whole process, at
    WARNING: each test starts from structlog's defaults, so `capture_logs` sees every level."""
    structlog.reset_defaults()


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
    if any("BROWSER TESTS SKIPPED" in str(report.longrepr) for report in skipped):
        terminalreporter.write_sep(
            "!", "browser tests (tests/web) were SKIPPED: no chromium installed", red=True
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The failure drills restart the local RabbitMQ and PostgreSQL: they run when asked for
    (`-m drills`) or when OMS_DRILLS=1 (set by .ci/run), never by surprise."""
    if os.environ.get("OMS_DRILLS") == "1" or "drills" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("drills") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept

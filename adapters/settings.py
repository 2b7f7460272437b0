"""Settings from environment variables (spec section 8). Secrets are never logged or printed."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/oms"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
EMBEDDED_BROKER_URL = "stub://"

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = DEFAULT_BROKER_URL
    omnitron_url: str = "http://127.0.0.1:8700"
    omnitron_username: str = "oms"
    omnitron_password: str = "oms"
    auto_run_ship_the_package_command: bool = False
    poll_interval_seconds: int = 60
    main_merchant_reference: str = "MAIN"
    worker_threads: int = 8
    poll_batch_size: int = 50

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("OMS_DATABASE_URL", DEFAULT_DATABASE_URL),
            broker_url=env.get("OMS_BROKER_URL", DEFAULT_BROKER_URL),
            omnitron_url=env.get("OMNITRON_URL", cls.omnitron_url),
            omnitron_username=env.get("OMNITRON_USERNAME", cls.omnitron_username),
            omnitron_password=env.get("OMNITRON_PASSWORD", cls.omnitron_password),
            auto_run_ship_the_package_command=_flag("AUTO_RUN_SHIP_THE_PACKAGE_COMMAND", False),
            poll_interval_seconds=int(env.get("POLL_INTERVAL_SECONDS", "60")),
            main_merchant_reference=env.get("MAIN_MERCHANT_REFERENCE", "MAIN"),
            worker_threads=int(env.get("OMS_WORKER_THREADS", "8")),
            poll_batch_size=int(env.get("POLL_BATCH_SIZE", "50")),
        )

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("stub:")


def redact_url(url: str) -> str:
    """amqp://guest:secret@host/ -> amqp://guest:***@host/"""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)

"""`oms api`: uvicorn serving the app factory, `--workers N` processes. uvicorn's own access
log is off (it is replaced by the app's, which records no headers)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


def app_factory() -> FastAPI:
    """What each uvicorn process calls: JSON logs (OMS_LOG_LEVEL, secrets masked) then the app.
    Worker processes are spawned afresh, so each configures its own logging here."""
    from adapters.logging import configure_logging
    from api.app import create_app

    configure_logging()
    return create_app()


def serve(host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )

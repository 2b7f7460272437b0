"""`oms api`: uvicorn serving the app factory, `--workers N` processes. uvicorn's own access
log is off (it is replaced by the app's, which records no headers)."""

from __future__ import annotations

import gc

import uvicorn
from fastapi import FastAPI

# The cyclic garbage collector's thresholds in a serving process (Python's default: 700, 10, 10)
GC_THRESHOLDS = (20_000, 50, 100)


def quiet_collector() -> None:
    """Freeze what the process built to serve (the app, its routes and models, the libraries'
    modules: hundreds of thousands of objects) out of the collector's reach, and collect the
    young generation less often. Each full collection walked all of it: a request that met one
    waited tens of milliseconds. Issue 22's benchmark, same run: the merchant order read's p99
    55-68 ms with Python's defaults, 31 ms with the freeze alone, 18 ms with these thresholds too,
    and 3 % more requests/s (docs/benchmarks.md). Memory: the cycles the requests leave (few:
    reference counting frees the rest) wait for 20,000 allocations instead of 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_factory() -> FastAPI:
    """What each uvicorn process calls: JSON logs (OMS_LOG_LEVEL, secrets masked) then the app.
    Worker processes are spawned afresh, so each configures its own logging here."""
    from adapters.logging import configure_logging
    from api.app import create_app

    configure_logging(final=True)
    app = create_app()
    quiet_collector()
    return app


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

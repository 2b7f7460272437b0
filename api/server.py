"""`oms api`: uvicorn serving the app factory, `--workers N` processes. uvicorn's own access
log is off (it is replaced by the app's, which records no headers)."""

from __future__ import annotations

import uvicorn


def serve(host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )

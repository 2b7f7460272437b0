"""`oms bench api`'s floor: FastAPI on uvicorn (the same settings as `oms api`: no access log,
no server header, the same garbage collector settings) answering each benchmarked path with the
body the API answered, from a handler that does nothing else. What the framework and the server
cost on this machine; the API's figures are given as a ratio to it.

    OMS_BENCH_FLOOR_BODIES=bodies.json uvicorn benchmarks.api_floor:app_factory --factory

bodies.json maps each path to its body (JSON text)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI, Response

from api.server import quiet_collector

BODIES = "OMS_BENCH_FLOOR_BODIES"


def app_factory() -> FastAPI:
    bodies = {
        path: body.encode("utf-8")
        for path, body in json.loads(Path(os.environ[BODIES]).read_text("utf-8")).items()
    }
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/{path:path}")
    def answer(path: str) -> Response:
        return Response(bodies.get("/" + path, b"{}"), media_type="application/json")

    quiet_collector()  # the same garbage collector settings as `oms api`
    return app

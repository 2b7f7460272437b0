"""The OpenAPI document is a public contract: committed as schemas/json/openapi.json next to
the JSON Schemas of the messages, and checked against the app by a drift test."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.settings import Settings
from api.app import create_app
from api.context import ApiContext
from schemas.export import SCHEMA_DIR

OPENAPI_PATH = SCHEMA_DIR / "openapi.json"


def render_openapi() -> str:
    app = create_app(ApiContext(Settings()))  # connects to nothing
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_openapi() -> Path:
    OPENAPI_PATH.write_text(render_openapi(), encoding="utf-8")
    return OPENAPI_PATH

"""The API's OpenAPI document is a public contract: the committed schemas/json/openapi.json
matches the app (drift test, like the JSON Schemas')."""

from __future__ import annotations

import json

from api.openapi import OPENAPI_PATH, render_openapi

FIX = "the OpenAPI document is stale: run `oms schemas export` and commit schemas/json/"


def test_committed_openapi_matches_the_app() -> None:
    assert OPENAPI_PATH.is_file(), f"{OPENAPI_PATH} is missing: {FIX}"
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render_openapi(), FIX


def test_openapi_document_basics() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["Token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`; keys are made with `oms tokens create`",
    }
    paths = document["paths"]
    assert "/api/v1/packages/{package_id}/command/" in paths
    command = paths["/api/v1/packages/{package_id}/command/"]["post"]
    assert {"202", "204", "400", "401", "403", "404", "422", "503"} <= set(command["responses"])
    assert "security" not in paths["/healthz"]["get"]

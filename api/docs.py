"""The interactive docs at /api/v1/docs, served whole by the API: Swagger UI's script, style
sheet and icon are vendored under api/static/swagger-ui/ (swagger-ui-dist, Apache-2.0; see the
README there), so the page works offline and loads nothing from another host. Its links are
relative, so it also works under a path prefix (OMS_API_PUBLIC_URL)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from api.params import no_unknown_query

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"
DOCS_URL = "/api/v1/docs"
ASSETS_URL = f"{DOCS_URL}/assets"


def install(app: FastAPI, title: str) -> None:
    """The docs page and its assets; relative URLs resolve against /api/v1/docs."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False, dependencies=[Depends(no_unknown_query)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=f"{title} - docs",
            swagger_js_url="docs/assets/swagger-ui-bundle.js",
            swagger_css_url="docs/assets/swagger-ui.css",
            swagger_favicon_url="docs/assets/favicon-32x32.png",
            # no badge image from validator.swagger.io (the default would send it our URL)
            swagger_ui_parameters={"validatorUrl": None},
        )

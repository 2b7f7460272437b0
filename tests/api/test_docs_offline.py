"""/api/v1/docs works offline (issue 21, item 20): the page loads Swagger UI from the API
itself, names no other host, and every asset it references answers 200."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.api.server import ApiServer

pytestmark = pytest.mark.services
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


def test_the_docs_page_references_no_other_host(api: ApiServer) -> None:
    page_url = api.url + "/api/v1/docs"
    page = requests.get(page_url, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "//" not in page.text
    references = [a or b for a, b in REFERENCE.findall(page.text)]
    assert len(references) == 4, references  # style sheet, icon, script, OpenAPI document
    kinds = {}
    for reference in references:
        url = urljoin(page_url, reference)
        assert urlsplit(url).netloc == urlsplit(api.url).netloc, reference
        asset = requests.get(url, timeout=30)
        assert asset.status_code == 200, reference
        kinds[reference.rsplit(".", 1)[-1]] = asset.headers["content-type"]
    assert kinds["js"].startswith(("text/javascript", "application/javascript"))
    assert kinds["css"].startswith("text/css")
    assert kinds["png"] == "image/png"
    assert kinds["json"] == "application/json"
    licence = requests.get(api.url + "/api/v1/docs/assets/LICENSE", timeout=30)
    assert licence.status_code == 200 and "Apache License" in licence.text

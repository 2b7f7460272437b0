"""What the Back Office's browser tests share: an operator user (its password remembered for
the log grep) and a logged-in page."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine

from adapters.persistence.users import OPERATOR, create_user
from tests.web.browser import SECRETS, Portal, login


def make_operator(engine: Engine, name: str) -> str:
    password = f"pw-{os.urandom(8).hex()}"
    create_user(engine, name, password, kind=OPERATOR, merchant_reference=None)
    SECRETS.append(password)
    return password


def operator_page(browser: Any, portal: Portal, name: str, password: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, portal.url, name, password)
    return context, page

"""The portal's protections in a real browser (spec 12): upstream text with markup renders as
text (a dialog fails the test); a POST without the CSRF token, or from another origin with a
valid one, is refused with 403 and changes nothing; ten failed logins in a row lock a user name
for 15 minutes with the same page as an unknown name; every page carries the security headers;
the session cookie is HttpOnly and SameSite=Lax. Last: no password, session cookie or CSRF
token the browser tests used is in any log the suite's servers and workers wrote."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, func, select, update

from adapters.persistence import tables as t
from adapters.persistence.users import session_secret, set_password
from tests.api.server import LOG_FILES, free_port
from tests.api.stored import example, store
from tests.web.browser import LOG_DIRS, SECRETS, Portal, login, make_user, remember_session

pytestmark = [pytest.mark.services, pytest.mark.e2e]
A = "MER000002"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HEADERS = {
    "content-security-policy": "script-src 'self'",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture(scope="module")
def merchant(portal: Portal) -> dict[str, str]:
    name = f"sec-{uuid.uuid4().hex[:6]}"
    return {"user": name, "password": make_user(portal.engine, name, A)}


def _state(engine: Engine, item_reference: str) -> str:
    with engine.connect() as c:
        return str(
            c.execute(
                select(t.merchant_order_items.c.state).where(
                    t.merchant_order_items.c.reference == item_reference
                )
            ).scalar_one()
        )


def _log_lines(engine: Engine, reference: str) -> int:
    log = t.merchant_transition_log
    with engine.connect() as c:
        query = select(func.count()).where(log.c.merchant_order_reference == reference)
        return int(c.execute(query).scalar_one())


def test_markup_from_upstream_renders_as_text(
    portal: Portal, browser: Any, merchant: dict[str, str]
) -> None:
    body = example()
    body["customer"]["first_name"] = SCRIPT
    body["customer"]["last_name"] = IMG
    body["items"][0]["product"]["name"] = IMG
    body["items"][1]["product"]["sku"] = SCRIPT
    body["shipping_address"]["line"] = SCRIPT
    store(portal.engine, body)
    reference = f"{body['number']}--{A}"
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, portal.url, merchant["user"], merchant["password"])
    page.goto(f"{portal.url}/portal/?q={body['number']}")
    assert SCRIPT in page.locator("table.orders").inner_text()
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    text = page.locator("main").inner_text()
    assert SCRIPT in text and IMG in text
    assert page.locator("img").count() == 0
    assert page.locator("main script").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    remember_session(context, page)
    context.close()


def test_a_post_without_the_csrf_token_changes_nothing(
    portal: Portal, browser: Any, merchant: dict[str, str]
) -> None:
    body = example()
    store(portal.engine, body)
    reference = f"{body['number']}--{A}"
    item = f"{reference}--{body['items'][1]['id']}"
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, merchant["user"], merchant["password"])
    before = _log_lines(portal.engine, reference)
    url = f"{portal.url}/portal/orders/{reference}/events"
    form = {"event": "cancel by merchant", "item": item}
    for fields in (form, {**form, "csrf_token": "not-the-token"}):
        answer = context.request.post(url, form=fields, headers={"Origin": portal.url})
        assert answer.status == 403
        assert "Nothing was changed" in answer.text()
        for name, value in HEADERS.items():
            assert value in answer.headers[name]
    assert _state(portal.engine, item) == "new"
    page.wait_for_timeout(500)  # nothing was published: no outcome arrives later either
    assert _log_lines(portal.engine, reference) == before
    remember_session(context, page)
    context.close()


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Another origin (same host, another port): a static server for a forged page."""
    folder = tmp_path_factory.mktemp("other-site")
    port = free_port()
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = HTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", folder
    server.shutdown()
    server.server_close()


def test_a_cross_site_form_post_is_refused(
    portal: Portal, browser: Any, merchant: dict[str, str], other_site: tuple[str, Path]
) -> None:
    body = example()
    store(portal.engine, body)
    reference = f"{body['number']}--{A}"
    item = f"{reference}--{body['items'][1]['id']}"
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, merchant["user"], merchant["password"])
    page.goto(f"{portal.url}/portal/orders/{reference}/")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    # even with the session's own token (say it leaked), a post from another origin is refused
    site, folder = other_site
    (folder / "forged.html").write_text(
        f"""<!doctype html><title>win a prize</title>
        <form id="f" method="post" action="{portal.url}/portal/orders/{reference}/events">
        <input name="csrf_token" value="{token}"><input name="event" value="cancel by merchant">
        <input name="item" value="{item}"><button>go</button></form>""",
        encoding="utf-8",
    )
    page.goto(f"{site}/forged.html")
    with page.expect_navigation():
        page.get_by_role("button", name="go").click()
    assert page.url.startswith(portal.url)
    assert "Nothing was changed" in page.content()
    assert page.locator("h1").inner_text() == "Not allowed"
    assert _state(portal.engine, item) == "new"
    remember_session(context, page)
    context.close()


def _attempt(page: Any, url: str, user: str, password: str) -> str:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return str(page.locator("main").inner_text())


def test_ten_failures_lock_a_name_for_15_minutes_with_the_same_page(
    portal: Portal, browser: Any
) -> None:
    name = f"lock-{uuid.uuid4().hex[:6]}"
    password = make_user(portal.engine, name, A)
    context = browser.new_context()
    page = context.new_page()
    wrong = [_attempt(page, portal.url, name, "wrong-password-1") for _ in range(10)]
    nobody = _attempt(page, portal.url, f"nobody-{uuid.uuid4().hex[:6]}", "wrong-password-1")
    assert len(set(wrong)) == 1 and wrong[0] == nobody  # the same page, user or not
    # locked: the right password is refused with that same page
    assert _attempt(page, portal.url, name, password) == nobody
    assert "/login" in page.url
    with portal.engine.connect() as c:
        until = c.execute(
            select(t.login_throttle.c.locked_until).where(t.login_throttle.c.username == name)
        ).scalar_one()
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    # 15 minutes later (the lock moved into the past) the right password works
    with portal.engine.begin() as c:
        c.execute(
            update(t.login_throttle)
            .where(t.login_throttle.c.username == name)
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    _attempt(page, portal.url, name, password)
    assert page.url == f"{portal.url}/portal/"
    remember_session(context, page)
    context.close()


def test_every_page_sends_the_security_headers_and_a_strict_cookie(
    portal: Portal, browser: Any, merchant: dict[str, str]
) -> None:
    body = example()
    store(portal.engine, body)
    context = browser.new_context()
    page = context.new_page()
    answers = [page.goto(f"{portal.url}/login")]
    login(page, portal.url, merchant["user"], merchant["password"])
    for path in ("/portal/", f"/portal/orders/{body['number']}--{A}/",
                 "/portal/orders/NONE--X/", "/portal/?state=no-such-state",
                 "/static/web.css", "/", "/portal/no-such-page", "/portal/?page=x",
                 "/portal/reservations/"):  # fmt: skip
        answers.append(page.goto(portal.url + path))
    for answer in answers:
        for name, value in HEADERS.items():
            assert value in (answer.headers.get(name) or ""), (answer.url, name)
    assert "'unsafe-inline'" not in answers[0].headers["content-security-policy"]
    (cookie,) = [c for c in context.cookies() if c["name"] == "oms_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    remember_session(context, page)
    context.close()


def _cookie(engine: Engine, session: dict[str, Any]) -> str:
    """A session cookie signed with the app's key, as Starlette's SessionMiddleware makes it."""
    data = base64.b64encode(json.dumps(session).encode("utf-8"))
    value = TimestampSigner(session_secret(engine)).sign(data).decode("utf-8")
    SECRETS.append(value)
    return value


def test_an_old_a_tampered_or_an_outdated_session_is_refused(portal: Portal, browser: Any) -> None:
    name = f"old-{uuid.uuid4().hex[:6]}"
    make_user(portal.engine, name, A)
    long_ago = datetime.now(UTC) - timedelta(hours=10)  # made and given its password then
    with portal.engine.begin() as c:
        user_id = c.execute(
            update(t.users)
            .where(t.users.c.username == name)
            .values(created_at=long_ago, password_changed_at=long_ago)
            .returning(t.users.c.id)
        ).scalar_one()
    now = time.time()
    context = browser.new_context()
    page = context.new_page()

    def opens_portal(value: str) -> bool:
        context.clear_cookies()
        context.add_cookies([{"name": "oms_session", "value": value, "url": portal.url}])
        page.goto(f"{portal.url}/portal/")
        return page.url == f"{portal.url}/portal/"

    fresh = _cookie(portal.engine, {"user_id": user_id, "issued": int(now) - 60, "sid": "s1"})
    assert opens_portal(fresh)  # the way the test signs is the app's own
    hours = 8  # OMS_SESSION_HOURS' default
    assert not opens_portal(
        _cookie(portal.engine, {"user_id": user_id, "issued": now - hours * 3600 - 5, "sid": "s2"})
    )
    assert opens_portal(
        _cookie(portal.engine, {"user_id": user_id, "issued": now - hours * 3600 + 60, "sid": "s3"})
    )
    _, _, signature = fresh.partition(".")
    other = json.dumps({"user_id": user_id + 1, "issued": int(now), "sid": "s1"}).encode()
    assert not opens_portal(base64.b64encode(other).decode() + "." + signature)  # tampered
    # a new password ends the sessions from before it
    assert opens_portal(fresh)
    time.sleep(1.1)
    assert set_password(portal.engine, name, "a new password 123")
    SECRETS.append("a new password 123")
    assert not opens_portal(fresh)
    assert page.locator("h1").inner_text() == "Log in"
    context.close()


def test_logging_out_ends_the_session_even_for_a_copy_of_its_cookie(
    portal: Portal, browser: Any, merchant: dict[str, str]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, merchant["user"], merchant["password"])
    (copy,) = [c for c in context.cookies() if c["name"] == "oms_session"]
    remember_session(context, page)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{portal.url}/login")
    context.add_cookies([copy])
    page.goto(f"{portal.url}/portal/")
    assert page.url.startswith(f"{portal.url}/login")
    context.close()


def test_zz_no_password_cookie_or_csrf_token_in_any_log(portal: Portal) -> None:
    portal.server.stop()  # flush the access log
    portal.pipeline.stop()
    files = list(LOG_FILES) + [p for d in LOG_DIRS for p in d.glob("*.log")]
    assert SECRETS and files
    texts = {path: path.read_text(encoding="utf-8", errors="replace") for path in set(files)}
    assert any('"event": "web.login"' in text for text in texts.values()), "logging is on"
    for path, text in texts.items():
        for secret in set(SECRETS):
            assert secret not in text, f"a secret is in {path.name}"
        assert "oms_session=" not in text
        assert "csrf_token" not in text

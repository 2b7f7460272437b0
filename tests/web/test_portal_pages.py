"""The Merchant Portal in a real browser on the real services (spec 12): a merchant logs in,
finds an order by customer name, opens it, cancels an item before packing through the button
(published to `oms.merchant`, handled by the merchant worker, awaited) and sees the item's new
state and exactly the totals of spec 9.4's worked example; another merchant gets the same 404
page as for a missing order; a disabled user's open session is refused at its next request;
every page has one h1, a title, a label for every field and buttons reachable by keyboard; the
merchant's own reservations (spec 9.5) and CSV export."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from adapters.persistence.users import disable_user
from adapters.queries.reservations import reservation_page
from tests.api.stored import example, store
from tests.web.browser import Portal, login, make_user, remember_session, shots_dir

pytestmark = [pytest.mark.services, pytest.mark.e2e]
A, B = "MER000002", "MER000005"


def _order(engine: Engine, last_name: str) -> dict[str, Any]:
    body = example()
    body["customer"]["last_name"] = last_name
    store(engine, body)
    return body


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_dir(tmp_path_factory.mktemp("shots"))


@pytest.fixture(scope="module")
def shop(portal: Portal) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    users = {
        "a": f"shop-a-{tag}",
        "b": f"shop-b-{tag}",
    }
    passwords = {
        key: make_user(portal.engine, name, A if key == "a" else B) for key, name in users.items()
    }
    for _ in range(3):  # some company in the list
        _order(portal.engine, f"Other{tag}")
    return {
        **{f"{k}_user": v for k, v in users.items()},
        **{f"{k}_pw": v for k, v in passwords.items()},
        "tag": tag,
    }


def test_find_open_cancel_and_see_the_worked_example(
    portal: Portal, browser: Any, shop: dict[str, str], shots: Path
) -> None:
    body = _order(portal.engine, f"Kaya{shop['tag']}")
    reference = f"{body['number']}--{A}"
    kettle, mug = (f"{reference}--{item['id']}" for item in body["items"][:2])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, portal.url, shop["a_user"], shop["a_pw"])
    assert page.url == f"{portal.url}/portal/"
    assert page.locator("h1").inner_text() == "Orders"
    page.screenshot(path=str(shots / "portal-orders.png"), full_page=True)

    page.get_by_label("Reference or customer name").fill(f"kaya{shop['tag']}")  # any case
    with page.expect_navigation():  # count() does not wait: the filtered page, not the one before
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 1
    assert f"Ayse Kaya{shop['tag']}" in rows.first.inner_text()
    assert "150.90" in rows.first.inner_text()  # grand total 15090 (spec 9.4: MER000002)
    rows.first.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Merchant order {reference}"
    page.screenshot(path=str(shots / "portal-order-before-cancel.png"), full_page=True)

    mug_row = page.locator("table.items tbody tr", has=page.locator(f'[data-item="{mug}"]'))
    mug_row.get_by_role("button", name="cancel by merchant").click()
    page.wait_for_url(re.compile(r".*\?event=.*"), timeout=30_000)
    outcome = page.locator("#outcome")
    assert "applied" in outcome.inner_text()
    assert "canceled by merchant" in outcome.inner_text()
    assert page.locator(f'[data-item="{mug}"]').inner_text() == "canceled by merchant"
    assert page.locator(f'[data-item="{kettle}"]').inner_text() == "new"
    totals = {
        name: page.locator(f'[data-total="{name}"]').inner_text()
        for name in ("subtotal", "expense_total", "discount_total", "canceled_total",
                     "refund_total", "tax_total", "grand_total")
    }  # fmt: skip
    assert totals == {
        "subtotal": "150.00", "expense_total": "5.90", "discount_total": "5.00",
        "canceled_total": "45.00", "refund_total": "0.00", "tax_total": "17.65",
        "grand_total": "105.90",
    }  # fmt: skip
    # the mug takes no cancel any more; the timeline shows the merchant's event
    assert mug_row.get_by_role("button", name="cancel by merchant").count() == 0
    assert "cancel by merchant" in page.locator(".timeline").inner_text()
    # the mug's process, drawn by the app, marks its state
    page.locator("details", has_text="SKU-MUG").locator("summary").click()
    current = page.locator("details[open] svg.process .state.current")
    assert current.count() == 1
    assert current.text_content().startswith("canceled by merchant")
    page.screenshot(path=str(shots / "portal-order-after-cancel.png"), full_page=True)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    login(small, portal.url, shop["a_user"], shop["a_pw"])
    small.screenshot(path=str(shots / "portal-orders-phone.png"), full_page=True)
    # nothing wider than the phone's screen
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.goto(f"{portal.url}/portal/orders/{reference}/")
    small.locator("details", has_text="SKU-MUG").locator("summary").click()
    small.screenshot(path=str(shots / "portal-order-phone.png"), full_page=True)
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    remember_session(phone, small)
    phone.close()
    remember_session(context, page)
    context.close()


def test_another_merchant_gets_the_page_of_a_missing_order(
    portal: Portal, browser: Any, shop: dict[str, str]
) -> None:
    body = _order(portal.engine, f"Secret{shop['tag']}")
    theirs = f"{body['number']}--{A}"
    missing = f"NOPE-{uuid.uuid4().hex[:8].upper()}--{B}"
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, shop["b_user"], shop["b_pw"])
    answers = []
    for reference in (theirs, missing):
        response = page.goto(f"{portal.url}/portal/orders/{reference}/")
        answers.append((response.status, page.content().replace(reference, "REF")))
    assert answers[0][0] == 404
    assert answers[0] == answers[1]
    assert f"Secret{shop['tag']}" not in answers[0][1]
    # B's list holds B's own merchant order of that marketplace order, never A's
    page.goto(f"{portal.url}/portal/?q=Secret{shop['tag']}")
    listed = page.locator("table.orders tbody tr a").all_inner_texts()
    assert listed == [f"{body['number']}--{B}"]
    page.goto(f"{portal.url}/portal/?q={theirs}")
    assert "No merchant order matches" in page.content()
    remember_session(context, page)
    context.close()


def test_a_disabled_users_session_is_refused_at_its_next_request(
    portal: Portal, browser: Any
) -> None:
    name = f"shop-gone-{uuid.uuid4().hex[:6]}"
    password = make_user(portal.engine, name, A)
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, name, password)
    assert page.goto(f"{portal.url}/portal/").status == 200
    assert disable_user(portal.engine, name)
    page.goto(f"{portal.url}/portal/")
    assert page.url.startswith(f"{portal.url}/login")
    assert page.locator("h1").inner_text() == "Log in"
    # logging in again is refused too
    login(page, portal.url, name, password)
    assert "password is wrong" in page.locator(".alert").inner_text()
    context.close()


def _accessible(page: Any) -> None:
    assert page.locator("h1").count() == 1, page.url
    assert page.title().strip(), page.url
    fields = page.locator("input:not([type=hidden]), select, textarea")
    for index in range(fields.count()):
        field = fields.nth(index)
        field_id = field.get_attribute("id")
        labelled = field_id and page.locator(f'label[for="{field_id}"]').count() == 1
        assert labelled or field.get_attribute("aria-label"), f"{page.url}: {field_id} unlabelled"


def _reached_by_tab(page: Any, most: int = 80) -> set[str]:
    seen: set[str] = set()
    page.locator("body").focus()
    for _ in range(most):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.outerHTML"))
    return seen


def test_pages_have_one_h1_a_title_labels_and_keyboard_buttons(
    portal: Portal, browser: Any, shop: dict[str, str]
) -> None:
    body = _order(portal.engine, f"Keys{shop['tag']}")
    reference = f"{body['number']}--{A}"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{portal.url}/login")
    _accessible(page)
    login(page, portal.url, shop["a_user"], shop["a_pw"])
    paths = ["/portal/", f"/portal/orders/{reference}/", "/portal/orders/NONE--X/",
             "/portal/?q=nothing-like-this", "/portal/no-such-page", "/portal/?page=x",
             "/portal/reservations/", "/portal/reservations/?offer=nothing-here"]  # fmt: skip
    for path in paths:
        page.goto(portal.url + path)
        _accessible(page)
    page.goto(f"{portal.url}/portal/orders/{reference}/")
    reached = _reached_by_tab(page)
    buttons = page.locator("button")
    assert buttons.count() >= 4  # log out, the whole order's events, each item's events
    for index in range(buttons.count()):
        assert buttons.nth(index).evaluate("e => e.outerHTML") in reached
    # Enter on a focused link opens it
    page.goto(f"{portal.url}/portal/")
    page.locator("table.orders a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/portal/orders/.*"))
    remember_session(context, page)
    context.close()


def test_the_merchants_own_csv_export_downloads(
    portal: Portal, browser: Any, shop: dict[str, str]
) -> None:
    body = _order(portal.engine, f"Csv{shop['tag']}")
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, shop["a_user"], shop["a_pw"])
    today = datetime.now(UTC).date().isoformat()
    page.locator("#export_from").fill(today)
    page.locator("#export_to").fill(today)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Download zip").click()
    download = waiting.value
    assert download.suggested_filename == f"{A}-merchant-orders.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert sorted(archive.namelist()) == [
            "merchant-order-expenses.csv", "merchant-order-items.csv", "merchant-orders.csv"
        ]  # fmt: skip
        orders = list(csv.DictReader(io.TextIOWrapper(archive.open("merchant-orders.csv"))))
    assert orders and {row["merchant_reference"] for row in orders} == {A}
    assert f"{body['number']}--{A}" in {row["merchant_order_reference"] for row in orders}
    # a day without orders: the files hold their header alone
    empty = context.request.get(
        f"{portal.url}/portal/export?created_from=2001-01-01&created_to=2001-01-02"
    )
    with zipfile.ZipFile(io.BytesIO(empty.body())) as archive:
        assert archive.read("merchant-orders.csv").decode().count("\n") == 1
    remember_session(context, page)
    context.close()


def test_the_merchants_reservations(
    portal: Portal, browser: Any, shop: dict[str, str], shots: Path
) -> None:
    _order(portal.engine, f"Resv{shop['tag']}")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, portal.url, shop["a_user"], shop["a_pw"])
    page.get_by_role("link", name="Reservations").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Reservations"
    _accessible(page)
    stored = reservation_page(portal.engine, merchant=A, limit=None)
    assert stored.count >= 1
    for r in stored.results:  # the page shows what the query reads, all of A's and only A's
        assert page.locator(f'[data-reserved="{r.key.reference}"]').inner_text() == str(r.quantity)
    assert page.locator("table.reservations tbody tr").count() == stored.count
    page.screenshot(path=str(shots / "portal-reservations.png"), full_page=True)
    remember_session(context, page)
    context.close()

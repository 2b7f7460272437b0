"""Back Office merchants, processes and reservations in a real browser on the real services
(spec 9.5, 10, 12): a status CSV with one bad row gives the row-level report of `oms import`; a
process CSV sets a new merchant's process and the page's Assign changes it; every process is
drawn with its reserved states marked; reservations across merchants with the verify result."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from tests.api.stored import example, store
from tests.web.browser import Portal, remember_session, shots_dir
from tests.web.operators import make_operator, operator_page

pytestmark = [pytest.mark.services, pytest.mark.e2e]
A, B = "MER000002", "MER000005"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_dir(tmp_path_factory.mktemp("shots"))


@pytest.fixture(scope="module")
def operator(portal: Portal, browser: Any) -> Iterator[Any]:
    name = f"op-{uuid.uuid4().hex[:6]}"
    context, page = operator_page(browser, portal, name, make_operator(portal.engine, name))
    yield page
    remember_session(context, page)
    context.close()


def _process_of(engine: Engine, merchant: str) -> str | None:
    with engine.connect() as c:
        query = select(t.merchants.c.oms_process).where(t.merchants.c.reference == merchant)
        return c.execute(query).scalar_one_or_none()


def _upload(page: Any, url: str, kind: str, name: str, text: str) -> None:
    page.goto(f"{url}/backoffice/merchants/")
    page.get_by_label("File", exact=True).select_option(kind)
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}
    )
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()


def test_a_status_csv_with_one_bad_row_gives_the_row_report_of_oms_import(
    portal: Portal, operator: Any
) -> None:
    body = example()
    store(portal.engine, body)
    mug = f"{body['number']}--{A}--{body['items'][1]['id']}"
    lamp = f"{body['number']}--{B}--{body['items'][2]['id']}"
    text = (
        "merchant_order_item_reference,merchant_order_item_oms_event_state\n"
        f"{mug},cancel by merchant\n{lamp},ship\n"
    )
    _upload(operator, portal.url, "merchant-order-status", "status.csv", text)
    assert operator.locator("ol.report li").all_inner_texts() == [
        f"row 1: {mug} cancel by merchant: applied (new -> canceled by merchant)",
        f"row 2: {lamp} ship: rejected: shipping status of marketplace orders comes from the "
        "channel's carrier",
    ]
    summary = operator.locator("#summary").inner_text()
    assert summary.startswith("Rows processed: 1/2") and "1 row failed: 2" in summary


def test_a_process_csv_sets_a_merchants_process_and_assign_changes_it(
    portal: Portal, operator: Any, shots: Path
) -> None:
    merchant = f"MBO{uuid.uuid4().hex[:8].upper()}"
    text = f"merchant_reference,merchant_oms_process_name\n{merchant},MainMerchantStateMachine\n"
    _upload(operator, portal.url, "merchant-oms-process", "merchant_oms_process.csv", text)
    assert operator.locator("ol.report li").all_inner_texts() == [
        f"row 1: {merchant} -> MainMerchantStateMachine (new merchant)"
    ]
    assert _process_of(portal.engine, merchant) == "MainMerchantStateMachine"

    operator.goto(f"{portal.url}/backoffice/merchants/")
    row = operator.locator(f'tr[data-merchant="{merchant}"]')
    assert row.locator("td.process").inner_text() == "MainMerchantStateMachine"
    row.get_by_label(f"Process for {merchant}").select_option("MerchantDefaultStateMachine")
    row.get_by_role("button", name="Assign").click()
    operator.wait_for_load_state()
    assert operator.locator("ol.report li").all_inner_texts() == [
        f"row 1: {merchant} -> MerchantDefaultStateMachine (was MainMerchantStateMachine)"
    ]
    assert _process_of(portal.engine, merchant) == "MerchantDefaultStateMachine"


def test_every_process_is_drawn_with_its_reserved_states_marked(
    portal: Portal, operator: Any, shots: Path
) -> None:
    operator.goto(f"{portal.url}/backoffice/processes/")
    main = operator.locator('section[data-process="MainMerchantStateMachine"]')
    assert main.locator("svg.process").count() == 1
    reserved = main.locator("svg.process .state.reserved text").all_text_contents()
    assert "new" in reserved
    assert "delivered" not in reserved and reserved
    operator.screenshot(path=str(shots / "backoffice-process-diagram.png"), full_page=True)


def test_reservations_across_merchants_with_the_verify_result(
    portal: Portal, operator: Any
) -> None:
    store(portal.engine, example())
    operator.goto(f"{portal.url}/backoffice/reservations/")
    merchants = set(
        operator.locator("table.reservations tbody tr td:first-child").all_inner_texts()
    )
    assert {A, B} <= merchants
    operator.get_by_label("Merchant").fill(B)
    operator.get_by_role("button", name="Filter").click()
    assert set(
        operator.locator("table.reservations tbody tr td:first-child").all_inner_texts()
    ) == {B}
    operator.get_by_role("link", name="Verify").click()
    operator.wait_for_load_state()
    assert (
        operator.locator("#verify")
        .inner_text()
        .endswith("every reservation equals the sum recomputed from its items")
    )

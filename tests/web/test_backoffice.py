"""The Back Office in a real browser on the real services (spec 12): an operator finds an order
by its package number, opens it and sees the identity check pass and its history; a malformed
message published to `oms.ingest` appears on the dead-letters page with its reason and order
number, is resolved with a note and leaves the count; the queues page updates without a reload
while messages arrive; a merchant user is refused (403) on every Back Office URL; markup in
order data renders as text; a POST without the CSRF token changes nothing."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import publish
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence.dead_letters import dead_letters
from adapters.persistence.queue_samples import record_samples
from flows.package_bulk import BulkSummary
from tests import services
from tests.api.stored import example, fresh_channel, store
from tests.e2e.pipeline import wait_for
from tests.e2e.test_reports import omnitron_items, reports_sent
from tests.web.browser import Portal, login, make_user, remember_session, shots_dir
from tests.web.operators import make_operator, operator_page

pytestmark = [pytest.mark.services, pytest.mark.e2e]
A = "MER000002"
SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_dir(tmp_path_factory.mktemp("shots"))


@pytest.fixture(scope="module")
def office(portal: Portal) -> Iterator[dict[str, str]]:
    """An operator and a merchant user; an ingest worker (dead letters come from it)."""
    tag = uuid.uuid4().hex[:6]
    password = make_operator(portal.engine, f"op-{tag}")
    merchant_pw = make_user(portal.engine, f"shop-{tag}", A)
    portal.pipeline._spawn(
        "ingest",
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
         "--threads", "1", "--queues", "oms.ingest"],
    )  # fmt: skip
    portal.pipeline.env["OMS_QUEUE_SAMPLE_SECONDS"] = "1"  # the charts' samples, every second
    portal.pipeline._spawn("keeper", [*portal.pipeline.oms, "dlq", "keep", "--loop"])
    yield {"op": f"op-{tag}", "op_pw": password, "shop": f"shop-{tag}", "shop_pw": merchant_pw}


def _operator(browser: Any, portal: Portal, office: dict[str, str]) -> tuple[Any, Any]:
    return operator_page(browser, portal, office["op"], office["op_pw"])


def test_an_operator_finds_an_order_by_package_number_and_sees_the_identity_hold(
    portal: Portal, browser: Any, office: dict[str, str], shots: Path
) -> None:
    body = example()
    body["items"][0]["product"]["name"] = SCRIPT
    body["customer"]["first_name"] = IMG
    store(portal.engine, body)
    package = f"{body['number']}--{A}"  # a package's number is its merchant order's reference
    context, page = _operator(browser, portal, office)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{portal.url}/backoffice/orders/")
    assert page.locator("h1").inner_text() == "Orders"
    page.get_by_label("Order number, package number or merchant order reference").fill(package)
    with page.expect_navigation():  # count() does not wait: the results page, not the one before
        page.get_by_role("button", name="Search").click()
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 1
    rows.first.get_by_role("link", name=body["number"]).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Order {body['number']}"
    assert page.locator("#identity").inner_text() == "identity holds"
    assert page.locator("table.identity").inner_text().count("✓") == 7
    assert page.locator(f'[data-package="{package}"]').count() == 1
    history = page.locator("ol.history").inner_text()
    assert "ingested" in history and "split" in history
    assert SCRIPT in page.locator("table.items").first.inner_text()  # markup as text
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    page.screenshot(path=str(shots / "backoffice-order-history.png"), full_page=True)

    odd = example(f"TY/{uuid.uuid4().hex[:6]} ?#%")  # a number is text: any character
    store(portal.engine, odd)
    page.goto(f"{portal.url}/backoffice/orders/")
    page.get_by_label("Order number, package number or merchant order reference").fill(
        odd["number"]
    )
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=odd["number"]).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Order {odd['number']}"
    page.wait_for_timeout(200)
    assert dialogs == []
    remember_session(context, page)
    context.close()


def _publish_raw(url: str, body: dict[str, Any]) -> None:
    broker = build_broker(url, [])
    try:
        publish(broker, "oms.ingest", "ingest_order", body)
    finally:
        broker.close()


def test_a_malformed_order_is_a_dead_letter_resolved_from_the_page(
    portal: Portal, browser: Any, office: dict[str, str], shots: Path
) -> None:
    body = example()
    body["number"] = f"BAD-{uuid.uuid4().hex[:6]}"
    body["items"][0]["quantity"] = -3  # fails validation
    _publish_raw(portal.pipeline.env["OMS_BROKER_URL"], body)

    def recorded() -> list[dict[str, Any]]:
        return dead_letters(portal.engine, "oms.ingest", order_number=body["number"])

    wait_for(lambda: bool(recorded()), 30, "the dead letter")
    letter = recorded()[0]
    context, page = _operator(browser, portal, office)
    page.goto(f"{portal.url}/backoffice/dead-letters/?queue=oms.ingest")
    count = page.locator('[data-open-count="oms.ingest"]')
    before = int(count.inner_text().split()[-1])
    card = page.locator(f'section[data-letter="{letter["id"]}"]')
    assert card.locator(".order-number").inner_text().startswith(f"{body['number']} (channel")
    assert card.locator(".reason").inner_text().startswith("invalid message:")
    card.locator("summary").click()
    assert json.dumps(body["number"]) in card.locator("pre.body").inner_text()
    page.screenshot(path=str(shots / "backoffice-dead-letters.png"), full_page=True)

    # replay first: the page warns that the body failed validation, and nothing is sent yet
    card.get_by_role("button", name="Replay (failed validation)").click()
    page.wait_for_load_state()
    assert "failed validation" in page.locator(".warning").inner_text()
    assert recorded()[0]["replayed_at"] is None
    page.get_by_role("link", name="Back", exact=True).click()
    page.wait_for_load_state()

    card = page.locator(f'section[data-letter="{letter["id"]}"]')
    card.get_by_label("Note").fill("negative quantity from the channel; will never be valid")
    card.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    assert page.locator("#said").inner_text().startswith(f"resolved {letter['id']}")
    assert page.locator(f'section[data-letter="{letter["id"]}"]').count() == 0
    after = int(page.locator('[data-open-count="oms.ingest"]').inner_text().split()[-1])
    assert after == before - 1
    assert recorded()[0]["resolution_note"].startswith("negative quantity")
    remember_session(context, page)
    context.close()


def test_the_queues_page_updates_without_a_reload(
    portal: Portal, browser: Any, office: dict[str, str], shots: Path
) -> None:
    # for the screenshot, a drained backlog on oms.split: the samples the keeper would have
    # written over the last 12 minutes (the keeper of this module began seconds ago)
    now = datetime.now(UTC)
    for minute in range(12, 0, -1):
        row = {"queue": "oms.split", "ready": max(0, 40 * minute // 12 - 8), "unacked": 0}
        record_samples(portal.engine, [row], now - timedelta(minutes=minute))
    context, page = _operator(browser, portal, office)
    page.goto(f"{portal.url}/backoffice/queues/")
    ready = page.locator('tr[data-queue="oms.poll"] td[data-field="ready"]')
    page.locator("table.queues[data-polls]").wait_for()  # the script's first poll answered
    first = ready.inner_text()
    # no poll worker runs in these modules: what is published waits, ready grows
    url = portal.pipeline.env["OMS_BROKER_URL"]
    broker = build_broker(url, [])
    try:
        for _ in range(5):
            publish(broker, "oms.poll", "poll_packages", {"bogus": True})
    finally:
        broker.close()
    marker = page.evaluate("window.__marker = 'same page'")
    assert marker == "same page"
    wait_for(lambda: ready.inner_text() != first, 15, "the figure to change")
    assert int(ready.inner_text()) >= int(first if first != "-" else 0) + 5
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    # the keeper's samples: the chart's last point is the new depth, at its top
    chart = page.locator('tr[data-queue="oms.poll"] svg.depth')
    wait_for(lambda: chart.get_attribute("data-max") == ready.inner_text(), 15, "the chart")
    assert len((chart.locator("polyline").get_attribute("points") or "").split()) >= 2
    page.screenshot(path=str(shots / "backoffice-queues.png"), full_page=True)
    remember_session(context, page)
    context.close()
    services.purge_queues(url)  # the bogus messages must not reach a later module's poll worker


SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"


@pytest.fixture(scope="module")
def omnitron() -> Iterator[OmnitronSimulator]:
    simulator = OmnitronSimulator(username="oms", password="oms")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def packing(portal: Portal, omnitron: OmnitronSimulator) -> OmnitronSimulator:
    """A packaging and report worker, reporting to the simulator."""
    portal.pipeline.env["OMNITRON_URL"] = omnitron.url
    portal.pipeline._spawn(
        "packing",
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
         "--threads", "4", "--queues", "oms.packaging", "oms.report"],
    )  # fmt: skip
    return omnitron


def test_an_operator_bulk_packs_50_waiting_packages_and_omnitron_gets_the_450s(
    portal: Portal, browser: Any, office: dict[str, str], packing: OmnitronSimulator,
    shots: Path,
) -> None:  # fmt: skip
    omnitron = packing
    channel = fresh_channel()
    bodies, ids = [], []
    for _ in range(25):  # two merchants each: 50 packages
        body = example(channel_id=channel)
        omnitron.register(body)
        ids += store(portal.engine, body)
        bodies.append(body)
    context, page = _operator(browser, portal, office)
    page.goto(f"{portal.url}/backoffice/packages/?status=waiting&channel={channel}")
    assert page.locator("table.packages tbody tr").count() == 50
    page.get_by_role("button", name="Run on all 50 in this state").click()
    page.locator("#summary").wait_for(timeout=90_000)  # the page refreshed while it ran
    expected = BulkSummary(SLUG, "waiting", channel, found=50, published=50, applied=50)
    assert page.locator("#summary").inner_text() == "\n".join(expected.lines(120.0))
    page.screenshot(path=str(shots / "backoffice-bulk-summary.png"), full_page=True)

    wait_for(lambda: reports_sent(portal.engine, ids) == 50, 60, "the 50 reports")
    statuses = omnitron_items(omnitron, bodies)
    assert statuses == {item["id"]: "450" for body in bodies for item in body["items"]}

    # the same state again, from the page and from the command: the same summary
    page.goto(f"{portal.url}/backoffice/packages/?status=waiting&channel={channel}")
    page.get_by_role("button", name="Run on all 0 in this state").click()
    page.locator("#summary").wait_for(timeout=30_000)
    command = portal.pipeline.run_oms(
        "package", "command", "--status", "waiting", "--channel", str(channel), SLUG
    )
    assert page.locator("#summary").inner_text() == command.stdout.rstrip("\n")
    remember_session(context, page)
    context.close()


def test_selected_packages_only_are_packed(
    portal: Portal, browser: Any, office: dict[str, str], packing: OmnitronSimulator
) -> None:
    channel = fresh_channel()
    ids: list[int] = []
    for _ in range(2):
        body = example(channel_id=channel)
        packing.register(body)
        ids += store(portal.engine, body)
    chosen = ids[1:3]
    context, page = _operator(browser, portal, office)
    page.goto(f"{portal.url}/backoffice/packages/?status=waiting&channel={channel}")
    for package_id in chosen:
        page.locator(f"#p-{package_id}").check()
    page.get_by_role("button", name="Run on the selected").click()
    page.locator("#summary").wait_for(timeout=60_000)
    expected = BulkSummary(SLUG, "waiting", channel, found=2, published=2, applied=2)
    assert page.locator("#summary").inner_text() == "\n".join(expected.lines(120.0))
    page.goto(f"{portal.url}/backoffice/packages/?status=waiting&channel={channel}")
    left = page.locator("table.packages tbody input[type=checkbox]")
    assert sorted(int(v) for v in left.evaluate_all("(boxes) => boxes.map(b => b.value)")) == [
        i for i in ids if i not in chosen
    ]
    remember_session(context, page)
    context.close()


URLS = [
    "/backoffice/", "/backoffice/orders/", "/backoffice/orders/1/X/",
    "/backoffice/dead-letters/", "/backoffice/queues/", "/backoffice/queues.json",
    "/backoffice/packages/", "/backoffice/packages/?status=waiting", "/backoffice/packages/runs/x",
    "/backoffice/merchants/", "/backoffice/processes/", "/backoffice/reservations/",
    "/backoffice/reservations/?verify=1",
]  # fmt: skip
POSTS = [
    "/backoffice/merchants/assign",
    "/backoffice/merchants/import",
    "/backoffice/packages/command",
    "/backoffice/dead-letters/1/replay",
    "/backoffice/dead-letters/1/resolve",
]


def test_a_merchant_user_is_refused_on_every_back_office_url(
    portal: Portal, browser: Any, office: dict[str, str]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, portal.url, office["shop"], office["shop_pw"])
    for path in URLS:
        answer = context.request.get(f"{portal.url}{path}", max_redirects=0)
        assert answer.status == 403, path
    for path in POSTS:
        answer = context.request.post(
            f"{portal.url}{path}", form={"note": "x"}, headers={"Origin": portal.url}
        )
        assert answer.status == 403, path
    remember_session(context, page)
    context.close()


def test_a_post_without_the_csrf_token_changes_nothing(
    portal: Portal, browser: Any, office: dict[str, str]
) -> None:
    body = example()
    body["number"] = f"BAD-{uuid.uuid4().hex[:6]}"
    body["items"][0]["quantity"] = 0
    _publish_raw(portal.pipeline.env["OMS_BROKER_URL"], body)
    wait_for(
        lambda: bool(dead_letters(portal.engine, "oms.ingest", order_number=body["number"])),
        30,
        "the dead letter",
    )
    letter = dead_letters(portal.engine, "oms.ingest", order_number=body["number"])[0]
    context, page = _operator(browser, portal, office)
    url = f"{portal.url}/backoffice/dead-letters/{letter['id']}/resolve"
    for fields in ({"note": "n"}, {"note": "n", "csrf_token": "not-the-token"}):
        answer = context.request.post(url, form=fields, headers={"Origin": portal.url})
        assert answer.status == 403
        assert "Nothing was changed" in answer.text()
    again = dead_letters(portal.engine, "oms.ingest", order_number=body["number"])[0]
    assert again["resolved_at"] is None and again["replayed_at"] is None
    remember_session(context, page)
    context.close()

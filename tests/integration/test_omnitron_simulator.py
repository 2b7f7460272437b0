"""The Omnitron simulator over real HTTP on loopback (spec §6): login, registration, listing and
pagination, item updates, fault injection and the request log. Needs no PostgreSQL/RabbitMQ."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.omnitron.simulator import OmnitronSimulator, read_orders

ROOT = Path(__file__).resolve().parents[2]
BULK = "/api/i1/order_items/bulk_status_update/"
LOGIN = {"username": "oms", "password": "s3cret"}


def order_body(number: str, item_ids: list[int], status: str = "400") -> dict[str, Any]:
    return {
        "number": number,
        "channel": {"id": 42, "name": "Trendyol", "channel_type": "trendyol"},
        "status": status,
        "date_placed": "2026-11-20T10:15:00+03:00",
        "currency": "try",
        "items": [
            {
                "id": i,
                "product": {"sku": f"SKU-{i}", "name": "Mug"},
                "price": "10.00",
                "tax_rate": "20",
            }
            for i in item_ids
        ],
    }


@pytest.fixture
def sim() -> Iterator[OmnitronSimulator]:
    with OmnitronSimulator(username="oms", password="s3cret") as simulator:
        yield simulator


@pytest.fixture
def api(sim: OmnitronSimulator) -> requests.Session:
    """A session logged in to the simulator."""
    session = requests.Session()
    answer = session.post(f"{sim.url}/api/v1/auth/login/", json=LOGIN, timeout=5)
    session.headers["Authorization"] = f"Token {answer.json()['key']}"
    return session


def fault(sim: OmnitronSimulator, spec: Any) -> requests.Response:
    return requests.post(f"{sim.url}/sim/faults", json=spec, timeout=5)


def test_login_issues_tokens_that_the_other_endpoints_require(sim: OmnitronSimulator) -> None:
    orders = f"{sim.url}/api/v1/orders/"
    good = requests.post(f"{sim.url}/api/v1/auth/login/", json=LOGIN, timeout=5)
    wrong = {"username": "oms", "password": "nope"}
    bad = requests.post(f"{sim.url}/api/v1/auth/login/", json=wrong, timeout=5)
    assert good.status_code == 200 and len(good.json()["key"]) >= 20
    assert bad.status_code == 400 and "credentials" in bad.json()["detail"]
    assert requests.get(orders, timeout=5).status_code == 401
    bogus = {"Authorization": "Token not-issued"}
    assert requests.get(orders, headers=bogus, timeout=5).status_code == 401
    key = {"Authorization": f"Token {good.json()['key']}"}
    assert requests.get(orders, headers=key, timeout=5).status_code == 200
    bare = {"Authorization": good.json()["key"]}  # the "Token " scheme is required
    assert requests.get(orders, headers=bare, timeout=5).status_code == 401


def test_registration_is_idempotent_on_number(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    first = api.post(f"{sim.url}/api/v1/orders/", json=order_body("A-1", [11, 12], "450"))
    assert first.status_code == 201
    assert first.json() == {
        "number": "A-1",
        "status": "450",
        "items": [{"id": 11, "status": "450"}, {"id": 12, "status": "450"}],
    }
    again = api.post(f"{sim.url}/api/v1/orders/", json=order_body("A-1", [11, 12, 13], "400"))
    assert again.status_code == 200 and again.json() == first.json()  # nothing replaced
    assert api.get(f"{sim.url}/api/v1/orders/A-1/").json() == first.json()
    assert api.get(f"{sim.url}/api/v1/orders/NOPE/").status_code == 404


def test_an_invalid_order_or_a_taken_item_id_is_refused_with_the_reason(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    bad = order_body("B-1", [21], status="999")
    answer = api.post(f"{sim.url}/api/v1/orders/", json=bad)
    assert answer.status_code == 400 and "status" in answer.json()["detail"]
    no_items = {**order_body("B-2", [22]), "items": []}
    assert api.post(f"{sim.url}/api/v1/orders/", json=no_items).status_code == 400
    sim.register(order_body("B-3", [23]))
    taken = api.post(f"{sim.url}/api/v1/orders/", json=order_body("B-4", [23]))
    assert taken.status_code == 400 and "23" in taken.json()["detail"]
    not_json = api.post(f"{sim.url}/api/v1/orders/", data=b"{oops")
    assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]


def test_listing_filters_by_number_and_paginates(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    numbers = [f"P-{n:03}" for n in range(120)]
    for n, number in enumerate(numbers):
        sim.register(order_body(number, [1000 + n]))
    asked = ",".join([*numbers, "UNKNOWN"])
    url: str | None = f"{sim.url}/api/v1/orders/?number__in={asked}&limit=50"
    pages = []
    while url:
        page = api.get(url).json()
        pages.append(page)
        url = page["next"]
    assert [len(p["results"]) for p in pages] == [50, 50, 20]
    assert {p["count"] for p in pages} == {120}
    assert [o["number"] for p in pages for o in p["results"]] == numbers  # UNKNOWN is absent
    assert pages[0]["previous"] is None and pages[2]["next"] is None
    assert pages[1]["previous"].startswith(f"{sim.url}/api/v1/orders/?")
    assert "page=1" in pages[1]["previous"] and "page=3" in pages[1]["next"]
    default = api.get(f"{sim.url}/api/v1/orders/", params={"number__in": ",".join(numbers)})
    assert len(default.json()["results"]) == 50  # default limit
    only = api.get(f"{sim.url}/api/v1/orders/", params={"number__in": "P-007,ZZZ"}).json()
    assert only["count"] == 1 and only["results"][0]["number"] == "P-007"
    assert api.get(f"{sim.url}/api/v1/orders/?limit=x").status_code == 400
    assert api.get(f"{sim.url}/api/v1/orders/?number__in=P-001&page=2").status_code == 404


def test_bulk_update_sets_statuses_or_changes_nothing(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    sim.register(order_body("C-1", [31, 32, 33]))
    ok = api.patch(f"{sim.url}{BULK}", json={"orderitem_set": [{"id": 31, "status": "450"}]})
    assert ok.status_code == 200
    unknown_item = {"orderitem_set": [{"id": 32, "status": "450"}, {"id": 999, "status": "450"}]}
    answer = api.patch(f"{sim.url}{BULK}", json=unknown_item)
    assert answer.status_code == 400 and "999" in answer.json()["detail"]
    unknown_code = {"orderitem_set": [{"id": 33, "status": "450"}, {"id": 32, "status": "451"}]}
    answer = api.patch(f"{sim.url}{BULK}", json=unknown_code)
    assert answer.status_code == 400 and "451" in answer.json()["detail"]
    assert api.patch(f"{sim.url}{BULK}", json={"orderitem_set": []}).status_code == 400
    items = api.get(f"{sim.url}/api/v1/orders/C-1/").json()["items"]
    assert {i["id"]: i["status"] for i in items} == {31: "450", 32: "400", 33: "400"}


def test_patch_of_one_item(sim: OmnitronSimulator, api: requests.Session) -> None:
    sim.register(order_body("D-1", [41, 42]))
    shipped = api.patch(f"{sim.url}/api/v1/order_items/42/", json={"status": "500"})
    assert shipped.status_code == 200 and shipped.json() == {"id": 42, "status": "500"}
    assert (
        api.patch(f"{sim.url}/api/v1/order_items/4242/", json={"status": "500"}).status_code == 404
    )
    assert api.patch(f"{sim.url}/api/v1/order_items/41/", json={"status": "1"}).status_code == 400
    items = api.get(f"{sim.url}/api/v1/orders/D-1/").json()["items"]
    assert {i["id"]: i["status"] for i in items} == {41: "400", 42: "500"}


def test_status_faults_count_down_and_spare_the_sim_endpoints(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    assert fault(sim, {"status": 503, "count": 2}).status_code == 200
    assert requests.get(f"{sim.url}/sim/requests", timeout=5).status_code == 200  # not faulted
    orders = f"{sim.url}/api/v1/orders/"
    assert [api.get(orders).status_code for _ in range(3)] == [503, 503, 200]
    fault(sim, {"status": 429, "retry_after": 7})
    throttled = api.get(orders)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    fault(sim, {"status": 500, "count": 5})
    requests.delete(f"{sim.url}/sim/faults", timeout=5)
    assert api.get(orders).status_code == 200
    bad: list[Any] = [{"status": "503"}, {"count": 2}, {"status": 503, "retry-after": 1}, []]
    for spec in bad:  # a string status, nothing to inject, a misspelt field, not an object
        assert fault(sim, spec).status_code == 400, spec


def test_delay_drop_and_expired_tokens(sim: OmnitronSimulator, api: requests.Session) -> None:
    orders = f"{sim.url}/api/v1/orders/"
    fault(sim, {"delay_ms": 300, "count": 1})
    started = time.monotonic()
    assert api.get(orders).status_code == 200
    assert time.monotonic() - started >= 0.3
    fault(sim, {"drop": True, "count": 1})
    with pytest.raises(requests.ConnectionError):
        api.get(orders)
    assert api.get(orders).status_code == 200
    fault(sim, {"expire_tokens": True})
    assert api.get(orders).status_code == 401
    assert [r["status"] for r in sim.requests()][-4:] == [200, 0, 200, 401]


def test_the_request_log_records_everything_in_order(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    sim.register(order_body("E-1", [51]))
    fault(sim, {"status": 503})
    api.patch(f"{sim.url}{BULK}", json={"orderitem_set": [{"id": 51, "status": "450"}]})
    api.get(f"{sim.url}/api/v1/orders/", params={"number__in": "E-1"})
    log = requests.get(f"{sim.url}/sim/requests", timeout=5).json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/api/v1/auth/login/", 200),
        ("PATCH", BULK, 503),
        ("GET", "/api/v1/orders/", 200),
    ]
    assert log[0]["body"] == {"username": "oms", "password": "***"}  # never the password
    assert log[1]["body"] == {"orderitem_set": [{"id": 51, "status": "450"}]}
    assert log[2]["query"] == "number__in=E-1" and log[2]["body"] is None
    assert all(isinstance(r["time"], float) for r in log)
    assert log[0]["time"] <= log[1]["time"] <= log[2]["time"]
    requests.delete(f"{sim.url}/sim/requests", timeout=5)
    assert sim.requests() == []


def test_reset_forgets_orders_tokens_faults_and_log(
    sim: OmnitronSimulator, api: requests.Session
) -> None:
    sim.register(order_body("F-1", [61]))
    fault(sim, {"status": 503, "count": 100})
    assert requests.post(f"{sim.url}/sim/reset", timeout=5).status_code == 200
    assert sim.requests() == [] and not sim.state.orders and not sim.state.faults
    assert api.get(f"{sim.url}/api/v1/orders/").status_code == 401  # token forgotten, no 503
    login = requests.post(f"{sim.url}/api/v1/auth/login/", json=LOGIN, timeout=5)
    token = {"Authorization": f"Token {login.json()['key']}"}
    assert (
        requests.get(f"{sim.url}/api/v1/orders/F-1/", headers=token, timeout=5).status_code == 404
    )


def test_concurrent_updates_are_all_applied(sim: OmnitronSimulator, api: requests.Session) -> None:
    sim.register(order_body("G-1", list(range(700, 740))))
    token = api.headers["Authorization"]

    def update(item_id: int) -> None:
        body = {"orderitem_set": [{"id": item_id, "status": "450"}]}
        requests.patch(f"{sim.url}{BULK}", json=body, headers={"Authorization": token}, timeout=5)

    threads = [threading.Thread(target=update, args=(i,)) for i in range(700, 740)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = api.get(f"{sim.url}/api/v1/orders/G-1/").json()["items"]
    assert {i["status"] for i in items} == {"450"}
    assert sum(r["path"] == BULK and r["status"] == 200 for r in sim.requests()) == 40


def test_the_server_is_quiet_and_on_loopback(
    sim: OmnitronSimulator, api: requests.Session, capfd: pytest.CaptureFixture[str]
) -> None:
    assert sim.url.startswith("http://127.0.0.1:")
    fault(sim, {"delay_ms": 400})
    with pytest.raises(requests.Timeout):  # the simulator then writes to a closed connection
        api.get(f"{sim.url}/api/v1/orders/", timeout=(1, 0.1))
    fault(sim, {"drop": True})
    with pytest.raises(requests.ConnectionError):
        api.get(f"{sim.url}/api/v1/orders/")
    api.get(f"{sim.url}/api/v1/nothing/")
    time.sleep(0.5)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_orders_files_in_all_three_formats(tmp_path: Path) -> None:
    one, two = order_body("H-1", [81]), order_body("H-2", [82])
    (tmp_path / "object.json").write_text(json.dumps(one))
    (tmp_path / "array.json").write_text(json.dumps([one, two]))
    (tmp_path / "lines.jsonl").write_text(f"{json.dumps(one)}\n\n{json.dumps(two)}\n")
    (tmp_path / "broken.jsonl").write_text(f"{json.dumps(one)}\n{{oops\n")
    assert read_orders(str(tmp_path / "object.json")) == [one]
    assert read_orders(str(tmp_path / "array.json")) == [one, two]
    assert read_orders(str(tmp_path / "lines.jsonl")) == [one, two]
    with pytest.raises(ValueError, match="line 2"):
        read_orders(str(tmp_path / "broken.jsonl"))


def test_run_simulator_preloads_and_serves_until_interrupted(tmp_path: Path) -> None:
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(order_body(f"R-{n}", [90 + n])) for n in range(3)))
    code = "from adapters.omnitron.simulator import run_simulator as r; r(0, 'u', 'p', {!r})"
    process = subprocess.Popen(
        [sys.executable, "-c", code.format(str(orders))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("omnitron simulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        login = {"username": "u", "password": "p"}
        key = requests.post(f"{url}/api/v1/auth/login/", json=login, timeout=5).json()["key"]
        found = requests.get(
            f"{url}/api/v1/orders/",
            params={"number__in": "R-0,R-1,R-2"},
            headers={"Authorization": f"Token {key}"},
            timeout=5,
        ).json()
        assert [o["number"] for o in found["results"]] == ["R-0", "R-1", "R-2"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # it did not stop on Ctrl-C: not left running
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0 and err == ""

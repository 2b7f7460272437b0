"""OmnitronClient against the simulator over real HTTP on loopback (spec §6): login and token
reuse, one re-login on 401, in-call retries with backoff and Retry-After, no retry of other 4xx,
pagination, and no secrets in the logs. Needs no PostgreSQL/RabbitMQ."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import structlog

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from domain.omnitron import OmnitronItem, OmnitronOrder, OmnitronRejected, OmnitronUnavailable
from tests.integration.test_omnitron_simulator import order_body

BULK = "/api/i1/order_items/bulk_status_update/"
LOGIN = "/api/v1/auth/login/"
ORDERS = "/api/v1/orders/"
PASSWORD = "pa55-not-for-logs"


@pytest.fixture
def sim() -> Iterator[OmnitronSimulator]:
    with OmnitronSimulator(username="oms", password=PASSWORD) as simulator:
        simulator.register(order_body("K-1", [101, 102]))
        simulator.register(order_body("K-2", [103], status="450"))
        yield simulator


class Sleeps(list[float]):
    """Records the client's back-off delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client_for(sim: OmnitronSimulator, sleeps: Sleeps, **options: Any) -> OmnitronClient:
    options = {"backoff": 0.01, "read_timeout": 2.0, "sleep": sleeps, **options}
    return OmnitronClient(sim.url, "oms", PASSWORD, **options)


def fault(sim: OmnitronSimulator, spec: dict[str, Any]) -> None:
    requests.post(f"{sim.url}/sim/faults", json=spec, timeout=5).raise_for_status()


def calls(sim: OmnitronSimulator) -> list[tuple[str, str, int | None]]:
    return [(r["method"], r["path"], r["status"]) for r in sim.requests()]


def statuses(sim: OmnitronSimulator) -> dict[int, str]:
    with sim.state.lock:
        return {i["id"]: i["status"] for o in sim.state.orders.values() for i in o["items"]}


def test_logs_in_lazily_once_and_reuses_the_token(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps)
    assert sim.requests() == []  # no login before the first call
    assert client.orders(["K-1"]) == [
        OmnitronOrder("K-1", "400", [OmnitronItem(101, "400"), OmnitronItem(102, "400")])
    ]
    client.update_item_statuses({102: "450"})
    client.orders(["K-2"])
    assert calls(sim) == [
        ("POST", LOGIN, 200),
        ("GET", ORDERS, 200),
        ("PATCH", BULK, 200),
        ("GET", ORDERS, 200),
    ]
    assert statuses(sim)[102] == "450" and sleeps == []


def test_an_expired_token_is_renewed_once(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps)
    client.orders(["K-1"])
    fault(sim, {"expire_tokens": True})
    client.update_item_statuses({101: "450"})
    assert calls(sim)[1:] == [
        ("GET", ORDERS, 200),
        ("PATCH", BULK, 401),
        ("POST", LOGIN, 200),
        ("PATCH", BULK, 200),
    ]
    assert statuses(sim)[101] == "450"


def test_a_second_401_is_rejected_with_a_clear_reason(
    sim: OmnitronSimulator, sleeps: Sleeps
) -> None:
    client = client_for(sim, sleeps)
    client.orders(["K-1"])
    fault(sim, {"status": 401})
    fault(sim, {"delay_ms": 1})  # the re-login goes through
    fault(sim, {"status": 401})
    with pytest.raises(OmnitronRejected, match="401 even after a fresh login"):
        client.orders(["K-1"])
    assert [c[2] for c in calls(sim)[2:]] == [401, 200, 401]


def test_wrong_credentials_are_rejected_without_retries(sim: OmnitronSimulator) -> None:
    client = OmnitronClient(sim.url, "oms", "wrong", backoff=0.01)
    with pytest.raises(OmnitronRejected, match=r"login refused.*HTTP 400.*credentials"):
        client.orders(["K-1"])
    assert calls(sim) == [("POST", LOGIN, 400)]


def test_a_short_503_outage_is_ridden_out(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps, backoff=0.02, attempts=4)
    client.orders(["K-1"])
    fault(sim, {"status": 503, "count": 3})
    client.update_item_statuses({101: "450", 102: "450"})
    assert calls(sim)[2:] == [("PATCH", BULK, 503)] * 3 + [("PATCH", BULK, 200)]
    assert len(sleeps) == 3
    for delay, expected in zip(sleeps, [0.02, 0.04, 0.08], strict=True):
        assert expected * 0.9 <= delay <= expected * 1.1  # exponential, small jitter
    assert statuses(sim)[101] == statuses(sim)[102] == "450"


def test_a_long_503_outage_gives_up_as_unavailable(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps, attempts=4)
    client.orders(["K-1"])
    fault(sim, {"status": 503, "count": 5})
    with pytest.raises(
        OmnitronUnavailable, match=r"PATCH .*bulk_status_update/: HTTP 503 after 4"
    ) as e:
        client.update_item_statuses({101: "450"})
    assert e.value.retry_after is None
    assert calls(sim)[2:] == [("PATCH", BULK, 503)] * 4
    assert statuses(sim)[101] == "400"


def test_backoff_is_capped(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps, backoff=1.0, max_backoff=3.0, attempts=5)
    fault(sim, {"status": 500, "count": 5})
    with pytest.raises(OmnitronUnavailable, match="HTTP 500 after 5 attempts"):
        client.orders(["K-1"])  # the login itself is retried
    assert [round(s) for s in sleeps] == [1, 2, 3, 3] and max(sleeps) <= 3.0


def test_429_honours_retry_after(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps, max_retry_after=5.0)
    client.orders(["K-1"])
    fault(sim, {"status": 429, "count": 2, "retry_after": 2})
    client.update_item_statuses({101: "450"})
    assert sleeps == [2.0, 2.0]
    assert [c[2] for c in calls(sim)[2:]] == [429, 429, 200]
    fault(sim, {"status": 429, "count": 4, "retry_after": 120})  # capped at max_retry_after
    with pytest.raises(OmnitronUnavailable, match="HTTP 429 after 4 attempts") as e:
        client.update_item_statuses({101: "450"})
    assert sleeps[2:] == [5.0, 5.0, 5.0] and e.value.retry_after == 5.0


def test_other_4xx_is_rejected_with_the_reason_and_not_retried(
    sim: OmnitronSimulator, sleeps: Sleeps
) -> None:
    client = client_for(sim, sleeps)
    with pytest.raises(OmnitronRejected) as rejected:
        client.update_item_statuses({101: "450", 987654: "450"})
    message = str(rejected.value)
    assert (
        f"PATCH {BULK}: HTTP 400" in message and "987654" in message and "does not exist" in message
    )
    assert [c for c in calls(sim) if c[0] == "PATCH"] == [("PATCH", BULK, 400)]
    assert sleeps == [] and statuses(sim)[101] == "400"  # all or nothing


def test_a_dropped_connection_is_retried(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps)
    client.orders(["K-1"])
    fault(sim, {"drop": True, "count": 2})
    client.update_item_statuses({103: "500"})
    assert calls(sim)[2:] == [("PATCH", BULK, 0), ("PATCH", BULK, 0), ("PATCH", BULK, 200)]
    assert len(sleeps) == 2 and statuses(sim)[103] == "500"


def test_a_read_timeout_is_retried(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps, read_timeout=0.2)
    client.orders(["K-1"])
    fault(sim, {"delay_ms": 700, "count": 1})
    assert [o.number for o in client.orders(["K-2"])] == ["K-2"]
    asks = [r for r in sim.requests() if r["method"] == "GET"][1:]
    assert len(asks) == 2 and asks[1]["status"] == 200  # the first one was still hanging
    assert len(sleeps) == 1


def test_an_unreachable_omnitron_is_unavailable(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OmnitronClient(f"http://127.0.0.1:{port}", "oms", PASSWORD, attempts=3, sleep=sleeps)
    with pytest.raises(OmnitronUnavailable, match="ConnectionError after 3 attempts"):
        client.orders(["K-1"])
    assert len(sleeps) == 2


def test_orders_follows_pages_and_returns_only_known_numbers(
    sim: OmnitronSimulator, sleeps: Sleeps
) -> None:
    numbers = [f"PG-{n:03}" for n in range(120)]
    for n, number in enumerate(numbers):
        sim.register(order_body(number, [5000 + n]))
    sim.state.max_limit = 50  # Omnitron caps the page size below what the client asks for
    client = client_for(sim, sleeps)
    found = client.orders([*numbers, "NOT-THERE", numbers[0]])
    assert [o.number for o in found] == numbers
    assert found[7] == OmnitronOrder("PG-007", "400", [OmnitronItem(5007, "400")])
    asks = [r["query"] for r in sim.requests() if r["method"] == "GET"]
    assert len(asks) == 3  # 100 numbers: pages of 50 and 50; then the other 21: one page
    assert "limit=100" in asks[0] and "page=2" in asks[1] and "limit=21" in asks[2]
    assert client.orders(["NOT-THERE"]) == [] and client.orders([]) == []


def test_get_order_and_404(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    sim.register(order_body("A/B 7", [301]))
    client = client_for(sim, sleeps)
    assert client.get_order("K-2") == OmnitronOrder("K-2", "450", [OmnitronItem(103, "450")])
    assert client.get_order("A/B 7") == OmnitronOrder("A/B 7", "400", [OmnitronItem(301, "400")])
    assert client.get_order("NOPE") is None


def test_item_ids_are_sent_in_ascending_order(sim: OmnitronSimulator, sleeps: Sleeps) -> None:
    client = client_for(sim, sleeps)
    client.update_item_statuses({103: "450", 101: "450", 102: "500"})
    client.update_item_statuses({})  # nothing to report: no request
    patches = [r["body"] for r in sim.requests() if r["method"] == "PATCH"]
    assert patches == [
        {
            "orderitem_set": [
                {"id": 101, "status": "450"},
                {"id": 102, "status": "500"},
                {"id": 103, "status": "450"},
            ]
        }
    ]


def test_credentials_and_tokens_never_reach_the_logs(
    sim: OmnitronSimulator, sleeps: Sleeps
) -> None:
    client = client_for(sim, sleeps)
    with structlog.testing.capture_logs() as logs:
        client.orders(["K-1"])
        fault(sim, {"expire_tokens": True})
        fault(sim, {"status": 503})
        client.update_item_statuses({101: "450"})
        with pytest.raises(OmnitronRejected):
            client.update_item_statuses({999: "450"})
    with sim.state.lock:
        tokens = set(sim.state.tokens)
    assert logs and tokens
    text = repr(logs) + repr(client)
    assert PASSWORD not in text and not any(token in text for token in tokens)
    for line in logs:
        assert {"method", "path", "status", "attempt", "elapsed_ms"} <= set(line)
        assert set(line) <= {"event", "log_level", "method", "path", "status", "attempt"} | {
            "elapsed_ms",
            "error",
        }
    assert any(line["status"] == 503 and line["error"] == "HTTP 503" for line in logs)


def test_a_netrc_entry_for_omnitron_does_not_replace_the_token(
    sim: OmnitronSimulator, sleeps: Sleeps, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests, trusting the environment, would send a ~/.netrc entry's Basic credentials in
    place of the token header: every call would be refused after a fresh login."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password else\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    orders = client_for(sim, sleeps).orders(["K-1"])
    assert [o.number for o in orders] == ["K-1"]
    assert [c for c in calls(sim) if c[2] == 401] == []


def test_the_environments_proxy_and_ca_bundle_are_read_once_when_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "omnitron.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/oms/ca.pem")
    through = OmnitronClient("https://omnitron.example", "oms", PASSWORD)
    assert through.session.proxies.get("https") == "http://proxy.example:3128"
    assert through.session.verify == "/etc/oms/ca.pem" and not through.session.trust_env
    assert OmnitronClient("https://omnitron.internal", "oms", PASSWORD).session.proxies == {}

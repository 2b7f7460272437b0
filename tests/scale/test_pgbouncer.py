"""Through a real PgBouncer in transaction pooling mode (spec 13): the end-to-end order flow
(ingest, split, packing, reports, the outbox sweeper, the CLI), the sweeper's one-at-a-time
lock, and `oms db upgrade`, which goes to the server itself."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select, text

from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import SWEEP_LOCK, OutboxRelay
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.api_tokens import MERCHANT, OPERATOR, create_token
from adapters.persistence.engine import make_engine
from cli.generate import generate_orders
from cli.main import main
from tests import services
from tests.api.server import ISSUED_KEYS, ApiServer
from tests.e2e.pipeline import (
    Pipeline,
    assert_stored_exactly,
    split_count,
    wait_for,
    write_json_lines,
)
from tests.integration.test_outbox_sweep import add_rows, published
from tests.pgbouncer import pgbouncer, through

pytestmark = [pytest.mark.services]
SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"


@pytest.fixture(scope="module")
def bouncer() -> Iterator[int]:
    with pgbouncer(pool_size=4) as port:
        yield port


@pytest.fixture
def pooled_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATABASE_POOLER", "pgbouncer")


@pytest.fixture
def pooled(postgres_url: str, bouncer: int, pooled_env: None) -> Iterator[Engine]:
    engine = make_engine(through(bouncer, postgres_url), pool_size=6)
    yield engine
    engine.dispose()


def test_the_order_flow_runs_through_pgbouncer_in_transaction_mode(
    postgres_url: str, rabbitmq_url: str, bouncer: int, pooled: Engine, tmp_path: Path
) -> None:
    omnitron = OmnitronSimulator(username="oms", password="oms")
    omnitron.start()
    services.purge_queues(rabbitmq_url)
    pipeline = Pipeline(through(bouncer, postgres_url), rabbitmq_url, tmp_path,
                        omnitron_url=omnitron.url)  # fmt: skip
    pipeline.env["OMS_DATABASE_POOLER"] = "pgbouncer"
    pipeline.env.pop("OMS_PREPARED_STATEMENTS", None)  # off because of the pooler alone
    try:
        prefix = f"PGB-{uuid.uuid4().hex[:6].upper()}"
        channel = {"id": random.randrange(10**6, 10**9), "name": "Pooled", "channel_type": "n11"}
        bodies: list[dict[str, Any]] = generate_orders(
            30, prefix=prefix, seed=random.randrange(10**6),
            first_item_id=random.randrange(10**11, 10**12),
        )  # fmt: skip
        for body in bodies:
            body["channel"] = channel
            omnitron.register(body)
        pipeline.start_workers()
        pipeline.start_sweeper()
        pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", bodies)))
        wait_for(lambda: split_count(pooled, prefix) == len(bodies), 120, "the orders to split")
        assert_stored_exactly(pooled, prefix, bodies)

        packed = pipeline.run_oms(
            "package", "command", "--status", "waiting", "--channel", str(channel["id"]), SLUG,
            "--json", "--timeout", "120",
        )  # fmt: skip
        summary = json.loads(packed.stdout)
        assert summary["applied"] == summary["found"] >= len(bodies)
        ids = package_ids(pooled, int(str(channel["id"])))

        def reported() -> int:
            with pooled.connect() as c:
                return int(
                    c.execute(
                        select(func.count()).where(
                            t.status_reports.c.package_id.in_(ids),
                            t.status_reports.c.sent_at.is_not(None),
                        )
                    ).scalar_one()
                )

        wait_for(lambda: reported() == len(ids), 120, "every package's 450 to be reported")
        patches = [r for r in omnitron.requests() if r["method"] == "PATCH" and r["status"] == 200]
        assert len(patches) == len(ids)  # one report per package, none twice

        shown = json.loads(pipeline.run_oms("show", "order", bodies[0]["number"], "--json").stdout)
        assert {p["status"] for p in shown["packages"]} == {"packed"}
        exported = pipeline.run_oms("export", "merchant-orders", "--out", str(tmp_path / "csv"))
        assert exported.returncode == 0, exported.stderr  # a server-side cursor, in its transaction
        rows = sum(
            len(path.read_text().splitlines()) - 1
            for path in (tmp_path / "csv").glob("*/merchant-orders.csv")
        )
        assert rows >= len(ids)  # this test's merchant orders, and earlier tests' in this database
        _the_api_reads_through_the_pooler(postgres_url, bouncer, rabbitmq_url, pooled, tmp_path,
                                          bodies[0])  # fmt: skip
    finally:
        pipeline.stop()
        omnitron.stop()
    logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("*.log"))
    assert "prepared statement" not in logs  # no PREPARE went through the pooler
    assert "advisory" not in logs


def _the_api_reads_through_the_pooler(
    postgres_url: str, bouncer: int, rabbitmq_url: str, pooled: Engine, tmp_path: Path,
    body: dict[str, Any],
) -> None:  # fmt: skip
    """`oms api` (two uvicorn workers) on the pooled URL: an order, its history, a merchant's
    list, each answered from the database through PgBouncer."""
    _, operator = create_token(pooled, kind=OPERATOR, name="pooled ops")
    merchant = str(body["items"][0].get("merchant_reference") or "MAIN")
    _, shop = create_token(pooled, kind=MERCHANT, name="pooled shop", merchant_reference=merchant)
    ISSUED_KEYS.extend([operator, shop])
    server = ApiServer(through(bouncer, postgres_url), rabbitmq_url, tmp_path, workers=2)
    server.env["OMS_DATABASE_POOLER"] = "pgbouncer"
    server.start()
    try:
        ops = {"Authorization": f"Token {operator}"}
        order = requests.get(f"{server.url}/api/v1/orders/{body['number']}/", headers=ops,
                             timeout=30)  # fmt: skip
        assert order.status_code == 200, order.text
        assert order.json()["number"] == body["number"]
        history = requests.get(
            f"{server.url}/api/v1/orders/{body['number']}/history/", headers=ops, timeout=30
        )
        assert history.status_code == 200, history.text
        mine = requests.get(f"{server.url}/api/v1/merchant/orders/",
                            headers={"Authorization": f"Token {shop}"}, timeout=30)  # fmt: skip
        assert mine.status_code == 200, mine.text
    finally:
        server.stop()


def package_ids(engine: Engine, channel_id: int) -> list[int]:
    with engine.connect() as c:
        query = select(t.packages.c.id).where(t.packages.c.channel_id == channel_id)
        return list(c.execute(query).scalars())


def test_the_outbox_sweeper_takes_its_lock_per_round_through_pgbouncer(
    pooled: Engine, rabbitmq_url: str
) -> None:
    with pooled.begin() as c:
        c.execute(t.outbox.delete().where(t.outbox.c.published_at.is_(None)))
    broker = build_broker(rabbitmq_url, [])
    relay = OutboxRelay(pooled, broker)
    try:
        for _ in range(3):  # a session lock taken on one server connection would stay there
            ids = add_rows(pooled, ["split_order"] * 3)
            busy = threading.Thread(target=_busy, args=(pooled,))  # other server connections
            busy.start()
            assert relay.sweep(older_than=_SECOND) == 3
            busy.join()
            assert published(pooled, ids) == [True] * 3

        ids = add_rows(pooled, ["split_order"])
        with pooled.connect() as holder, holder.begin():  # another sweeper's round
            holder.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK)))
            assert relay.sweep(older_than=_SECOND) == 0
        assert relay.sweep(older_than=_SECOND) == 1  # its round ended: the lock with it
        assert published(pooled, ids) == [True]
    finally:
        broker.close()
        services.purge_queues(rabbitmq_url)


_SECOND = __import__("datetime").timedelta(seconds=1)


def _busy(engine: Engine) -> None:
    for _ in range(5):
        with engine.connect() as c:
            c.execute(text("SELECT pg_sleep(0.01)"))
            c.commit()
        time.sleep(0.005)


def test_oms_db_upgrade_refuses_the_pooler_and_goes_to_the_direct_url(
    postgres_url: str, bouncer: int, pooled_env: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("OMS_DATABASE_URL", through(bouncer, postgres_url))
    monkeypatch.delenv("OMS_DATABASE_DIRECT_URL", raising=False)
    with pytest.raises(SystemExit, match="set OMS_DATABASE_DIRECT_URL"):
        main(["db", "upgrade"])
    monkeypatch.setenv("OMS_DATABASE_DIRECT_URL", postgres_url)
    assert main(["db", "upgrade"]) == 0
    assert "none were due" in capsys.readouterr().out

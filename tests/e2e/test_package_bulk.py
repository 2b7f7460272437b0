"""`oms package command --status S --channel ID SLUG` end to end (issue 11, item 1): orders
through the real ingest and split workers, the bulk command as a subprocess, packaging and report
workers as `oms worker` subprocesses; the summary counts applied, rejected by reason, pending and
skipped web-channel packages exactly."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from cli.generate import generate_orders
from tests import services
from tests.e2e.pipeline import Pipeline, split_count, wait_for, write_json_lines

pytestmark = [pytest.mark.services, pytest.mark.e2e]
SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"
EXPECTED_REASON = f"{SLUG} runs only from waiting, preparing, ready_to_pack (package was packed)"


def orders_on(channel: dict[str, Any], count: int, prefix: str) -> list[dict[str, Any]]:
    bodies = generate_orders(
        count, prefix=prefix, seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )  # fmt: skip
    for body in bodies:
        body["channel"] = channel
    return bodies


def package_ids(db: Engine, channel_id: int) -> list[int]:
    with db.connect() as c:
        query = select(t.packages.c.id).where(t.packages.c.channel_id == channel_id)
        return list(c.execute(query.order_by(t.packages.c.id)).scalars())


def bulk(channel_id: int, *extra: str) -> list[str]:
    """The arguments of `oms package command --status waiting --channel ID SLUG --json`."""
    return ["package", "command", "--status", "waiting", "--channel", str(channel_id), SLUG,
            "--json", *extra]  # fmt: skip


def summary_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document = json.loads(done.stdout)
    assert isinstance(document, dict), done.stdout
    return document


def test_bulk_command_publishes_once_per_package_and_sums_up_the_outcomes(
    pipeline: Pipeline, db: Engine, omnitron: OmnitronSimulator, tmp_path: Path
) -> None:
    market_id, web_id = random.sample(range(10**6, 10**9), 2)
    market = {"id": market_id, "name": "Bulk market", "channel_type": "trendyol"}
    web = {"id": web_id, "name": "Bulk web", "channel_type": "web"}
    prefix = f"BK-{uuid.uuid4().hex[:6].upper()}"
    bodies = orders_on(market, 8, prefix + "M") + orders_on(web, 3, prefix + "W")
    for body in bodies:
        omnitron.register(body)
    pipeline.start_workers(["oms.ingest", "oms.split"])  # no packaging workers yet
    pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", bodies)))
    wait_for(lambda: split_count(db, prefix) == len(bodies), 90, "the orders to be split")
    ids, web_ids = package_ids(db, market_id), package_ids(db, web_id)
    assert len(ids) >= 8 and len(web_ids) >= 3
    broker_url = pipeline.env["OMS_BROKER_URL"]

    # web channel: every package skipped and counted, nothing published
    web_run = pipeline.run_oms(*bulk(web_id))
    assert summary_of(web_run) == {
        "slug": SLUG, "status": "waiting", "channel_id": web_id, "found": len(web_ids),
        "skipped_web_channel": len(web_ids), "published": 0, "applied": 0, "rejected": 0,
        "rejected_by_reason": {}, "pending": 0,
    }  # fmt: skip
    assert services.queue_depth(broker_url, "oms.packaging") == 0

    # no packaging worker: every command is confirmed by the broker, and pending at the timeout
    pending = pipeline.run_oms(*bulk(market_id, "--timeout", "1"), check=False)
    assert pending.returncode == 1, pending.stderr
    assert pending.stderr.strip() == f"oms: 0 rejected, {len(ids)} pending"
    result = summary_of(pending)
    assert (result["published"], result["applied"], result["pending"]) == (len(ids), 0, len(ids))
    assert services.queue_depth(broker_url, "oms.packaging") == len(ids)
    services.purge_queues(broker_url)  # as if they were never sent: the next run sends anew

    # the real run: three packages are packed by someone else between the publish and the
    # processing, so their commands are rejected; the rest are applied
    running = subprocess.Popen(
        [*pipeline.oms, *bulk(market_id, "--timeout", "120")],
        env=pipeline.env, cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: services.queue_depth(broker_url, "oms.packaging") == len(ids),
            60,
            "the bulk command to publish every command",
        )
        taken = ids[:3]
        with db.begin() as c:
            c.execute(update(t.packages).where(t.packages.c.id.in_(taken)).values(status=500))
        pipeline._spawn("packaging", [*pipeline.oms, "worker", "packaging", "--threads", "4"])
        pipeline._spawn("report", [*pipeline.oms, "worker", "report", "--threads", "2"])
        out, err = running.communicate(timeout=180)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 1, err  # rejections make the exit status non-zero
    assert err.strip() == "oms: 3 rejected, 0 pending"
    assert json.loads(out) == {
        "slug": SLUG, "status": "waiting", "channel_id": market_id, "found": len(ids),
        "skipped_web_channel": 0, "published": len(ids), "applied": len(ids) - 3,
        "rejected": 3, "rejected_by_reason": {EXPECTED_REASON: 3}, "pending": 0,
    }  # fmt: skip

    with db.connect() as c:
        shipments = c.execute(
            select(func.count()).where(t.shipments.c.package_id.in_(ids))
        ).scalar_one()
        logged = c.execute(
            select(t.transition_log.c.outcome, func.count())
            .where(t.transition_log.c.package_id.in_(ids))
            .group_by(t.transition_log.c.outcome)
        ).all()
        web_logged = c.execute(
            select(func.count()).where(t.transition_log.c.package_id.in_(web_ids))
        ).scalar_one()
    assert shipments == len(ids) - 3  # one per applied command, none for the taken ones
    assert dict(logged) == {"applied": len(ids) - 3, "rejected": 3}  # the purged ones left none
    assert web_logged == 0


def test_a_state_the_slug_does_not_start_from_is_refused_before_publishing(
    pipeline: Pipeline,
) -> None:
    done = pipeline.run_oms("package", "command", "--status", "packed", SLUG, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        f"{SLUG} runs only from waiting, preparing, ready_to_pack, not packed; nothing published"
    )
    unknown = pipeline.run_oms("package", "command", "--status", "waiting", "NO_SUCH", check=False)
    assert unknown.returncode == 1
    assert "unknown command slug 'NO_SUCH'; nothing published" in unknown.stderr
    assert services.queue_depth(pipeline.env["OMS_BROKER_URL"], "oms.packaging") == 0

"""A message id reused for another body, on PostgreSQL and SQLite (spec 9.3; issue 21, item 13):
the fingerprint is stored with the first outcome, in both transition logs, and compared on
redelivery; the second body is refused and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, select, update

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.shipping.omnitron_shipment_client import shipment_clients
from domain.merchant_oms import MerchantTransitionRecord
from domain.message_identity import MessageIdReused
from domain.package_commands import run_package_command
from domain.packaging import COMPLETE_PACKAGING, PackageCommand
from tests.integration.test_merchants import fire, two_merchant_order, view
from tests.integration.test_packaging import command, counts, stored_order

pytestmark = pytest.mark.services


def logged(engine: Engine, table: t.Table, message_id: str) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        rows = c.execute(select(table).where(table.c.message_id == message_id).order_by("id"))
        return [tuple(row) for row in rows]


def test_a_merchant_event_id_reused_for_another_body_is_refused(engine: Engine) -> None:
    order = two_merchant_order(engine)
    message_id = f"reused-{uuid.uuid4()}"
    first = fire(engine, "cancel by merchant", order["mo2"], items=order["items"][1:2],
                 message_id=message_id)  # fmt: skip
    before = view(engine, order["number"]), logged(engine, t.merchant_transition_log, message_id)
    assert [r.body_sha256 for r in first.records] != [None]
    with pytest.raises(MessageIdReused, match=f"message id {message_id} was used before"):
        fire(engine, "cancel by merchant", order["mo2"], items=order["items"][:1],
             message_id=message_id)  # fmt: skip
    after = view(engine, order["number"]), logged(engine, t.merchant_transition_log, message_id)
    assert after == before
    again = fire(engine, "cancel by merchant", order["mo2"], items=order["items"][1:2],
                 message_id=message_id)  # fmt: skip
    assert again.repeated and [r.as_dict() for r in again.records] == [
        r.as_dict() for r in first.records
    ]


def test_a_package_command_id_reused_for_another_command_is_refused(engine: Engine) -> None:
    package_id, other_id = stored_order(engine)
    message_id = f"reused-{uuid.uuid4()}"
    first = command(engine, package_id, message_id=message_id)
    assert first.record.applied and first.record.body_sha256 is not None
    with pytest.raises(MessageIdReused, match=f"message id {message_id} was used before"):
        command(engine, other_id, message_id=message_id)  # another package, same id
    with pytest.raises(MessageIdReused):
        run_package_command(
            PackageCommand(COMPLETE_PACKAGING, package_id=package_id, input_parameters={"x": 1}),
            SqlUnitOfWork(engine),
            shipment_clients(),
            message_id=message_id,
        )
    assert counts(engine, other_id) == (100, 0, 0, 0), "the other package was not packed"
    assert counts(engine, package_id) == (500, 1, 1, 1)
    again = command(engine, package_id, message_id=message_id)
    assert again.repeated and again.record.applied


def test_log_rows_from_before_migration_0012_count_as_the_same_body(engine: Engine) -> None:
    order = two_merchant_order(engine)
    package_id = stored_order(engine)[0]
    event_id, command_id = f"old-{uuid.uuid4()}", f"old-{uuid.uuid4()}"
    fire(engine, "cancel by merchant", order["mo2"], message_id=event_id)
    command(engine, package_id, message_id=command_id)
    with engine.begin() as c:
        for table, key in ((t.merchant_transition_log, event_id), (t.transition_log, command_id)):
            c.execute(update(table).where(table.c.message_id == key).values(body_sha256=None))
    assert fire(engine, "ship", order["mo5"], "MER000005", message_id=event_id).repeated
    assert command(engine, package_id, slug="OTHER", message_id=command_id).repeated


def test_a_long_merchant_event_id_is_recognised_when_it_comes_again(engine: Engine) -> None:
    """The log's message_id column holds 64 characters: a longer id was cut there, so its
    redelivery was not found, ran again and hit the log's unique key, retried until it was
    dead-lettered. It is keyed by its digest, as the packaging log and dead letters are."""
    order = two_merchant_order(engine)
    long_id = "upstream-" + "x" * 120
    first = fire(engine, "cancel by merchant", order["mo2"], items=order["items"][1:2],
                 message_id=long_id)  # fmt: skip
    again = fire(engine, "cancel by merchant", order["mo2"], items=order["items"][1:2],
                 message_id=long_id)  # fmt: skip

    def moves(records: list[MerchantTransitionRecord]) -> list[tuple[object, ...]]:
        return [(r.item_reference, r.outcome, r.from_state, r.to_state) for r in records]

    assert again.repeated and moves(again.records) == moves(first.records)
    other = fire(engine, "cancel by merchant", order["mo2"], items=order["items"][:1],
                 message_id=long_id[:64] + "-other")  # fmt: skip
    assert not other.repeated and [r.outcome.value for r in other.records] == ["applied"]

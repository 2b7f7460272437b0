"""A message id names one body (spec 9.3; issue 21, item 13): the same id with another body
returned the first message's outcome, silently. Now it is refused (InvalidInput: dead-lettered)
and changes nothing; a true redelivery still gets its first outcome."""

from __future__ import annotations

import copy

import pytest

from domain.errors import InvalidInput
from domain.merchant_events import trigger_merchant_event
from domain.message_identity import MessageIdReused, body_fingerprint
from schemas.merchant_event import parse_merchant_event
from schemas.package_command import parse_package_command
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_merchant_events import MO2, event, example, mo, split

REUSED = "message id m-1 was used before for another body"


def snapshot(uow: FakeUnitOfWork) -> tuple[object, ...]:
    return (
        [(i.reference, i.state) for i in mo(uow, MO2).items],
        copy.deepcopy(uow.orders.saved_lines),
        len(uow.reports.reports),
        len(uow.merchant_log.records),
    )


def test_a_message_id_reused_for_another_event_is_refused_and_changes_nothing() -> None:
    uow, _ = split(example())
    first = trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5002",)), uow, "m-1")
    assert not first.repeated
    before = snapshot(uow)
    with pytest.raises(MessageIdReused, match=REUSED) as raised:
        trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5001",)), uow, "m-1")
    assert isinstance(raised.value, InvalidInput), "dead-lettered, never retried"
    assert snapshot(uow) == before
    again = trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5002",)), uow, "m-1")
    assert again.repeated and again.records == first.records, "a redelivery is still one"


def test_a_rejected_request_remembers_its_body_too() -> None:
    uow, _ = split(example())
    rejected = trigger_merchant_event(event("cancel by merchant", mo_ref="NOPE--X"), uow, "m-1")
    assert rejected.records[0].reason == "merchant order NOPE--X not found"
    before = snapshot(uow)
    with pytest.raises(MessageIdReused, match=REUSED):
        trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    assert snapshot(uow) == before


def test_rows_from_before_fingerprints_count_as_the_same_body() -> None:
    uow, _ = split(example())
    trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    for record in uow.merchant_log.records:
        record.body_sha256 = None  # as migration 0012 leaves the rows it found
    again = trigger_merchant_event(event("ship"), uow, "m-1")
    assert again.repeated


def test_one_request_written_two_ways_has_one_fingerprint() -> None:
    body = {"merchant_reference": "M", "merchant_order_reference": "N--M", "event": "ship"}
    spelled_out = {"source": "merchant", "item_references": None, **body}
    reordered = dict(reversed(list(body.items())))
    prints = {body_fingerprint(parse_merchant_event(b)) for b in (body, spelled_out, reordered)}
    assert len(prints) == 1
    other = body_fingerprint(parse_merchant_event(body | {"event": "deliver"}))
    assert other not in prints
    assert len(other) == 64 and int(other, 16) >= 0


def test_package_commands_differ_by_any_field_including_input_parameters() -> None:
    base = {"package_id": 7, "slug": "SHIP", "input_parameters": {"a": [1, 2]}}
    prints = {
        body_fingerprint(parse_package_command(b))
        for b in (
            base,
            base | {"slug": "PACK"},
            {"package_number": "7", "slug": "SHIP", "input_parameters": {"a": [1, 2]}},
            base | {"input_parameters": {"a": [2, 1]}},
        )
    }
    assert len(prints) == 4
    assert body_fingerprint(parse_package_command({"package_id": 7, "slug": "SHIP"})) == (
        body_fingerprint(parse_package_command(base | {"input_parameters": {}}))
    )

"""The merchant processes as data (spec 9.2): every shipped row, skipped vs rejected."""

from __future__ import annotations

import pytest

from domain.merchant_oms import (
    DEFAULT_PROCESS,
    MAIN_PROCESS,
    SHIPPED_PROCESSES,
    Outcome,
    Process,
    Source,
    initial_state,
)

DEFAULT_ROWS = [
    ("created", "initiate", "new", False),
    ("new", "cancel by merchant", "canceled by merchant", True),
    ("new", "cancel", "canceled", False),
    ("new", "ship", "shipped", True),
    ("shipped", "deliver", "delivered", True),
    ("delivered", "start-return", "waiting for return", True),
    ("waiting for return", "execute-return", "returned", True),
    ("waiting for return", "cancel-return", "delivered", True),
    ("delivered", "refund", "refunded", True),
    ("returned", "refund", "refunded", True),
    ("canceled by merchant", "close", "closed", True),
    ("canceled", "close", "closed", True),
    ("delivered", "close", "closed", True),
    ("refunded", "close", "closed", True),
]
MAIN_ROWS = [
    *DEFAULT_ROWS,
    ("new", "send to distribution", "left the merchant location", True),
    ("left the merchant location", "confirm at center", "arrived at distribution center", True),
    ("arrived at distribution center", "ship", "shipped", True),
]
ROWS = {DEFAULT_PROCESS: DEFAULT_ROWS, MAIN_PROCESS: MAIN_ROWS}
PROCESSES = {name: Process(name, rows) for name, rows in SHIPPED_PROCESSES.items()}


def test_the_shipped_processes_are_exactly_the_spec_tables() -> None:
    assert set(SHIPPED_PROCESSES) == set(ROWS)
    for name, rows in ROWS.items():
        got = {(t.source, t.event, t.target, t.manual) for t in SHIPPED_PROCESSES[name]}
        assert got == set(rows), name
        assert all(t.process == name for t in SHIPPED_PROCESSES[name])


@pytest.mark.parametrize(
    ("name", "row"), [(name, row) for name, rows in ROWS.items() for row in rows]
)
def test_each_row_moves_its_state_from_inside_and_from_outside_only_when_manual(
    name: str, row: tuple[str, str, str, bool]
) -> None:
    source_state, event, target, manual = row
    process = PROCESSES[name]
    inside = process.decide(source_state, event, Source.marketplace)
    assert (inside.outcome, inside.from_state, inside.to_state) == (
        Outcome.applied,
        source_state,
        target,
    )
    outside = process.decide(source_state, event, Source.merchant)
    if manual:
        assert (outside.outcome, outside.to_state) == (Outcome.applied, target)
    else:
        assert outside.outcome is Outcome.rejected
        assert "not manual" in outside.reason and outside.to_state is None


def test_an_event_the_state_lacks_is_skipped_and_names_the_state() -> None:
    decision = PROCESSES[DEFAULT_PROCESS].decide("shipped", "cancel by merchant", Source.merchant)
    assert decision.outcome is Outcome.skipped
    assert decision.to_state is None
    assert "'shipped'" in decision.reason and "cancel by merchant" in decision.reason


def test_skipped_beats_rejected_for_a_non_manual_event_the_state_lacks() -> None:
    # `cancel` is automatic; from `delivered` it does not exist at all: skipped, not rejected
    decision = PROCESSES[DEFAULT_PROCESS].decide("delivered", "cancel", Source.api)
    assert decision.outcome is Outcome.skipped


def test_distribution_steps_exist_only_in_the_main_process() -> None:
    main, default = PROCESSES[MAIN_PROCESS], PROCESSES[DEFAULT_PROCESS]
    assert main.decide("new", "send to distribution", Source.merchant).outcome is Outcome.applied
    assert default.decide("new", "send to distribution", Source.merchant).outcome is Outcome.skipped
    # ship stays allowed from new in the main process
    assert main.decide("new", "ship", Source.poll).to_state == "shipped"


def test_manual_events_and_reachable_states() -> None:
    default = PROCESSES[DEFAULT_PROCESS]
    assert default.manual_events("new") == {"cancel by merchant", "ship"}
    assert default.manual_events("created") == set()
    assert default.reachable() == {s for row in DEFAULT_ROWS for s in (row[0], row[2])}
    assert "arrived at distribution center" in PROCESSES[MAIN_PROCESS].reachable()


def test_dot_draws_every_transition_with_automatic_ones_dashed() -> None:
    dot = PROCESSES[DEFAULT_PROCESS].dot()
    assert dot.startswith('digraph "MerchantDefaultStateMachine" {')
    assert dot.count("->") == len(DEFAULT_ROWS)
    assert '"created" -> "new" [label="initiate", style=dashed];' in dot
    assert '"new" -> "shipped" [label="ship"];' in dot


def test_initial_states() -> None:
    assert initial_state(False, False) == "new"
    assert initial_state(True, False) == "canceled"
    assert initial_state(False, True) == "refunded"


# --- the public body (spec 9.3) --------------------------------------------------------------

SPEC_BODY = {
    "merchant_reference": "MER000002",
    "merchant_order_reference": "TY-100042--MER000002",
    "event": "cancel by merchant",
    "item_references": ["TY-100042--MER000002--5002"],
}


def test_the_spec_body_parses_with_source_merchant_by_default() -> None:
    from schemas.merchant_event import parse_merchant_event

    event = parse_merchant_event(SPEC_BODY)
    assert event.item_references == ("TY-100042--MER000002--5002",)
    assert event.source is Source.merchant
    assert parse_merchant_event({**SPEC_BODY, "source": "import"}).source is Source.import_


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"source": "poll"}, "source"),
        ({"source": "marketplace"}, "source"),
        ({"event": ""}, "event"),
        ({"item_references": []}, "item_references"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_invalid_input_naming_the_field(
    change: dict[str, object], where: str
) -> None:
    from schemas.errors import InvalidMessage
    from schemas.merchant_event import parse_merchant_event

    with pytest.raises(InvalidMessage) as error:
        parse_merchant_event({**SPEC_BODY, **change})
    assert where in str(error.value)

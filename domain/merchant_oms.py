"""Merchant state machines as data (spec 9.2): a process is a set of transitions
(from state, event, to state, manual); an event is tried on items, each of which either moves
(applied), lacks the event in its state (skipped) or may not take it (rejected)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.reservations import SHIPPED_RESERVED_STATES

DEFAULT_PROCESS = "MerchantDefaultStateMachine"
MAIN_PROCESS = "MainMerchantStateMachine"
INITIAL_STATE = "created"
INITIATE = "initiate"
START_STATE = "new"


class Source(StrEnum):
    merchant = "merchant"
    marketplace = "marketplace"
    poll = "poll"
    import_ = "import"
    api = "api"

    @property
    def outside(self) -> bool:
        """Sent on the public queue by a merchant, the API or an import (spec 9.3)."""
        return self in (Source.merchant, Source.api, Source.import_)


class Outcome(StrEnum):
    applied = "applied"
    skipped = "skipped"
    rejected = "rejected"
    # an event raised inside the pipeline that the item's state lacks: the marketplace is the
    # source of truth, so the item moves straight to the event's target state (spec 9.4)
    forced = "forced"

    @property
    def moved(self) -> bool:
        return self in (Outcome.applied, Outcome.forced)


# The state an event raised inside the pipeline (poll, marketplace) forces an item into when
# its state lacks the event, and why (spec 9.4).
FORCED = {
    "ship": ("shipped", "shipped by the carrier"),
    "deliver": ("delivered", "delivered by the carrier"),
    "cancel": ("canceled", "cancelled by the channel"),
    "refund": ("refunded", "refunded by the channel"),
}


@dataclass(frozen=True)
class ProcessTransition:
    process: str
    source: str
    event: str
    target: str
    manual: bool


def _rows(process: str, rows: Iterable[tuple[str, str, str, bool]]) -> list[ProcessTransition]:
    return [ProcessTransition(process, *row) for row in rows]


_DEFAULT_ROWS: list[tuple[str, str, str, bool]] = [
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
_MAIN_EXTRA_ROWS: list[tuple[str, str, str, bool]] = [
    ("new", "send to distribution", "left the merchant location", True),
    ("left the merchant location", "confirm at center", "arrived at distribution center", True),
    ("arrived at distribution center", "ship", "shipped", True),
]
# The two processes the migration seeds (spec 9.2); operators may edit the table afterwards.
SHIPPED_PROCESSES: dict[str, list[ProcessTransition]] = {
    DEFAULT_PROCESS: _rows(DEFAULT_PROCESS, _DEFAULT_ROWS),
    MAIN_PROCESS: _rows(MAIN_PROCESS, _DEFAULT_ROWS + _MAIN_EXTRA_ROWS),
}
# Reserved states of the shipped processes (spec 9.5), seeded by migration 0014
SHIPPED_RESERVED: dict[str, frozenset[str]] = {
    name: frozenset(SHIPPED_RESERVED_STATES & ({t.source for t in rows} | {t.target for t in rows}))
    for name, rows in SHIPPED_PROCESSES.items()
}


def shipped_process(name: str) -> Process:
    """A shipped process with its reserved states, as the migrations seed it."""
    return Process(name, SHIPPED_PROCESSES[name], SHIPPED_RESERVED[name])


@dataclass(frozen=True)
class Decision:
    """What the state machine says about one item and one event."""

    outcome: Outcome
    from_state: str
    to_state: str | None
    reason: str


class Process:
    """A process built from its transition rows."""

    def __init__(
        self,
        name: str,
        transitions: Iterable[ProcessTransition],
        reserved: Iterable[str] = (),
    ):
        self.name = name
        self.transitions = sorted(transitions, key=lambda t: (t.source, t.event))
        self._by_key = {(t.source, t.event): t for t in self.transitions}
        # the states whose items hold the merchant's stock (spec 9.5): data, like the rows
        self.reserved = frozenset(reserved)

    def is_reserved(self, state: str) -> bool:
        return state in self.reserved

    @property
    def events(self) -> set[str]:
        return {t.event for t in self.transitions}

    @property
    def states(self) -> set[str]:
        return {t.source for t in self.transitions} | {t.target for t in self.transitions}

    def has(self, state: str, event: str) -> bool:
        return (state, event) in self._by_key

    def manual_events(self, state: str) -> set[str]:
        return {t.event for t in self.transitions if t.source == state and t.manual}

    def reachable(self, start: str = INITIAL_STATE) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            state = todo.pop()
            for t in self.transitions:
                if t.source == state and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        return seen

    def decide(self, state: str, event: str, source: Source) -> Decision:
        """Applied (with the target), skipped (the state has no such event) or rejected
        (an automatic event sent from outside the pipeline). An event raised inside the
        pipeline that the state lacks is forced to its target instead of skipped."""
        transition = self._by_key.get((state, event))
        if transition is None:
            if not source.outside and event in FORCED:
                target, why = FORCED[event]
                return Decision(Outcome.forced, state, target, f"{why}; {state!r} has no {event!r}")
            return Decision(Outcome.skipped, state, None, f"state {state!r} has no event {event!r}")
        if source.outside and not transition.manual:
            return Decision(
                Outcome.rejected,
                state,
                None,
                f"event {event!r} is not manual in {self.name}: only the pipeline raises it",
            )
        return Decision(Outcome.applied, state, transition.target, "applied")

    def dot(self) -> str:
        """Graphviz DOT: automatic transitions dashed, reserved states filled and doubled."""
        lines = [f'digraph "{self.name}" {{', "  rankdir=LR;"]
        for state in sorted(self.reserved & self.states):  # reserved states: filled, doubled
            lines.append(
                f'  "{state}" [style=filled, fillcolor=lightyellow, peripheries=2,'
                ' xlabel="reserved"];'
            )
        for t in self.transitions:
            style = "" if t.manual else ", style=dashed"
            lines.append(f'  "{t.source}" -> "{t.target}" [label="{t.event}"{style}];')
        lines.append("}")
        return "\n".join(lines) + "\n"


def initial_state(order_item_cancelled: bool, order_item_refunded: bool) -> str:
    """Where a new merchant order item starts (spec 9.1): `new` after `initiate`, unless its
    order item arrived cancelled or refunded."""
    if order_item_cancelled:
        return "canceled"
    if order_item_refunded:
        return "refunded"
    return START_STATE


@dataclass
class MerchantTransitionRecord:
    """One line of the merchant transition log: an item's outcome for one event (or, with no
    item, a whole request's rejection)."""

    item_reference: str
    merchant_order_reference: str
    event: str
    source: Source
    outcome: Outcome
    from_state: str | None
    to_state: str | None
    reason: str
    message_id: str | None = None
    order_id: int | None = None
    at: datetime | None = None
    body_sha256: str | None = None  # the event's fingerprint (domain/message_identity.py)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "item_reference": self.item_reference or None,
            "event": self.event,
            "outcome": self.outcome.value,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "reason": self.reason,
            "source": self.source.value,
            "message_id": self.message_id,
        }

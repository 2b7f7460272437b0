"""Whether a merchant item state exists (spec 9.2: processes are data, so the states are those
their transitions name)."""

from __future__ import annotations

from sqlalchemy import Engine, or_, select

from adapters.persistence import tables as t


def state_known(engine: Engine, state: str) -> bool:
    """True when a transition of any merchant process starts or ends in `state`."""
    m = t.merchant_transitions.c
    query = select(m.id).where(or_(m.source_state == state, m.target_state == state)).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).first() is not None

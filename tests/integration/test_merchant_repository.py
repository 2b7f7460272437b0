"""Merchants on first sight, several at once (the split's one round trip for known ones), on
PostgreSQL and SQLite."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.merchants import SqlMerchantRepository


def test_known_merchants_keep_their_process_and_new_ones_get_the_default(engine: Engine) -> None:
    with engine.begin() as connection:
        repository = SqlMerchantRepository(connection)
        repository.get_or_add("MER-KNOWN", "MainMerchantStateMachine")  # set by an import, say
        found = repository.get_or_add_all(
            {"MER-KNOWN": "MerchantDefaultStateMachine", "MER-NEW": "MerchantDefaultStateMachine"}
        )
        assert list(found) == ["MER-KNOWN", "MER-NEW"]
        assert found["MER-KNOWN"].oms_process == "MainMerchantStateMachine"
        assert found["MER-NEW"].oms_process == "MerchantDefaultStateMachine"
        again = repository.get_or_add_all({"MER-NEW": "MainMerchantStateMachine"})
        assert again["MER-NEW"].oms_process == "MerchantDefaultStateMachine"
        count = connection.execute(
            select(func.count())
            .select_from(t.merchants)
            .where(t.merchants.c.reference.in_(["MER-KNOWN", "MER-NEW"]))
        ).scalar()
        assert count == 2
        connection.rollback()

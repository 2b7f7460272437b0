"""adapters/persistence/bulk.py: many rows in one statement; the ids come back in the rows'
order, whatever order the database inserted or numbered them in."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.bulk import (
    insert_columns,
    insert_columns_with_ids,
    insert_rows,
    insert_rows_with_ids,
)

pytestmark = pytest.mark.services


def _rows(count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = [
        {
            "message_id": str(uuid.uuid4()),
            "command": f"cmd-{n}",
            "payload": {"n": n, "text": "ç ğ \" '", "nested": [n, None]},
            "created_at": now,
        }
        for n in range(count)
    ]
    random.Random(count).shuffle(rows)
    return rows


@pytest.mark.parametrize("count", [1, 7, 300])
def test_each_returned_id_is_its_own_rows(engine: Engine, count: int) -> None:
    rows = _rows(count)
    with engine.begin() as connection:
        ids = insert_rows_with_ids(connection, t.outbox, rows)
        stored = {
            r.id: r
            for r in connection.execute(select(t.outbox).where(t.outbox.c.id.in_(ids))).all()
        }
    assert len(ids) == len(set(ids)) == count
    for row, new_id in zip(rows, ids, strict=True):
        assert stored[new_id].message_id == row["message_id"]
        assert stored[new_id].payload == row["payload"]  # JSON travels as text, arrives as JSON


def test_plain_insert_keeps_every_value(engine: Engine) -> None:
    rows = _rows(50)
    with engine.begin() as connection:
        insert_rows(connection, t.outbox, rows)
        wanted = [r["message_id"] for r in rows]
        stored = connection.execute(select(t.outbox).where(t.outbox.c.message_id.in_(wanted)))
        found = {r.message_id: (r.command, r.payload) for r in stored}
    assert found == {r["message_id"]: (r["command"], r["payload"]) for r in rows}


@pytest.mark.parametrize("count", [1, 40])
def test_rows_given_column_by_column_are_the_same_rows(engine: Engine, count: int) -> None:
    rows = _rows(count)
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    with engine.begin() as connection:
        ids = insert_columns_with_ids(connection, t.outbox, columns)
        found = {
            r.id: (r.message_id, r.command, r.payload)
            for r in connection.execute(select(t.outbox).where(t.outbox.c.id.in_(ids)))
        }
    assert [found[i] for i in ids] == [(r["message_id"], r["command"], r["payload"]) for r in rows]
    with engine.connect() as connection:
        assert insert_columns_with_ids(connection, t.outbox, {"message_id": []}) == []


def test_columns_of_different_lengths_are_refused(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(ValueError, match="different lengths"):
        insert_columns(connection, t.outbox, {"message_id": ["a", "b"], "command": ["c"]})

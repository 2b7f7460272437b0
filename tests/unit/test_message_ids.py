"""The API's message ids tell an id it published from any other (issue 21, item 20): the
status endpoints answer 404 for an id with no outcome that the API never made."""

from __future__ import annotations

import uuid

from adapters.messaging.message_ids import made_here, new_message_id


def test_ids_made_here_are_uuids_that_are_recognised() -> None:
    ids = {new_message_id() for _ in range(2_000)}
    assert len(ids) == 2_000
    for made in ids:
        value = uuid.UUID(made)
        assert str(value) == made and value.version == 8
        assert value.variant == uuid.RFC_4122
        assert made_here(made) and made_here(value)


def test_other_ids_are_not() -> None:
    assert not any(made_here(str(uuid.uuid4())) for _ in range(2_000))
    made = new_message_id()
    for n in range(len(made)):  # any one mistyped hex digit
        if made[n] != "-":
            typo = made[:n] + ("0" if made[n] != "0" else "1") + made[n + 1 :]
            assert not made_here(typo), typo
    assert not made_here("not a uuid")
    assert not made_here("")

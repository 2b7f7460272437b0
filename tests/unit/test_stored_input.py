"""Input an upstream publisher controls is rejected when it could be stored but not read back
(a date_placed outside what every session time zone can show) or not stored at all (NUL)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas.convert import parse_inbound_order
from schemas.errors import InvalidMessage
from schemas.package_command import parse_package_command
from tests.unit.test_schemas import BASE

SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC: every read failed with "year -1"
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "9999-12-31T00:00:00+00:00",
        "1899-12-31T23:59:59+00:00",
    ],
)
def test_a_date_placed_that_cannot_be_read_back_is_invalid(when: str) -> None:
    body = copy.deepcopy(BASE) | {"date_placed": when}
    with pytest.raises(InvalidMessage, match=r"date_placed: must be from 1900-01-01") as raised:
        parse_inbound_order(body, "MAIN")
    assert [path for path, _ in raised.value.problems] == ["date_placed"]


@pytest.mark.parametrize("when", ["1900-01-01T00:00:00+00:00", "2026-11-20T10:15:00-14:00"])
def test_plausible_dates_still_pass(when: str) -> None:
    body = copy.deepcopy(BASE) | {"date_placed": when}
    assert parse_inbound_order(body, "MAIN").date_placed.isoformat() == when


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"package_number": "PKG-1\x00", "slug": SLUG}, "package_number"),
        ({"package_id": 7, "slug": SLUG + "\x00"}, "slug"),
        (
            {"package_id": 7, "slug": SLUG, "input_parameters": {"note": ["a\x00b"]}},
            "input_parameters.note[0]",
        ),
    ],
)
def test_a_package_command_with_a_nul_character_is_invalid(body: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidMessage, match="must not contain a NUL character") as raised:
        parse_package_command(body)
    assert [p for p, _ in raised.value.problems] == [path]


def test_a_package_command_without_nul_still_parses() -> None:
    command = parse_package_command({"package_number": "PKG-1\\u0000", "slug": SLUG})
    assert command.package_number == "PKG-1\\u0000"  # six characters, not a NUL

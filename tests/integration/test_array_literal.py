"""adapters/persistence/array_literal.py: what goes into an array literal comes back from
PostgreSQL's cast exactly as it went in, whatever the characters."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from adapters.persistence import array_literal as a

pytestmark = pytest.mark.services

# PostgreSQL's text holds any character but NUL
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


def cast(engine: Engine, literal: Any, sql_type: str) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(text(f"SELECT CAST(:v AS {sql_type}[])"), {"v": literal}).scalar())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.none(), TEXT), max_size=8))
def test_any_text_comes_back_as_it_went(pg: Engine, values: list[str | None]) -> None:
    assert cast(pg, a.texts(values), "text") == values


def test_the_characters_that_mean_something_in_an_array_literal(pg: Engine) -> None:
    values = ['a"b', "c\\d", "{x,y}", " padded ", "NULL", None, "", "it's", '\\"', "a\nb", "ğüş"]
    assert cast(pg, a.texts(values), "varchar") == values


class Colour(str, enum.Enum):  # noqa: UP042 (str() of such a member is its name)
    red = "RED"


class Level(enum.IntEnum):
    high = 700


def test_enums_travel_as_their_values(pg: Engine) -> None:
    assert cast(pg, a.texts([Colour.red]), "text") == ["RED"]
    assert cast(pg, a.ints([Level.high, None, -(2**62)]), "bigint") == [700, None, -(2**62)]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
            max_leaves=6,
        ),
        max_size=5,
    )
)
def test_any_json_comes_back_as_it_went(pg: Engine, values: list[Any]) -> None:
    """A JSON null is a SQL NULL, as psycopg2's adaptation of None made it."""
    assert cast(pg, a.jsons(values), "json") == values


def test_times_keep_their_instant_and_microseconds(pg: Engine) -> None:
    now = datetime(2026, 11, 23, 18, 1, 2, 345678, tzinfo=UTC)
    istanbul = now.astimezone(timezone(timedelta(hours=3)))
    assert cast(pg, a.times([now, None, istanbul, now]), "timestamptz") == [
        now,
        None,
        now,
        now,
    ]
    assert cast(pg, a.times([date(2026, 2, 28)]), "date") == [date(2026, 2, 28)]


def test_booleans(pg: Engine) -> None:
    assert cast(pg, a.bools([True, False, None]), "boolean") == [True, False, None]

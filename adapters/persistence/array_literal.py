"""A column of values as one PostgreSQL array literal (`{1,2,NULL}`, `{"a","b\\"c"}`), built
in Python and sent as one text parameter that the statement casts to the column's array type.

Why: psycopg2 adapts a Python list element by element through its adapter objects, which
measured 5.9 µs per int, 3.0 µs per str and 10.5 µs per datetime on this machine; the literal
costs 0.16, 0.56 and (with the row's repeated timestamps built once) well under 1 µs, and
psycopg2 then quotes a single string. A group's flush sends thousands of values.

The format is PostgreSQL's (docs: "Arrays", "Array Value Input"): elements separated by commas,
NULL unquoted, any other element in double quotes with backslash and double quote escaped
inside them, which leaves commas, braces, whitespace and the word NULL in a value as they are."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Dialect, Integer, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

Encoder = Callable[[Sequence[Any]], Any]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: Any) -> str:
    # str.__str__: a str-based enum's value, not its member name
    return _quoted(str.__str__(value) if isinstance(value, str) else str(value))


def ints(values: Sequence[Any]) -> str:
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def bools(values: Sequence[Any]) -> str:
    return "{" + ",".join("NULL" if v is None else ("t" if v else "f") for v in values) + "}"


def texts(values: Sequence[Any]) -> str:
    """A column of one value (a log's rows mostly share their event, outcome, states and
    reason) is quoted once."""
    if len(values) > 1 and len(set(values)) == 1:
        return "{" + ",".join([_element(values[0])] * len(values)) + "}"
    return "{" + ",".join("NULL" if v is None else _text(v) for v in values) + "}"


def _element(value: Any) -> str:
    return "NULL" if value is None else _text(value)


def jsons(values: Sequence[Any]) -> str:
    return "{" + ",".join("NULL" if v is None else _quoted(json.dumps(v)) for v in values) + "}"


def times(values: Sequence[datetime | date | None]) -> str:
    """ISO 8601, which PostgreSQL reads for timestamp[tz] and date; a group's rows mostly share
    one timestamp, so each distinct value is formatted once."""
    seen: dict[Any, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
            continue
        found = seen.get(v)
        if found is None:
            found = seen[v] = '"' + v.isoformat() + '"'
        out.append(found)
    return "{" + ",".join(out) + "}"


def as_is(values: Sequence[Any]) -> list[Any]:
    """A type without a literal here: the list, for psycopg2 to adapt."""
    return list(values)


def encoder_for(column_type: TypeEngine[Any]) -> Encoder:
    # Boolean before Integer: neither is the other's subclass, but keep the intent plain
    if isinstance(column_type, Boolean):
        return bools
    if isinstance(column_type, Integer):
        return ints
    if isinstance(column_type, JSON):
        return jsons
    if isinstance(column_type, DateTime | Date):
        return times
    if isinstance(column_type, String | Text):
        return texts
    return as_is


class IntArray(TypeDecorator[Sequence[int]]):
    """A bound list of ints that travels as one array literal: the statement casts it
    (`CAST(:ids AS BIGINT[])`), e.g. `id = ANY(CAST(:ids AS BIGINT[]))` (PostgreSQL)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Sequence[int] | None, dialect: Dialect) -> str | None:
        return None if value is None else ints(value)

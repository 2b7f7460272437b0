"""The API's orjson JSONResponse writes what Starlette's would: the same bytes for every JSON
value without floats, and floats that read back as the same numbers."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse as StarletteJSONResponse

from api.responses import JSONResponse

scalars = st.none() | st.booleans() | st.integers() | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(documents)
def test_the_same_bytes_as_starlette(document: Any) -> None:
    assert JSONResponse(document).body == StarletteJSONResponse(document).body


@given(st.dictionaries(st.text(), st.floats(allow_nan=False, allow_infinity=False), max_size=5))
def test_floats_read_back_the_same(document: dict[str, float]) -> None:
    assert json.loads(JSONResponse(document).body) == document


def test_keys_that_are_not_strings_are_written_as_strings() -> None:
    assert JSONResponse({1: "a"}).body == StarletteJSONResponse({1: "a"}).body == b'{"1":"a"}'

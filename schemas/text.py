"""Text in public bodies (spec sections 3, 5, 9.3).

Every text field a contract names is printable: a control character or a lone surrogate
fails validation, naming the field. Free-form objects (customer, addresses, unknown extra
fields, a command's input_parameters) are stored as given, with one limit: nothing in them may
hold a NUL or a lone surrogate, which no PostgreSQL text column stores and no UTF-8 encoder
writes (a message that held one was retried until it was dead-lettered)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from domain.references import (
    MERCHANT_REFERENCE_LENGTH,
    merchant_reference_problem,
    order_number_problem,
    unprintable,
)

# The same rules as JSON Schema patterns (ECMA-262), for the exported contracts.
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
PRINTABLE_PATTERN = f"^[^{_CONTROL}]*$"
ORDER_NUMBER_PATTERN = f"^(?!-)(?!.*--)(?!.*-$)[^{_CONTROL}]*$"
MERCHANT_REFERENCE_PATTERN = (
    f"^(?![-.])(?!.*--)(?!.*[-.]$)[A-Za-z0-9._-]{{1,{MERCHANT_REFERENCE_LENGTH}}}$"
)


class _Rule:
    """An annotation that checks a string with `problem` (None: fine; else the rule broken)
    and documents the rule as a JSON Schema pattern."""

    def __init__(self, problem: Callable[[str], str | None], pattern: str):
        self.problem, self.pattern = problem, pattern

    def _check(self, value: str) -> str:
        problem = self.problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


# Printable text is checked by pydantic's own regex engine, not a Python validator per field;
# `readable` (schemas/errors.py) turns its mismatch into the rule broken.
PRINTABLE = StringConstraints(pattern=PRINTABLE_PATTERN)


def printable(limit: int, required: bool = True) -> Any:
    """A text field of `limit` characters at most (at least one unless not `required`)."""
    return Annotated[
        str,
        StringConstraints(
            min_length=1 if required else 0, max_length=limit, pattern=PRINTABLE_PATTERN
        ),
    ]


def readable(kind: str, pattern: Any, value: Any) -> str | None:
    """The rule a value broke, for pydantic's "String should match pattern" on PRINTABLE."""
    if (
        kind == "string_pattern_mismatch"
        and pattern == PRINTABLE_PATTERN
        and isinstance(value, str)
    ):
        return unprintable(value)
    return None


OrderNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    _Rule(order_number_problem, ORDER_NUMBER_PATTERN),
]
MerchantReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MERCHANT_REFERENCE_LENGTH),
    _Rule(merchant_reference_problem, MERCHANT_REFERENCE_PATTERN),
]

# in json.dumps(...) (ASCII): a NUL's escape, or a surrogate's (a valid pair too: then the walk
# finds nothing)
_SUSPECT = re.compile(r"\\u(?:0000|d[89a-f])")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text(value: str) -> str | None:
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    where = f"at position {found.start()}"
    if found.group() == "\x00":
        return f"must not contain a NUL character ({where}): no text column stores one"
    code = ord(found.group())
    return f"must not contain a lone surrogate (U+{code:04X} {where}): it is not Unicode text"


def unstorable(body: Any) -> list[tuple[str, str]]:
    """Every string (value or key) in a decoded JSON body that holds a NUL or a lone
    surrogate, as (path, rule), in document order. One C-speed scan first: the walk runs
    only on a suspect."""
    text = json.dumps(body, default=repr)
    if _SUSPECT.search(text) is None:
        return []
    problems: list[tuple[str, str]] = []
    # (path, value, its key): a stack, not recursion, as bodies may nest deeply
    stack: list[tuple[str, Any, str | None]] = [("body", body, None)]
    while stack:
        path, value, key = stack.pop()
        if key is not None and (problem := _unstorable_text(key)) is not None:
            problems.append((path, f"its key {problem}"))
        if isinstance(value, str):
            if (problem := _unstorable_text(value)) is not None:
                problems.append((path, problem))
        elif isinstance(value, dict):
            children = []
            for key, child in value.items():
                name = str(key)
                if _UNSTORABLE.search(name):  # the reason names it, and must be storable
                    name = name.encode("unicode_escape").decode("ascii")
                children.append((name if path == "body" else f"{path}.{name}", child, str(key)))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", v, None) for i, v in reversed(list(enumerate(value))))
    return problems

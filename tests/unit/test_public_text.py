"""Text fields of every public body hold no control character (spec 9.3; issue 21, item 12):
a merchant event with a NUL passed the schema and was retried for a quarter of an hour. The
rejection is InvalidInput (dead-lettered, never retried) and names the field."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidInput
from schemas.errors import InvalidMessage
from schemas.merchant_event import parse_merchant_event
from schemas.package_command import parse_package_command

EVENT: dict[str, Any] = {
    "merchant_reference": "MER000002",
    "merchant_order_reference": "TY-1--MER000002",
    "event": "cancel by merchant",
    "item_references": ["TY-1--MER000002--5001", "TY-1--MER000002--5002"],
}
COMMAND: dict[str, Any] = {"package_number": "TY-1--MER000002", "slug": "SHIP"}
# NUL, another C0 control, DEL, a C1 control, a lone surrogate
BAD = {
    "\x00": "a NUL character",
    "\x1f": "a control character (U+001F",
    "\x7f": "a control character (U+007F",
    "\x9b": "a control character (U+009B",
    "\ud83d": "a lone surrogate (U+D83D",
}


def refused(parse: Any, body: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidMessage) as raised:
        parse(body)
    assert isinstance(raised.value, InvalidInput), "must be dead-lettered, never retried"
    return raised.value.problems


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("event", "event"),
        ("merchant_order_reference", "merchant_order_reference"),
        ("merchant_reference", "merchant_reference"),
        ("item_references", "item_references[1]"),
    ],
)
def test_a_merchant_event_with_a_control_character_is_invalid_naming_the_field(
    field: str, path: str, char: str
) -> None:
    body = dict(EVENT)
    if field == "item_references":
        body[field] = [EVENT[field][0], EVENT[field][1] + char]
    else:
        body[field] = body[field] + char
    [(where, rule)] = refused(parse_merchant_event, body)
    assert where == path
    assert rule.startswith(f"must not contain {BAD[char]}")


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["package_number", "slug"])
def test_a_package_command_with_a_control_character_is_invalid_naming_the_field(
    field: str, char: str
) -> None:
    [(where, rule)] = refused(parse_package_command, COMMAND | {field: COMMAND[field] + char})
    assert (where, rule.startswith(f"must not contain {BAD[char]}")) == (field, True)


def test_an_unknown_key_with_a_lone_surrogate_is_named_in_a_storable_reason() -> None:
    """The reason is stored and logged: it must not carry the surrogate itself."""
    problems = refused(parse_merchant_event, EVENT | {"x\udc00": 1})
    assert problems == [
        ("x\\udc00", "its key must not contain a lone surrogate (U+DC00 at position 1): "
                     "it is not Unicode text"),
    ]  # fmt: skip
    str(InvalidMessage(problems)).encode("utf-8")


def test_free_form_input_parameters_keep_line_breaks_but_not_nul() -> None:
    command = parse_package_command(COMMAND | {"input_parameters": {"note": "a\nb\tc"}})
    assert command.input_parameters == {"note": "a\nb\tc"}
    problems = refused(parse_package_command, COMMAND | {"input_parameters": {"n": ["\x00"]}})
    assert [path for path, _ in problems] == ["input_parameters.n[0]"]


def test_printable_text_still_parses() -> None:
    request = parse_merchant_event(EVENT | {"event": "send to distribution"})
    assert request.event == "send to distribution"
    unicode = parse_merchant_event(EVENT | {"merchant_order_reference": "TY-Ğ1--MER000002"})
    assert unicode.merchant_order_reference == "TY-Ğ1--MER000002"

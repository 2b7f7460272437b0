"""The dramatiq envelope carries the body as its single positional argument (spec 8.1)."""

from __future__ import annotations

from typing import Any

from schemas.errors import InvalidMessage


def single_body(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if kwargs or len(args) != 1:
        raise InvalidMessage(
            [
                (
                    "args",
                    f"expected exactly one body in args and no kwargs, got "
                    f"{len(args)} args and kwargs {sorted(kwargs)}",
                )
            ]
        )
    return args[0]

"""How a rejected message explains itself: 'path: rule' pairs a person can read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.errors import InvalidInput
from schemas.text import readable

M = TypeVar("M", bound=BaseModel)


def path_of(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


class InvalidMessage(InvalidInput):
    """A message body that breaks the contract; never retried, dead-lettered with this reason."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {rule}" for path, rule in problems))

    @classmethod
    def from_validation_error(cls, error: ValidationError, prefix: str = "") -> InvalidMessage:
        problems = []
        for detail in error.errors(include_url=False):
            path = path_of(detail["loc"])
            if prefix:
                path = prefix if path == "body" else f"{prefix}.{path}"
            message = str(detail["msg"])
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            pattern = detail.get("ctx", {}).get("pattern")
            message = readable(detail["type"], pattern, detail.get("input")) or message
            problems.append((path, message))
        return cls(problems)


def validate(model: type[M], body: Any) -> M:
    """The body as `model`, or InvalidMessage naming every broken rule."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None

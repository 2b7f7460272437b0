"""The package command (spec section 5): the body upstream systems publish to `oms.packaging`."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from domain.packaging import PackageCommand
from schemas.errors import InvalidMessage
from schemas.text import printable, unstorable


class PackageCommandBody(BaseModel):
    """The seed's body of `POST /packages/{id}/command/`: the transition to run."""

    model_config = ConfigDict(extra="forbid", strict=True, title="PackageCommandBody")

    slug: printable(100)  # type: ignore[valid-type]
    input_parameters: dict[str, Any] = Field(default_factory=dict)


class PackageCommandMessage(PackageCommandBody):
    """Run the transition `slug` on a package given by `package_id` or `package_number`."""

    model_config = ConfigDict(extra="forbid", strict=True, title="PackageCommand")

    package_id: StrictInt | None = Field(default=None, ge=1)
    package_number: printable(300) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_package(self) -> Self:
        if (self.package_id is None) == (self.package_number is None):
            raise ValueError("give exactly one of package_id and package_number")
        return self


def parse_package_command(body: Any) -> PackageCommand:
    if problems := unstorable(body):
        raise InvalidMessage(problems)
    try:
        message = PackageCommandMessage.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None
    return PackageCommand(
        slug=message.slug,
        package_id=message.package_id,
        package_number=message.package_number,
        input_parameters=message.input_parameters,
    )

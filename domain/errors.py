"""Domain errors. `InvalidInput` means the input can never succeed: never retry it."""

from __future__ import annotations


class DomainError(Exception):
    pass


class InvalidInput(DomainError):
    """The message can never be processed as sent (dead-letter it with this reason)."""


class UnknownOrder(InvalidInput):
    pass


class ConflictingOrderItems(InvalidInput):
    """Omnitron item ids that already belong to another order."""

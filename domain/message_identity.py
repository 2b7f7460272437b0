"""A message id names one body (spec 9.3). A redelivery carries the same body and gets the first
outcome back; a message that reuses a handled id with another body is not a redelivery: it is
refused (dead-lettered) and changes nothing. The body is remembered by a fingerprint stored with
the first outcome."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from domain.errors import InvalidInput


class MessageIdReused(InvalidInput):
    """The message id was handled before with another body."""


def body_fingerprint(body: Any) -> str:
    """sha256 (hex) of the canonical JSON of a parsed body (a dataclass, or plain JSON data):
    keys sorted, no spaces, defaults filled in by the parse, so one request written two ways
    (a default spelled out or left out, keys in another order) has one fingerprint."""
    if dataclasses.is_dataclass(body) and not isinstance(body, type):
        body = dataclasses.asdict(body)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def ensure_same_body(
    message_id: str, stored: Iterable[str | None], fingerprint: str | None
) -> None:
    """Raise MessageIdReused unless every fingerprint stored for `message_id` is this one
    (None, a row from before fingerprints were stored, counts as a match)."""
    if fingerprint is not None and any(seen is not None and seen != fingerprint for seen in stored):
        raise MessageIdReused(
            f"message id {message_id} was used before for another body: not a redelivery, "
            "nothing changed (publish a new message with a new id)"
        )

"""Message ids that say who made them. The HTTP API publishes each package command and merchant
event with an id from `new_message_id()` and later answers its status by that id: with no
outcome recorded yet, an id it made is a message in flight ("pending"), and any other id was
never published by it (404), with no table of published ids to keep.

The id is a UUID (RFC 9562 version 8, for custom layouts): 90 random bits, then 32 bits of a
SHA-256 checksum over the first 96 bits. A random or mistyped UUID passes the check with a
chance of 1 in 4 billion. It is a checksum, not a signature: an id built on purpose with this
layout reads as pending, which tells its maker nothing."""

from __future__ import annotations

import hashlib
import secrets
import uuid

_TAG = b"oms message id v1:"


def _checksum(head: bytes) -> bytes:
    return hashlib.sha256(_TAG + head).digest()[:4]


def new_message_id() -> str:
    head = bytearray(secrets.token_bytes(12))
    head[6] = (head[6] & 0x0F) | 0x80  # version 8
    head[8] = (head[8] & 0x3F) | 0x80  # the RFC variant
    return str(uuid.UUID(bytes=bytes(head) + _checksum(bytes(head))))


def made_here(message_id: str | uuid.UUID) -> bool:
    """Whether `message_id` came from `new_message_id()` (by its layout and checksum)."""
    try:
        value = message_id if isinstance(message_id, uuid.UUID) else uuid.UUID(message_id)
    except ValueError:
        return False
    raw = value.bytes
    return value.version == 8 and raw[12:] == _checksum(raw[:12])

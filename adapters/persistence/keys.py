"""Column-safe forms of values an upstream publisher chooses (message ids, actor names): they
must fit where they are stored, or one message blocks everything behind it."""

from __future__ import annotations

import hashlib
from typing import Any

MESSAGE_ID_LENGTH = 64  # dead_letters.message_id, transition_log.message_id


def message_key(message_id: Any) -> str:
    """The message id itself when it fits; else a digest of it (same id, same key: redeliveries
    are still recognised). The full id stays in the stored message."""
    text = message_id if isinstance(message_id, str) else repr(message_id)
    if len(text) <= MESSAGE_ID_LENGTH and "\x00" not in text and _encodable(text):
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:56]


def clipped(value: Any, length: int) -> str:
    """A text column's value: a string, without NUL characters or lone surrogates, at most
    `length` characters."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\x00", "\\x00")
    if not text.isascii():  # a lone surrogate would fail the UTF-8 encoding: escaped
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= length else text[: length - 1] + "…"


def _encodable(text: str) -> bool:
    """False for text holding a lone surrogate (no UTF-8 column stores one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

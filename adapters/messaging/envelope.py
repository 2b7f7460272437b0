"""The dramatiq envelope as upstream input (spec section 8.1): what makes a body a message the
worker can run, and the stored form of one it cannot. Problems are described by field and type
only, never by value, so a reason can be logged without leaking a body."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# field -> (accepted types, the name the reason uses); message_id and message_timestamp have
# defaults in dramatiq but upstream publishers must send them (spec section 8.1)
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "queue_name": ((str,), "a string"),
    "actor_name": ((str,), "a string"),
    "args": ((list,), "a list"),
    "kwargs": ((dict,), "an object"),
    "options": ((dict,), "an object"),
    "message_id": ((str,), "a string"),
    "message_timestamp": ((int,), "an integer"),
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def envelope_problem(data: Any) -> str | None:
    """Why this decoded JSON is not a dramatiq message, or None when it is one."""
    if not isinstance(data, dict):
        return f"the body is {_kind(data)}, not an object"
    problems = []
    for field, (types, wanted) in _FIELDS.items():
        if field not in data:
            problems.append(f"{field} is missing")
            continue
        value = data[field]
        if not isinstance(value, types) or isinstance(value, bool):
            problems.append(f"{field} is {_kind(value)}, not {wanted}")
        elif types == (str,) and not value:
            problems.append(f"{field} is empty")
    unknown = sorted(str(key)[:40] for key in data if key not in _FIELDS)
    if unknown:
        problems.append("unknown fields: " + ", ".join(unknown[:5]))
    return "; ".join(problems) or None


def eta_problem(options: dict[str, Any], now_ms: int, cap_ms: int) -> str | None:
    """A delayed message is held unacked until its eta: past RabbitMQ's consumer timeout that
    churns forever, so an eta further ahead than the cap is refused."""
    eta = options.get("eta")
    if isinstance(eta, int | float) and not isinstance(eta, bool) and eta - now_ms > cap_ms:
        return (
            f"options.eta is {int((eta - now_ms) / 1000)} s ahead; "
            f"at most {cap_ms // 1000} s is accepted"
        )
    return None


def decode(body: bytes) -> tuple[Any, str | None]:
    """The decoded body and, when it is no dramatiq message, what is wrong with it."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"the body is not JSON ({type(error).__name__})"
    return data, envelope_problem(data)


def undecodable(problem: str) -> str:
    return f"undecodable message: {problem}; never processed"


def stored_form(queue: str, body: bytes, data: Any, problem: str | None) -> dict[str, Any]:
    """The dead-letter record's message: the envelope itself when it is one (filed under the
    queue it came from), else the raw text under its own id (or a digest of the body)."""
    if problem is None:
        return {**data, "queue_name": queue}
    given = data.get("message_id") if isinstance(data, dict) else None
    actor = data.get("actor_name") if isinstance(data, dict) else None
    digest = hashlib.sha256(body).hexdigest()[:32]
    return {
        "message_id": given[:200] if isinstance(given, str) and given else f"raw-{digest}",
        "queue_name": queue,
        "actor_name": actor[:200] if isinstance(actor, str) and actor else "-",
        "args": [],
        "raw": body.decode("utf-8", errors="replace")[:100_000],
    }

"""The reason a dead letter is recorded with says who refused what (issue 11, item 3)."""

from __future__ import annotations

from types import SimpleNamespace

from adapters.messaging.middleware import dead_letter_reason
from domain.errors import InvalidInput
from domain.omnitron import OmnitronRejected


def test_an_omnitron_refusal_is_not_called_an_invalid_message() -> None:
    message = SimpleNamespace(options={"retries": 0})
    refusal = OmnitronRejected("PATCH /api/v1/orders/42/items/: HTTP 400: {'status': 'bad'}")
    reason = dead_letter_reason(message, refusal)
    assert not reason.startswith("invalid message")
    assert reason.startswith("refused by Omnitron")
    assert "PATCH /api/v1/orders/42/items/: HTTP 400" in reason
    assert dead_letter_reason(message, InvalidInput("number: empty")).startswith(
        "invalid message: number: empty"
    )

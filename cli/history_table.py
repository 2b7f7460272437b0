"""`oms show order NUMBER --history` as text: one line per event, oldest first."""

from __future__ import annotations

from typing import Any

from cli.table import format_rows

DETAIL_WIDTH = 120
# what a line shows after its move, in this order, when the event has it
DETAILS = ("package", "merchant_order", "item", "source", "attempts", "answer", "reason")


def _detail(event: dict[str, Any]) -> str:
    parts = [f"{key}={event[key]}" for key in DETAILS if key in event and key != "reason"]
    if "reason" in event:
        parts.append(str(event["reason"]))
    text = " ".join(parts).replace("\n", " ")
    return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 1] + "…"


def _move(event: dict[str, Any]) -> str:
    if "from" not in event and "to" not in event:
        return ""
    return f"{event.get('from', '')} -> {event.get('to', '')}"


def history_table(document: dict[str, Any]) -> str:
    title = (
        f"order {document['number']} (channel {document['channel']['id']} "
        f"{document['channel']['name']}), {document['status']}"
    )
    rows = [["at (UTC)", "stage", "what", "outcome", "move", "detail"]]
    for event in document["events"]:
        at = event["at"].replace("T", " ")[:19]
        outcome = event.get("outcome", "")
        rows.append([at, event["stage"], event["what"], outcome, _move(event), _detail(event)])
    return f"{title}\n{format_rows(rows)}"

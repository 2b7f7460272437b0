"""Pieces of the web interface that need no server: the process picture (every state drawn,
only the current one marked, every name escaped), the login's `next` (never an open redirect)
and the money and badge filters."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from domain.merchant_oms import SHIPPED_PROCESSES, Process, ProcessTransition
from web.auth import safe_next
from web.process_svg import process_svg
from web.rendering import badge, money

SVG = "{http://www.w3.org/2000/svg}"


def _states(svg: str) -> dict[str, str]:
    root = ET.fromstring(svg)
    return {
        "".join(g.find(f"{SVG}text").itertext()): g.get("class", "")  # type: ignore[union-attr]
        for g in root.iter(f"{SVG}g")
        if "state" in g.get("class", "").split()
    }


def test_every_state_drawn_and_only_the_current_one_marked() -> None:
    for name, rows in SHIPPED_PROCESSES.items():
        process = Process(name, rows)
        drawn = _states(str(process_svg(process, "shipped", name)))
        assert set(drawn) == {s if len(s) <= 24 else s[:23] + "…" for s in process.states}
        assert [s for s, css in drawn.items() if "current" in css] == ["shipped"]
        assert sum(1 for _ in ET.fromstring(str(process_svg(process, None, name))).iter(
            f"{SVG}path")) >= len(rows)  # fmt: skip


@given(st.text(min_size=1, max_size=30))
def test_any_state_or_event_name_is_text_in_the_picture(name: str) -> None:
    if any(
        ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF or c == "\ufffe" or c == "\uffff" for c in name
    ):
        return  # XML cannot hold these at all; the processes' names are printable text
    rows = [
        ProcessTransition("P", "created", "initiate", name, False),
        ProcessTransition("P", name, name, "done", True),
    ]
    svg = str(process_svg(Process("P", rows), name, f"P: {name}"))
    root = ET.fromstring(svg)  # well-formed: nothing in the name broke out of its element
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    shown = name if len(name) <= 24 else name[:23] + "…"
    assert shown in texts and name in texts  # as a state's label and as an event's
    assert root.find(f"{SVG}title").text == f"P: {name}"  # type: ignore[union-attr]
    assert not list(root.iter(f"{SVG}script"))


def test_next_is_a_path_of_this_app_only() -> None:
    for bad in ("//evil.example", "https://evil.example/", "/\\evil.example", "evil", "", None):
        assert safe_next(bad) == "/"
    assert safe_next("/portal/orders/X/?event=1") == "/portal/orders/X/?event=1"


def test_money_and_badges() -> None:
    assert money(10590, "try") == "105.90" and money(-5, "TRY") == "-0.05"
    assert money(None) == ""
    assert "stopped" in badge("canceled by merchant") and "done" in badge("delivered")
    assert "open" in badge("new")

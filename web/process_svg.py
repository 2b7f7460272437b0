"""A merchant process drawn as SVG by the app itself (no Graphviz): states in columns by their
distance from `created`, transitions as arrows labelled with their event (automatic ones
dashed), the item's current state marked. Every name is escaped; the picture is plain SVG
elements styled by the page's stylesheet (no inline script, no style attribute), so the page's
Content-Security-Policy holds."""

from __future__ import annotations

from markupsafe import Markup, escape

from domain.merchant_oms import INITIAL_STATE, Process

BOX_W, BOX_H = 168, 34
COL_GAP, ROW_GAP = 70, 22
PAD = 16


def _layers(process: Process) -> list[list[str]]:
    """States by breadth-first distance from the initial state; unreachable ones last."""
    depth: dict[str, int] = {INITIAL_STATE: 0}
    order = [INITIAL_STATE]
    for state in order:
        for t in process.transitions:
            if t.source == state and t.target not in depth:
                depth[t.target] = depth[state] + 1
                order.append(t.target)
    rest = sorted(process.states - set(depth))
    last = max(depth.values(), default=0) + 1
    for state in rest:
        depth[state] = last
        order.append(state)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for state in order:
        layers[depth[state]].append(state)
    return layers


def process_svg(process: Process, current: str | None, title: str, prefix: str = "p") -> Markup:
    layers = _layers(process)
    place: dict[str, tuple[int, int]] = {}
    for column, states in enumerate(layers):
        for row, state in enumerate(states):
            place[state] = (PAD + column * (BOX_W + COL_GAP), PAD + row * (BOX_H + ROW_GAP))
    width = PAD * 2 + len(layers) * BOX_W + (len(layers) - 1) * COL_GAP
    height = PAD * 2 + max(len(s) for s in layers) * (BOX_H + ROW_GAP) - ROW_GAP + 20
    parts = [
        f'<svg class="process" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrowhead"/></marker></defs>',
    ]
    for t in process.transitions:
        parts.append(_edge(place[t.source], place[t.target], t.event, t.manual, prefix))
    for state, (x, y) in place.items():
        marked = state == current
        css = "state current" if marked else "state"
        if process.is_reserved(state):  # reserved states: the Back Office's diagrams show them
            css += " reserved"
        parts.append(
            f'<g class="{css}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="8" ry="8"/><text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 4}" '
            f'text-anchor="middle">{escape(_short(state))}</text>'
            + (f"<title>{escape(state)} (current state)</title>" if marked else "")
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(text: str, most: int = 24) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _edge(
    start: tuple[int, int], end: tuple[int, int], event: str, manual: bool, prefix: str
) -> str:
    sx, sy, ex, ey = float(start[0]), float(start[1]), float(end[0]), float(end[1])
    css = "edge" if manual else "edge automatic"
    if ex > sx:  # forward: right side to left side
        x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H / 2, ex, ey + BOX_H / 2
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        path = f"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}"
        lx, ly = mx, my - 4
    else:  # back or same column: an arc below the boxes
        x1, y1, x2, y2 = sx + BOX_W / 2, sy + BOX_H, ex + BOX_W / 2 + 12, ey + BOX_H
        drop = max(y1, y2) + ROW_GAP * 0.8
        path = f"M{x1},{y1} C{x1},{drop} {x2},{drop} {x2},{y2}"
        lx, ly = (x1 + x2) / 2, drop - 2
    return (
        f'<g class="{css}"><path d="{path}" marker-end="url(#{prefix}-arrow)"/>'
        f'<text x="{lx}" y="{ly}" text-anchor="middle">{escape(event)}</text></g>'
    )

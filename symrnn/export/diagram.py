"""Diagrams as data: boxes, circles and arrows at positions in inches, and a layered layout for them.

The two pictures of a derivation document (:mod:`~symrnn.export.cell_diagram`, one step of the
cell; :mod:`~symrnn.export.unrolled`, three steps) are built as a :class:`Diagram` and drawn by
:mod:`~symrnn.export.figures`.  Coordinates are inches at the printed size, so a label set in 9 pt
is 9 pt on the page.  The layout is our own (no Graphviz): :func:`layered_layout` places a directed
acyclic graph left to right in ranks (longest path), threads edges that skip ranks through
placeholder slots so they never cross a box, and orders each rank by the barycentre of its
neighbours.  Everything is ordered lists and stable sorts: the same graph gives the same picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FONT_PT = 9.0  # labels; no text in a picture is smaller than SMALL_PT
SMALL_PT = 8.0
MAX_WIDTH = 6.5  # inches: the LaTeX text width (A4, 2 cm margins) is 6.69 in
_CHAR_WIDTH = 0.078  # inches per visible character at FONT_PT (DejaVu Sans, average)


@dataclass
class Box:
    """A node: ``shape`` is "box" (a value), "layer" (a weighted function), "op" (a circle) or "point" (no mark)."""

    key: str
    label: str  # mathtext (``$\\bar{i}_{2}$``) or plain text
    shape: str = "box"
    fill: str = "white"
    dashed: bool = False
    tag: str = ""  # a name written above the node (the value a layer or op computes)
    tag_room: float = 0.0  # inches kept free above the node for its tag
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Arrow:
    """An edge from ``src`` to ``dst``; ``kind`` picks the pen ("use", "state", "carry", "delta")."""

    src: str
    dst: str
    kind: str = "use"
    via: list[tuple[float, float]] = field(default_factory=list)  # bends, in order
    bend: float = 0.0  # curvature of a direct arrow (0: straight)


@dataclass
class Diagram:
    boxes: dict[str, Box]
    arrows: list[Arrow]
    width: float
    height: float
    titles: list[tuple[float, float, str]] = field(default_factory=list)  # (x, y, text) at SMALL_PT
    legend: list[tuple[str, str]] = field(default_factory=list)  # (arrow kind, what it means)


def visible_chars(label: str) -> int:
    """How many characters a mathtext label shows: commands, braces, ``_``/``^`` and ``$`` count as none."""
    text = re.sub(r"\\(bar|tilde|hat|check|dot|mathrm|operatorname)\b", "", label)
    text = re.sub(r"\\(tanh|log|exp|sin|cos|max|min|relu)\b", lambda m: m.group(1), text)
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    subscripts = len(re.findall(r"_\{([^}]*)\}", text))
    return max(1, len(re.sub(r"[{}$^_ ]", "", text)) - subscripts // 2)


def size_box(box: Box) -> None:
    """Width and height from the label: room for the text at FONT_PT plus padding."""
    chars = visible_chars(box.label)
    box.tag_room = 0.17 if box.tag else 0.0
    if box.shape == "op":  # a circle, or an ellipse for a function name
        box.width = max(0.26, 0.12 + chars * _CHAR_WIDTH)
        box.height = 0.26
    elif box.shape == "point":
        box.width = box.height = 0.0
    else:
        box.width = max(0.34, 0.16 + chars * _CHAR_WIDTH)
        box.height = 0.26


def layered_layout(
    boxes: dict[str, Box],
    edges: list[tuple[str, str, str]],
    *,
    first: list[str] = (),
    last: list[str] = (),
    rank_gap: float = 0.32,
    slot_gap: float = 0.14,
) -> Diagram:
    """Place a DAG left to right: rank by longest path, bends for long edges, barycentre order.

    Args:
        boxes: the nodes (sized here).
        edges: (source key, destination key, arrow kind), in a deterministic order.
        first: keys placed in rank 0, in this order, top to bottom (the previous states and inputs).
        last: keys placed in the last rank, in this order (the new states).
        rank_gap, slot_gap: inches between ranks and between nodes of one rank.

    Returns:
        The :class:`Diagram`, with its origin at the bottom left and a margin of 0.1 in.
    """
    for box in boxes.values():
        size_box(box)
    keys = list(boxes)
    preds: dict[str, list[str]] = {k: [] for k in keys}
    for src, dst, _ in edges:
        preds[dst].append(src)
    rank: dict[str, int] = {}

    def rank_of(key: str) -> int:
        if key not in rank:
            rank[key] = 0 if key in first or not preds[key] else 1 + max(rank_of(p) for p in preds[key])
        return rank[key]

    for key in keys:
        rank_of(key)
    top = max(rank.values(), default=0) + (1 if last else 0)
    for key in last:
        rank[key] = top
    # Edges that skip ranks go through one placeholder per rank they cross.
    layers: list[list[str]] = [[] for _ in range(top + 1)]
    for key in [*first, *(k for k in keys if k not in first and k not in last), *last]:
        layers[rank[key]].append(key)
    chains: list[tuple[list[str], str]] = []
    for i, (src, dst, kind) in enumerate(edges):
        chain = [src]
        for r in range(rank[src] + 1, rank[dst]):
            point = f"\x00{i}.{r}"
            layers[r].append(point)
            rank[point] = r
            chain.append(point)
        chain.append(dst)
        chains.append((chain, kind))
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for chain, _ in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    fixed = set(first) | set(last)
    for sweep in range(8):  # barycentre sweeps, alternately from the left and from the right
        order = range(1, top + 1) if sweep % 2 == 0 else range(top - 1, -1, -1)
        for r in order:
            position = {k: i for layer in layers for i, k in enumerate(layer)}
            neighbours = up if sweep % 2 == 0 else down

            def centre(key: str, neighbours=neighbours, position=position, r=r) -> float:
                ns = neighbours.get(key, [])
                return sum(position[n] for n in ns) / len(ns) if ns else position[key]

            movable = [k for k in layers[r] if k not in fixed]
            movable.sort(key=centre)  # stable: ties keep their order
            it = iter(movable)
            layers[r] = [k if k in fixed else next(it) for k in layers[r]]
    # Coordinates: ranks as columns, each as wide as its widest box; nodes top to bottom.
    placeholder = Box("", "", shape="point")
    x = 0.1
    columns = []
    for layer in layers:
        w = max((boxes[k].width if k in boxes else 0.0) for k in layer)
        columns.append(x + w / 2)
        x += w + rank_gap
    width = x - rank_gap + 0.1

    def room(key: str) -> float:
        return boxes[key].height + boxes[key].tag_room if key in boxes else 0.0

    heights = [sum(room(k) + slot_gap for k in layer) for layer in layers]
    height = max(heights) + 0.2
    points: dict[str, tuple[float, float]] = {}
    for r, layer in enumerate(layers):
        y = height / 2 + heights[r] / 2 - slot_gap / 2
        for key in layer:
            box = boxes.get(key, placeholder)
            y -= box.tag_room + box.height / 2
            points[key] = (columns[r], y)
            if key in boxes:
                box.x, box.y = columns[r], y
            y -= box.height / 2 + slot_gap
    arrows = [Arrow(chain[0], chain[-1], kind, [points[p] for p in chain[1:-1]]) for chain, kind in chains]
    return Diagram(dict(boxes), arrows, width, height)


def fit_width(diagram: Diagram, max_width: float = MAX_WIDTH) -> Diagram:
    """Squeeze the horizontal gaps (never the boxes) so the diagram is at most ``max_width`` wide."""
    if diagram.width <= max_width:
        return diagram
    factor = max_width / diagram.width

    def squeeze(x: float) -> float:
        return 0.1 + (x - 0.1) * factor

    for box in diagram.boxes.values():
        box.x = squeeze(box.x)
    for arrow in diagram.arrows:
        arrow.via = [(squeeze(px), py) for px, py in arrow.via]
    diagram.titles = [(squeeze(tx), ty, t) for tx, ty, t in diagram.titles]
    diagram.width = max_width
    return diagram

"""The forward computation unrolled over three steps, left to right, with the δ paths of the states.

One box per named value per step (inputs and targets grey, states blue, pre-activations dashed,
the loss red), one grey arrow per use inside a step, blue arrows for the states carried to the
next step, and red dashed arrows for the terms of each state's δ: one back from every use of the
state (the readout of its own step, the equations of the next step), which is the recursion the
document writes out.  Each step is a column band; inside it, values rise by their depth in the
step's equations (inputs at the bottom, the loss at the top) and states stand at the band's right
edge, so the carried arrows run through the gap between bands.  Parameters are left out.
"""

from __future__ import annotations

from symrnn import ir
from symrnn.export.diagram import Arrow, Box, Diagram, size_box
from symrnn.printing.notation import latex_name

STEPS = 3
SLOT = 0.4  # inches per box in a band
RANK_GAP = 0.42  # inches between ranks
BAND_GAP = 0.25

_FILL = {"input": "#eeeeee", "target": "#eeeeee", "state": "#dbe9f6", "loss": "#f6dbdb", "value": "white"}


def _uses(d) -> dict[str, list[tuple[str, int]]]:
    """Forward name → the (name, shift) of every value it reads (parameters left out), in order."""
    uses: dict[str, list[tuple[str, int]]] = {}
    for eq in d.forward:
        seen: list[tuple[str, int]] = []
        for leaf in ir.leaves(eq.rhs):
            if leaf.kind != ir.PARAM and (leaf.name, leaf.shift) not in seen:
                seen.append((leaf.name, leaf.shift))
        uses[eq.lhs.name] = seen
    return uses


def _ranks(d, uses) -> dict[str, int]:
    rank = {name: 0 for name in d.cell.inputs}
    for eq in d.forward:
        same_step = [rank[n] for n, shift in uses[eq.lhs.name] if shift == 0 and n in rank]
        rank[eq.lhs.name] = 1 + max(same_step, default=0)
    for eq in d.forward:
        for n, _ in uses[eq.lhs.name]:
            if n not in rank:  # the target: beside what it is compared with
                rank[n] = rank[eq.lhs.name] - 1
    return rank


def _kind(d, name: str, target_names) -> str:
    if name in d.cell.states:
        return "state"
    if name in d.cell.inputs:
        return "input"
    if name in target_names:
        return "target"
    return "loss" if name == "L" else "value"


def unrolled_diagram(d, steps: int = STEPS) -> Diagram:
    """The diagram of ``d``'s forward pass at t = 1, …, ``steps``, with the initial states on the left."""
    uses = _uses(d)
    rank = _ranks(d, uses)
    forward_names = [eq.lhs.name for eq in d.forward]
    targets = [n for n in rank if n not in forward_names and n not in d.cell.inputs]
    names = [*d.cell.inputs, *forward_names, *targets]
    preactivations = {eq.lhs.name for eq in d.forward if eq.note.startswith("pre-activation of ")}
    layers: dict[int, list[str]] = {}
    for name in names:  # states last in their rank: at the band's right edge
        layers.setdefault(rank[name], [])
    for name in sorted(names, key=lambda n: n in d.cell.states):
        layers[rank[name]].append(name)
    width_slots = max(len(layer) for layer in layers.values())
    band = width_slots * SLOT
    top = max(layers)
    height = (top + 1) * RANK_GAP + 0.35
    boxes: dict[str, Box] = {}

    def y_of(r: int) -> float:
        return 0.2 + RANK_GAP / 2 + r * RANK_GAP

    def key(name: str, step: int) -> str:
        return f"{name}@{step}"

    first_x = 0.1 + SLOT / 2
    for name in d.cell.states:
        box = Box(key(name, 0), f"${latex_name(name, 0, 0)}$", "box", _FILL["state"])
        box.x, box.y = first_x, y_of(rank[name])
        boxes[box.key] = box
    origin = 0.1 + SLOT + BAND_GAP
    titles = [(first_x, height - 0.12, "t = 0")]
    for step in range(1, steps + 1):
        x0 = origin + (step - 1) * (band + BAND_GAP)
        titles.append((x0 + band / 2, height - 0.12, f"t = {step}"))
        for r, layer in layers.items():
            offset = x0 + band - len(layer) * SLOT if any(n in d.cell.states for n in layer) else x0
            if not any(n in d.cell.states for n in layer):
                offset = x0 + (band - len(layer) * SLOT) / 2
            for i, name in enumerate(layer):
                kind = _kind(d, name, targets)
                box = Box(key(name, step), f"${latex_name(name, 0, step)}$", "box", _FILL[kind])
                box.dashed = name in preactivations
                box.x, box.y = offset + (i + 0.5) * SLOT, y_of(r)
                boxes[box.key] = box
    for box in boxes.values():
        size_box(box)
        box.width = min(box.width, SLOT - 0.06)
    arrows: list[Arrow] = []
    for step in range(1, steps + 1):
        for eq in d.forward:
            for name, shift in uses[eq.lhs.name]:
                source = step + shift
                kind = "state" if shift != 0 else "use"
                arrows.append(Arrow(key(name, source), key(eq.lhs.name, step), kind))
    for step in range(0, steps + 1):  # the δ of every state: a term back from each use
        for name in d.cell.states:
            next_step_done = False
            for eq in d.forward:
                reads = [shift for n, shift in uses[eq.lhs.name] if n == name]
                for shift in reads:
                    user_step = step - shift  # the use at user_step reads the state of step
                    if not 1 <= user_step <= steps:
                        continue
                    if user_step != step:  # the next step's uses: one arrow for all of them
                        if next_step_done:
                            continue
                        next_step_done = True
                    arrows.append(Arrow(key(eq.lhs.name, user_step), key(name, step), "delta", bend=0.3))
    width = origin + steps * (band + BAND_GAP) - BAND_GAP + 0.1
    diagram = Diagram(boxes, arrows, width, height, titles)
    diagram.legend = [
        ("use", "is used to compute"),
        ("state", "a state carried to the next step"),
        ("delta", "δ back to a state"),
    ]
    return diagram

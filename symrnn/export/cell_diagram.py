"""One step of a cell as a diagram, read off its equations (Greff et al. 2017 Fig. 1, Olah's LSTM figures).

The previous states and the input enter on the left, the new states leave on the right.  An
element-wise function of a weighted sum (a gate, a candidate) is one box — σ or tanh — fed by
every value the sum weights (the weights themselves are left out, as in the papers' figures);
other element-wise operations are circles (×, +, −, 1−, ÷, or the function's name); every named
value carries its name.  The arrows of the states are blue, and the *weight-free* path from a
previous state to its new value (the LSTM's cell state through f ⊙ c_{t-1}, the GRU's (1 − z) ⊙
h_{t-1}) is thick: the carry that lets gradients survive.  Because the diagram is built from the
IR, a cell written by a user gets one too.
"""

from __future__ import annotations

from symrnn import ir
from symrnn.export.diagram import Box, Diagram, fit_width, layered_layout
from symrnn.functions import function_spec
from symrnn.ir import Node
from symrnn.printing.notation import latex_name

_OP_LABELS = {"mul": r"$\times$", "add": "$+$", "sub": "$-$", "div": r"$\div$", "one_minus": "$1-$"}
_FILL = {"state": "#dbe9f6", "input": "#eeeeee", "layer": "#fdf1c7", "op": "#f9dede", "out": "#dbe9f6"}


def _mathtext(latex: str) -> str:
    return f"${latex}$"


def _function_label(fn: str) -> str:
    spec = function_spec(fn)
    tex = spec.latex
    if tex.startswith(r"\operatorname"):
        tex = tex.replace(r"\operatorname", r"\mathrm")
    return _mathtext(tex)


class _Builder:
    """Walks the cell's equations and collects boxes and edges."""

    def __init__(self, cell):
        self.cell = cell
        self.boxes: dict[str, Box] = {}
        self.edges: list[tuple[str, str, str]] = []
        self.named: dict[str, str] = {}  # value name → the key of the box that computes it
        self.weighted: set[str] = set()  # boxes that apply weights (layers)
        self.count = 0

    def add(self, box: Box) -> str:
        self.boxes[box.key] = box
        return box.key

    def edge(self, src: str, dst: str) -> None:
        if (src, dst) not in {(a, b) for a, b, _ in self.edges}:
            self.edges.append((src, dst, "use"))

    def fresh(self, what: str) -> str:
        self.count += 1
        return f"{what}#{self.count}"

    def leaf(self, node: Node) -> str | None:
        if node.kind == ir.PARAM:
            return None
        if node.kind == ir.STATE and node.shift == -1:
            return f"prev:{node.name}"
        if node.kind == ir.INPUT_KIND:
            return f"input:{node.name}"
        if node.name in self.named:
            return self.named[node.name]
        raise ValueError(f"the cell diagram cannot place {node.name}: it is used before it is defined")

    def linear_sources(self, node: Node) -> list[str] | None:
        """The values a weighted sum reads (weights and biases left out), or None if ``node`` is not one."""
        op = node.op
        if op == "var":
            return [] if node.kind == ir.PARAM else None
        if op == "broadcast":
            return self.linear_sources(node.args[0])
        if op == "matmul" and _is_param(node.args[0]):
            return self.operands(node.args[1])
        if op == "mul" and any(_is_param(a) for a in node.args):  # a peephole: p ⊙ c, weighted element-wise
            other = next((a for a in node.args if not _is_param(a)), None)
            return [] if other is None else self.operands(other)
        if op == "scale":
            return self.linear_sources(node.args[0])
        if op in ("add", "sub"):
            left, right = (self.linear_sources(a) for a in node.args)
            if left is None or right is None:
                return None
            return left + [s for s in right if s not in left]
        if op == "rows":
            return self.linear_sources(node.args[0])
        return None

    def operands(self, node: Node) -> list[str]:
        """The boxes of a weighted operand: each part of a concatenation [h; x], or the value itself."""
        if node.op == "concat":
            out: list[str] = []
            for part in node.args:
                out += [s for s in self.operands(part) if s not in out]
            return out
        key = self.walk(node)
        return [] if key is None else [key]

    def walk(self, node: Node) -> str | None:
        """The key of the box whose output is ``node`` (None: a parameter alone)."""
        if node.op == "var":
            return self.leaf(node)
        if node.op == "apply" or node.op == "softmax":
            label = _function_label(node.attrs[0]) if node.op == "apply" else r"$\mathrm{softmax}$"
            sources = self.linear_sources(node.args[0])
            weighted = sources is not None and self._has_weights(node.args[0])
            key = self.add(
                Box(self.fresh("fn"), label, "layer" if weighted else "op", _FILL["layer" if weighted else "op"])
            )
            if weighted:
                self.weighted.add(key)
                for s in sources:
                    self.edge(s, key)
            else:
                arg = self.walk(node.args[0])
                if arg is not None:
                    self.edge(arg, key)
            return key
        sources = self.linear_sources(node)
        if sources is not None and self._has_weights(node):  # a weighted sum on its own
            key = self.add(Box(self.fresh("sum"), r"$\Sigma$", "layer", _FILL["layer"]))
            self.weighted.add(key)
            for s in sources:
                self.edge(s, key)
            return key
        if node.op in ("scale", "broadcast", "rows", "transpose"):
            return self.walk(node.args[0])
        if node.op == "add":
            terms = _flat_sum(node)
            key = self.add(Box(self.fresh("add"), _OP_LABELS["add"], "op", _FILL["op"]))
        else:
            terms = list(node.args)
            label = _OP_LABELS.get(node.op, _mathtext(rf"\mathrm{{{node.op}}}"))
            key = self.add(Box(self.fresh(node.op), label, "op", _FILL["op"]))
        for term in terms:
            arg = self.walk(term)
            if arg is not None:
                self.edge(arg, key)
        return key

    @staticmethod
    def _has_weights(node: Node) -> bool:
        return any(n.op == "matmul" or (n.op == "mul" and any(map(_is_param, n.args))) for n in ir.postorder(node))


def _is_param(node: Node) -> bool:
    while node.op in ("broadcast", "transpose"):
        node = node.args[0]
    return node.op == "var" and node.kind == ir.PARAM


def _flat_sum(node: Node) -> list[Node]:
    if node.op == "add":
        return _flat_sum(node.args[0]) + _flat_sum(node.args[1])
    return [node]


def cell_diagram(cell) -> Diagram:
    """The one-step diagram of ``cell`` (a :class:`~symrnn.cellspec.Cell`), laid out and sized in inches.

    Raises:
        ValueError: an equation uses a value before the equation that defines it.
    """
    b = _Builder(cell)
    first = []
    for name in cell.states:
        first.append(b.add(Box(f"prev:{name}", _mathtext(latex_name(name, -1)), "box", _FILL["state"])))
    for name in cell.inputs:
        first.append(b.add(Box(f"input:{name}", _mathtext(latex_name(name, 0)), "box", _FILL["input"])))
    for lhs, rhs in cell.equations:
        key = b.walk(rhs)
        if key is None or key.startswith(("prev:", "input:")) or b.boxes[key].tag:
            # a value that is a plain copy of another: give it a point of its own
            source = key
            key = b.add(Box(b.fresh("copy"), "", "point"))
            if source is not None:
                b.edge(source, key)
        b.boxes[key].tag = _mathtext(latex_name(lhs.name, 0))
        b.named[lhs.name] = key
    last = []
    for name in cell.states:
        out = b.add(Box(f"next:{name}", _mathtext(latex_name(name, 0)), "box", _FILL["out"]))
        b.edge(b.named[name], out)
        last.append(out)
    carry = _weight_free(b, cell)
    edges = [(s, d, "carry" if (s, d) in carry else "state" if _on_state_path(b, s) else "use") for s, d, _ in b.edges]
    for name in cell.states:  # the new state is named by its box on the right
        b.boxes[b.named[name]].tag = ""
    diagram = layered_layout(b.boxes, edges, first=first, last=last)
    return fit_width(diagram)


def _on_state_path(b: _Builder, key: str) -> bool:
    return key.startswith("prev:")


def _weight_free(b: _Builder, cell) -> set[tuple[str, str]]:
    """Edges on a path from a previous state to its new value that passes no weighted box."""
    succ: dict[str, list[str]] = {}
    for s, d, _ in b.edges:
        succ.setdefault(s, []).append(d)
    carry: set[tuple[str, str]] = set()
    for name in cell.states:
        target = f"next:{name}"

        def reaches(key: str, seen: frozenset, target=target) -> bool:
            if key == target:
                return True
            found = False
            for nxt in succ.get(key, []):
                if nxt in b.weighted or nxt in seen:
                    continue
                if reaches(nxt, seen | {nxt}):
                    carry.add((key, nxt))
                    found = True
            return found

        reaches(f"prev:{name}", frozenset())
    return carry

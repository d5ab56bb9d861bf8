"""Straight-line NumPy statements from IR: σ and tanh through one exp, ``out=`` writes, CSE."""

from __future__ import annotations

from symrnn import ir
from symrnn.codegen.numpy_module import worth_a_temp
from symrnn.codegen.numpy_printer import NumpyPrinter, python_number
from symrnn.ir import Node

_FAST_FUNCTIONS = {"sigmoid": "_sigmoid_fast({0})", "tanh": "_tanh_fast({0})"}
_UFUNCS = {"add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.divide"}


class FastPrinter(NumpyPrinter):
    """The NumPy printer with σ and tanh through one exp."""

    def _print_apply(self, node):
        name = node.attrs[0]
        if name in _FAST_FUNCTIONS:
            return _FAST_FUNCTIONS[name].format(self.atom(node.args[0]))
        return super()._print_apply(node)


class Emitter:
    """Straight-line statements with common subexpressions as temporaries, and ``out=`` writes.

    ``saved`` maps subexpressions the backward pass reads to the tape row they are written to.
    """

    def __init__(self, names: dict[Node, str], indent: str, saved: dict[Node, str] | None = None):
        self.names = dict(names)
        self.indent = indent
        self.lines: list[str] = []
        self.temps: set[Node] = set()
        self.saved = saved or {}
        self.counter = 0

    def line(self, text: str):
        self.lines.append(self.indent + text)

    def plan(self, roots: list[Node]):
        """Temporaries for subexpressions used more than once, and for every saved one."""
        uses: dict[Node, int] = {}
        for root in roots:
            uses[root] = uses.get(root, 0) + 1
        for node in {n: None for root in roots for n in ir.postorder(root)}:
            for arg in node.args:
                uses[arg] = uses.get(arg, 0) + 1
        self.temps = {n for n, k in uses.items() if k > 1 and worth_a_temp(n)} | set(self.saved)

    def code(self, node: Node, root_too: bool = True) -> str:
        """Code for ``node``, emitting its temporaries first."""
        subs = ir.postorder(node) if root_too else ir.postorder(node)[:-1]
        for sub in subs:
            if sub in self.temps and sub not in self.names:
                if sub in self.saved:
                    name = self.saved[sub].split("[")[0].replace("tape_", "")
                    self.line(f"{name} = {self.saved[sub]}")
                    self.into(name, sub, temps_done=True)
                    continue
                name = f"_t{self.counter}"
                self.counter += 1
                self.line(f"{name} = {FastPrinter(self.names).doprint(sub)}")
                self.names[sub] = name
        return FastPrinter(self.names).doprint(node)

    def assign(self, target: str, node: Node):
        code = self.code(node, root_too=False)
        if node in self.names:
            code = self.names[node]
        self.line(f"{target} = {code}")
        self.names.setdefault(node, target)

    def into(self, target: str, node: Node, temps_done: bool = False):
        """Write ``node`` into the existing array ``target`` (a tape row or a buffer view)."""
        if not temps_done:
            self.code(node, root_too=False)
        p = FastPrinter(self.names)
        op = node.op
        if node in self.names:
            self.line(f"{target}[...] = {self.names[node]}")
        elif op in _UFUNCS:
            a, b = (p.doprint(arg) for arg in node.args)
            self.line(f"{_UFUNCS[op]}({a}, {b}, out={target})")
        elif op == "one_minus":
            self.line(f"np.subtract(1, {p.doprint(node.args[0])}, out={target})")
        elif op == "scale":
            self.line(f"np.multiply({p.doprint(node.args[0])}, {python_number(node.attrs[0])}, out={target})")
        elif op == "apply" and node.attrs[0] == "tanh":  # inline: a call costs as much as a small ufunc
            self.line(f"np.multiply({p.doprint(node.args[0])}, -2.0, out={target})  # tanh through one exp")
            self.line(f"np.exp({target}, out={target})")
            self.line(f"{target} += 1")
            self.line(f"np.divide(2.0, {target}, out={target})")
            self.line(f"{target} -= 1")
        elif op == "apply" and node.attrs[0] == "sigmoid":
            self.line(f"np.negative({p.doprint(node.args[0])}, out={target})  # σ through one exp")
            self.line(f"np.exp({target}, out={target})")
            self.line(f"{target} += 1")
            self.line(f"np.reciprocal({target}, out={target})")
        else:
            self.line(f"{target}[...] = {p.doprint(node)}")
        self.names[node] = target

"""Straight-line NumPy statements from IR: σ and tanh through one exp, ``out=`` writes, CSE."""

from __future__ import annotations

import re

from symrnn import ir
from symrnn.codegen.numpy_printer import NumpyPrinter, dim_code, python_number, worth_a_temp
from symrnn.codegen.plan import terms
from symrnn.functions import FUNCTIONS
from symrnn.ir import Node

_FAST_FUNCTIONS = {name: spec.fast_numpy for name, spec in FUNCTIONS.items() if spec.fast_numpy is not None}
# In loop bodies the numbers of the exp-form activations are 0-d arrays of the working dtype,
# bound once per call: a Python number costs each ufunc call a conversion (~0.5 µs, which
# is most of a small step's element-wise cost).
CONSTANTS = {0: "_zero", 1: "_one", 2: "_two", -2: "_minus_two", -0.5: "_minus_half"}
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
    With ``buffers``, the statements of a loop body allocate nothing: temporaries, sums and
    products go into (batch, size) arrays the caller binds once before the loop
    (:attr:`buffers`: name → size code).
    """

    def __init__(
        self, names: dict[Node, str], indent: str, saved: dict[Node, str] | None = None, buffers: bool = False
    ):
        self.names = dict(names)
        self.indent = indent
        self.lines: list[str] = []
        self.temps: set[Node] = set()
        self.saved = saved or {}
        self.counter = 0
        self.buffers: dict[str, str] | None = {} if buffers else None
        self.flags: dict[str, str] = {}  # name → entries: whether np.tanh beats the exp form there

    def const(self, value: int) -> str:
        """A number in a statement: its 0-d array name in loop bodies (see :data:`CONSTANTS`)."""
        if self.buffers is not None and value in CONSTANTS:
            return CONSTANTS[value]
        return python_number(value)

    def buffer(self, name: str, like: Node) -> str:
        """A (batch, size) array named ``name``, bound before the loop (sized like ``like``)."""
        self.buffers[name] = dim_code(like.shape[0])
        return name

    def tanh_by_size(self, entries: str, ufunc: list[str], exp_form: list[str]):
        """``if <flag>: ufunc else: exp_form``, the flag (np.tanh beats the exp form on arrays of
        ``entries`` entries) bound once before the loop."""
        flag = "_tanh_ufunc_" + re.sub(r"\W+", "_", entries.replace("batch_size * ", "")).strip("_")
        self.flags[flag] = entries
        self.line(f"if {flag}:")
        for text in ufunc:
            self.line("    " + text)
        self.line("else:")
        for text in exp_form:
            self.line("    " + text)

    def finish_tanh(self, q: str) -> list[str]:
        """In place: ``q`` holds 1 + e^{-2a}; the statements that make it tanh(a) = 2 / q - 1."""
        return [f"np.divide({self.const(2)}, {q}, out={q})", f"{q} -= {self.const(1)}  # tanh"]

    def bufferable(self, node: Node) -> bool:
        return self.buffers is not None and node.batched and node.shape[1] == ir.ONE

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
                if self.bufferable(sub):
                    self.into(self.buffer(name, sub), sub, temps_done=True)
                    continue
                self.line(f"{name} = {FastPrinter(self.names).doprint(sub)}")
                self.names[sub] = name
        return FastPrinter(self.names).doprint(node)

    def assign(self, target: str, node: Node):
        """``target = node``: into a buffer of its own when the emitter has buffers."""
        if self.bufferable(node) and node not in self.names and node.op not in ("var", "transpose"):
            self.into(self.buffer(target, node), node)
            return
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
        parts = signed_terms(node)
        if node in self.names:
            self.line(f"{target}[...] = {self.names[node]}")
        elif self.buffers is not None and _worth_splitting(self, parts) and not _reads(p, parts, target):
            computed = [k for k, (sign, term) in enumerate(parts) if sign > 0 and not _plain(self, term)]
            if computed and computed[0] > 0:  # into the target directly, not a copy of a plain term
                parts.insert(0, parts.pop(computed[0]))
            self._start(target, parts[0][1])  # the first term, then the others added in
            if parts[0][0] < 0:
                self.line(f"np.negative({target}, out={target})")
            for sign, term in parts[1:]:
                self.add_into(target, sign, term)
        elif self.buffers is not None and op == "mul" and (split := _plain_and_compound(self, node)) is not None:
            plain, compound = split
            self._start(target, compound)  # the compound factor in place, then times the other
            self.line(f"{target} *= {p.doprint(plain)}")
        elif op == "matmul" and not node.args[0].batched and node.args[1].batched:
            self.line(f"{self.product(target)}({p.atom(node.args[1])}, {p._transposed(node.args[0])}, out={target})")
        elif op == "matmul" and node.args[0].batched and not node.args[1].batched and node.args[0].is_row:
            self.line(f"{self.product(target)}({p.atom(node.args[0])}, {p.atom(node.args[1])}, out={target})")
        elif op in _UFUNCS:
            a, b = (p.doprint(arg) for arg in node.args)
            self.line(f"{_UFUNCS[op]}({a}, {b}, out={target})")
        elif op == "one_minus":
            self.line(f"np.subtract({self.const(1)}, {p.doprint(node.args[0])}, out={target})")
        elif op == "scale" and node.attrs[0] == -1:
            self.line(f"np.negative({p.doprint(node.args[0])}, out={target})")
        elif op == "scale" and self.buffers is not None and not _plain(self, node.args[0]):
            self._start(target, node.args[0])
            self.line(f"np.multiply({target}, {self.const(node.attrs[0])}, out={target})")
        elif op == "scale":
            self.line(f"np.multiply({p.doprint(node.args[0])}, {self.const(node.attrs[0])}, out={target})")
        elif op == "apply" and node.attrs[0] == "tanh":  # inline: a call costs as much as a small ufunc
            arg = p.doprint(node.args[0])
            exp_form = [
                f"np.multiply({arg}, {self.const(-2)}, out={target})  # tanh through one exp",
                f"np.exp({target}, out={target})",
                f"{target} += {self.const(1)}",
                *self.finish_tanh(target),
            ]
            if self.buffers is None:
                for text in exp_form:
                    self.line(text)
            else:  # a loop body: one np.tanh call is cheaper on small arrays, the exp form on large ones
                entries = f"batch_size * {dim_code(node.shape[0])}"
                self.tanh_by_size(entries, [f"np.tanh({arg}, out={target})"], exp_form)
        elif op == "apply" and node.attrs[0] == "sigmoid":
            self.line(f"np.negative({p.doprint(node.args[0])}, out={target})  # σ through one exp")
            self.line(f"np.exp({target}, out={target})")
            self.line(f"{target} += {self.const(1)}")
            self.line(f"np.divide({self.const(1)}, {target}, out={target})")
        else:
            self.line(f"{target}[...] = {p.doprint(node)}")
        self.names[node] = target

    def add_into(self, target: str, sign: int, term: Node):
        """``target ±= term``; a product or matrix product through a scratch buffer, not a temporary."""
        op = "+=" if sign > 0 else "-="
        if _plain(self, term) or not self.bufferable(term):
            self.line(f"{target} {op} {FastPrinter(self.names).doprint(term)}")
            return
        scratch = "_scratch_" + re.sub(r"\W+", "_", dim_code(term.shape[0]))
        while target.startswith(scratch):  # inside a term being built in the scratch: one deeper
            scratch += "_"
        scratch = self.buffer(scratch, term)
        self._start(scratch, term)  # the scratch is overwritten by the next term: never a name for it
        self.line(f"{target} {op} {scratch}")

    def product(self, target: str) -> str:
        """``np.dot`` into a loop buffer (C-contiguous, as its ``out=`` requires): about 1 µs less
        per call than ``np.matmul``, most of a small step's product; ``np.matmul`` into views."""
        return "np.dot" if self.buffers is not None and target in self.buffers else "np.matmul"

    def _start(self, target: str, part: Node):
        """Write ``part`` into ``target`` that the next statements change: not a name for ``part``."""
        known = dict(self.names)
        self.into(target, part, temps_done=True)
        self.names = known


def signed_terms(node: Node) -> list[tuple[int, Node]]:
    """:func:`~symrnn.codegen.plan.terms` as (sign, term) pairs: ``-t`` is ``(-1, t)``."""
    return [(-1, t.args[0]) if t.op == "scale" and t.attrs[0] == -1 else (1, t) for t in terms(node)]


def _plain(emitter: Emitter, node: Node) -> bool:
    """Whether a node is already an array (a name, a leaf, a broadcast bias): nothing to compute."""
    return node in emitter.names or node.op in ("var", "broadcast")


def _worth_splitting(emitter: Emitter, parts: list[tuple[int, Node]]) -> bool:
    """A sum written term by term: more than two terms, or a term that would need a temporary."""
    if len(parts) < 2:
        return False
    plain = all(_plain(emitter, t) for _, t in parts)
    return len(parts) > 2 or not plain or parts[0][0] < 0


def _plain_and_compound(emitter: Emitter, node: Node):
    """(plain, compound) factors of an equal-shape product whose one factor needs computing, else None."""
    a, b = node.args
    if a.shape != b.shape:
        return None

    if _plain(emitter, a) and not _plain(emitter, b):
        return a, b
    if _plain(emitter, b) and not _plain(emitter, a):
        return b, a
    return None


def _reads(printer: NumpyPrinter, parts: list[tuple[int, Node]], target: str) -> bool:
    """Whether a term after the first reads ``target`` (writing the first term there would clobber it)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(target)}(?!\w)")
    return any(pattern.search(printer.doprint(term)) for _, term in parts[1:])

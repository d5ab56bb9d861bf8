"""The canonical form of a cell's one-step map: atoms, blocks, terms (see the package docstring)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy

from symrnn import ir
from symrnn.cellspec import Cell
from symrnn.ir import Node

TOLERANCE = 1e-10
SIZES = ({"hidden_size": 2, "input_size": 3, "output_size": 2}, {"hidden_size": 3, "input_size": 2, "output_size": 4})


class OutsideFamily(ValueError):
    """A cell whose equations use an operation ``compare`` does not normalise."""


# ---------------------------------------------------------------- canonical form

Mono = tuple  # sorted tuple of atom keys: ("x", name), ("s", state), ("g", index)


@dataclass(frozen=True)
class Block:
    """Rows and columns of one parameter (half-open ranges of size expressions)."""

    param: str
    rows: tuple
    cols: tuple

    @property
    def shape(self):
        return (sympy.expand(self.rows[1] - self.rows[0]), sympy.expand(self.cols[1] - self.cols[0]))


@dataclass(frozen=True)
class Term:
    """coef · outer ⊙ (block inner) for kind "mat", coef · block ⊙ inner for "diag", coef · outer without a block."""

    coef: Fraction
    outer: Mono = ()
    block: Block | None = None
    kind: str | None = None
    inner: Mono = ()

    @property
    def key(self):
        return (self.outer, self.block, self.kind, self.inner)


def _mono_mul(a: Mono, b: Mono) -> Mono:
    return tuple(sorted(a + b))


def _collect(terms) -> list[Term]:
    """Merge terms of one key, dropping zeros; first-seen order."""
    sums: dict = {}
    for t in terms:
        sums[t.key] = sums.get(t.key, Fraction(0)) + t.coef
    return [Term(c, *k) for k, c in sums.items() if c != 0]


def _coef(value) -> Fraction:
    value = sympy.nsimplify(value)
    if not value.is_Rational:
        raise OutsideFamily(f"symbolic coefficient {value}")
    return Fraction(int(value.p), int(value.q))


@dataclass
class _Atom:
    key: tuple
    function: str
    terms: list[Term]
    name: str


class _Canonical:
    """A cell's step as canonical terms: atoms (gates), new states and logits."""

    def __init__(self, cell: Cell, fixed: set[str]):
        self.cell = cell
        self.fixed = fixed
        self.atoms: list[_Atom] = []
        self._atom_of: dict[Node, tuple] = {}
        self._memo: dict[Node, list[Term]] = {}
        self.inputs = list(cell.inputs)
        self.states = list(cell.states)
        self.params = cell.all_params()
        env: dict[Node, Node] = {
            node: ir.zeros(node.shape, batched=False) for name, node in self.params.items() if name in fixed
        }
        labels: dict[Node, str] = {}
        self.inlined: dict[str, Node] = {}
        for lhs, rhs in cell.equations:
            for sub in ir.postorder(rhs):
                if sub.op == "apply":
                    arg = sub.args[0]
                    labels.setdefault(
                        ir.substitute(sub, env), f"{sub.attrs[0]}({arg.name if arg.op == 'var' else '·'})"
                    )
            value = ir.substitute(rhs, env)
            if value.op == "apply":
                labels[value] = lhs.name
            env[lhs] = value
            self.inlined[lhs.name] = value
        self._labels = labels
        try:
            for lhs, _ in cell.equations:  # atoms numbered in the order the cell writes them
                self.terms(self.inlined[lhs.name])
            self.state_terms = {s: self.terms(self.inlined[s]) for s in self.states}
            self.readout_terms = self.terms(self._logits(env))
        except OutsideFamily as e:
            raise OutsideFamily(f"cell {cell.name}: {e}") from None

    def _logits(self, env) -> Node:
        cell = self.cell
        s = env[ir.var(cell.readout_state, cell.states[cell.readout_state].shape, ir.STATE, 0)]
        out = s
        if cell.readout_weight and cell.readout_weight not in self.fixed:
            out = ir.matmul(self.params[cell.readout_weight], s)
        elif cell.readout_weight:
            out = ir.zeros((ir.OUTPUT, 1))
        if cell.readout_bias and cell.readout_bias not in self.fixed:
            out = ir.add(out, self.params[cell.readout_bias])
        return out

    # -------------------------------------------------------- linearisation
    def terms(self, node: Node) -> list[Term]:
        if node not in self._memo:
            self._memo[node] = _collect(self._terms(node))
        return self._memo[node]

    def _terms(self, node: Node) -> list[Term]:
        op = node.op
        if op == "var":
            if node.kind == ir.INPUT_KIND:
                return [Term(Fraction(1), (("x", node.name),))]
            if node.kind == ir.STATE and node.shift == -1:
                return [Term(Fraction(1), (("s", node.name),))]
            if node.kind == ir.PARAM:
                return [Term(c, (), b, "diag", ()) for c, b in self.blocks(node)]
            raise OutsideFamily(f"unexpected symbol {node.name}")
        if op == "zeros":
            return []
        if op == "broadcast":
            return [Term(c, (), b, "diag", ()) for c, b in self.blocks(node.args[0])]
        if op == "add":
            return self.terms(node.args[0]) + self.terms(node.args[1])
        if op == "sub":
            return self.terms(node.args[0]) + _scaled(self.terms(node.args[1]), Fraction(-1))
        if op == "scale":
            return _scaled(self.terms(node.args[0]), _coef(node.attrs[0]))
        if op == "one_minus":
            return [Term(Fraction(1))] + _scaled(self.terms(node.args[0]), Fraction(-1))
        if op == "mul":
            return _product(self.terms(node.args[0]), self.terms(node.args[1]))
        if op == "matmul":
            return self._matmul(*node.args)
        if op == "apply":
            return [Term(Fraction(1), (self.atom(node),))]
        raise OutsideFamily(f"operation {op} in {node!r}")

    def _matmul(self, a: Node, b: Node) -> list[Term]:
        if a.batched or not b.batched:
            raise OutsideFamily(f"product {a!r} @ {b!r} is not a parameter times a vector")
        parts = b.args if b.op == "concat" else (b,)
        out, offset = [], sympy.Integer(0)
        for part in parts:
            size = part.shape[0]
            for c, blk in self.blocks(a):
                start = blk.cols[0] + offset
                sub = Block(blk.param, blk.rows, (sympy.expand(start), sympy.expand(start + size)))
                for t in self.terms(part):
                    if t.block is not None:
                        raise OutsideFamily(f"product of two parameters in {a!r} @ {b!r}")
                    out.append(Term(c * t.coef, (), sub, "mat", t.outer))
            offset = offset + size
        return out

    def blocks(self, node: Node) -> list[tuple[Fraction, Block]]:
        """A shared (parameter-only) expression as signed blocks of parameters."""
        if node.op == "var" and node.kind == ir.PARAM:
            if node.name in self.fixed:
                return []
            return [
                (Fraction(1), Block(node.name, (sympy.Integer(0), node.shape[0]), (sympy.Integer(0), node.shape[1])))
            ]
        if node.op == "zeros":
            return []
        if node.op == "rows":
            start, stop = node.attrs
            return [
                (c, Block(b.param, (sympy.expand(b.rows[0] + start), sympy.expand(b.rows[0] + stop)), b.cols))
                for c, b in self.blocks(node.args[0])
            ]
        if node.op == "scale":
            k = _coef(node.attrs[0])
            return [(k * c, b) for c, b in self.blocks(node.args[0])]
        if node.op in ("add", "sub"):
            sign = Fraction(1 if node.op == "add" else -1)
            return self.blocks(node.args[0]) + [(sign * c, b) for c, b in self.blocks(node.args[1])]
        raise OutsideFamily(f"parameter expression {node!r}")

    def atom(self, node: Node) -> tuple:
        if node not in self._atom_of:
            terms = self.terms(node.args[0])  # inner atoms first: keys are in topological order
            key = ("g", len(self.atoms))
            self.atoms.append(_Atom(key, node.attrs[0], terms, self._labels.get(node, node.attrs[0])))
            self._atom_of[node] = key
        return self._atom_of[node]

    def atom_name(self, key) -> str:
        return self.atoms[key[1]].name


def _scaled(terms, k: Fraction) -> list[Term]:
    return [Term(t.coef * k, t.outer, t.block, t.kind, t.inner) for t in terms]


def _product(left: list[Term], right: list[Term]) -> list[Term]:
    out = []
    for a, b in itertools.product(left, right):
        if a.block is not None and b.block is not None:
            raise OutsideFamily("element-wise product of two parameter terms")
        if b.block is not None:
            a, b = b, a
        c = a.coef * b.coef
        if a.block is None:
            out.append(Term(c, _mono_mul(a.outer, b.outer)))
        elif a.kind == "diag":  # S ⊙ n ⊙ m = S ⊙ (n m)
            out.append(Term(c, (), a.block, "diag", _mono_mul(a.inner, b.outer)))
        else:
            out.append(Term(c, _mono_mul(a.outer, b.outer), a.block, "mat", a.inner))
    return out

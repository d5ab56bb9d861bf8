"""Pascanu et al.'s bound on one step of BPTT, per block of ∂s_t/∂s_{t-1}, and the carry paths.

For a path c · diag(v_1) W_1 diag(v_2) W_2 ⋯ the operator 2-norm obeys
‖·‖ ≤ |c| · Π sup|v_i| · Π ‖W_j‖, and a block's norm is at most the sum over its
paths.  ``sup|v|`` comes from interval arithmetic over the forward equations: σ
lies in [0, 1], tanh in [-1, 1], σ' = σ(1 - σ) ≤ 1/4, tanh' = 1 - tanh² ≤ 1.  For
the Elman RNN this is the bound of R. Pascanu, T. Mikolov, Y. Bengio, "On the
difficulty of training recurrent neural networks", ICML 2013, Sec. 2.1:
‖∂h_t/∂h_{t-1}‖ ≤ ‖W_hh‖ · max|φ'| (max|tanh'| = 1, max|σ'| = 1/4), so
‖W_hh‖ < 1/max|φ'| makes gradients vanish geometrically and ‖W_hh‖ > 1/max|φ'| is
necessary for them to explode.  A block whose path carries an unbounded value
(the LSTM's c_{t-1}) has no such bound.

A *carry* is a path without a weight matrix (diag(f_t) in the LSTM's c → c
block, diag(1 - z_t) in the GRU): its norm is the largest gate value, below 1 but
not bounded away from it, and no activation derivative shrinks it.  That is the
term that lets LSTM and GRU gradients survive many steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy

from symrnn.functions import function_spec
from symrnn.gradient_flow.differentials import Path, multiplicands
from symrnn.ir import Node

if TYPE_CHECKING:
    from symrnn.gradient_flow.jacobian import Flow

oo = sympy.oo
UNBOUNDED = (-oo, oo)
Interval = tuple[sympy.Expr, sympy.Expr]


def _product(a: Interval, b: Interval) -> Interval:
    if a == (0, 0) or b == (0, 0):
        return (sympy.Integer(0), sympy.Integer(0))
    ends = [x * y for x in a for y in b]
    ends = [sympy.Integer(0) if e is sympy.nan else e for e in ends]  # 0 · ∞ at a closed end is 0
    return (sympy.Min(*ends), sympy.Max(*ends))


def _parabola(lo, hi) -> Interval:
    """The range of u(1 - u) for u in [lo, hi]: the σ' = σ(1 - σ) pattern, 1/4 at u = 1/2."""
    ends = [lo * (1 - lo), hi * (1 - hi)]
    top = sympy.Rational(1, 4) if lo <= sympy.Rational(1, 2) <= hi else sympy.Max(*ends)
    return (sympy.Min(*ends), top)


def interval(node: Node, ranges: dict[tuple[str, int | None], Interval]) -> Interval:
    """An interval holding every entry of ``node``; ``ranges`` holds the named values' intervals."""
    op = node.op
    if op == "var":
        return ranges.get((node.name, node.shift), UNBOUNDED)
    if op == "zeros":
        return (sympy.Integer(0), sympy.Integer(0))
    if op == "mul":
        return _hadamard_interval(multiplicands(node), ranges)
    if op == "add" and (pair := _convex_pair(node)) is not None:
        z, a, b = pair
        zlo, zhi = interval(z, ranges)
        if 0 <= zlo and zhi <= 1:  # (1 - z) ⊙ a + z ⊙ b lies between a and b
            return _hull(interval(a, ranges), interval(b, ranges))
    if op in ("add", "sub"):
        (alo, ahi), (blo, bhi) = (interval(x, ranges) for x in node.args)
        return (alo + blo, ahi + bhi) if op == "add" else (alo - bhi, ahi - blo)
    if op == "one_minus":
        lo, hi = interval(node.args[0], ranges)
        return (1 - hi, 1 - lo)
    if op == "scale":
        c, (lo, hi) = node.attrs[0], interval(node.args[0], ranges)
        return (c * lo, c * hi) if c >= 0 else (c * hi, c * lo)
    if op == "apply" and function_spec(node.attrs[0]).value_range is not None:
        return function_spec(node.attrs[0]).value_range(*interval(node.args[0], ranges))
    if op in ("broadcast", "rows"):
        return interval(node.args[0], ranges)
    if op == "concat":
        parts = [interval(p, ranges) for p in node.args]
        return (sympy.Min(*[p[0] for p in parts]), sympy.Max(*[p[1] for p in parts]))
    if op == "softmax":
        return (sympy.Integer(0), sympy.Integer(1))
    return UNBOUNDED


def _square(lo, hi) -> Interval:
    """The range of u ⊙ u for u in [lo, hi]."""
    top = sympy.Max(lo * lo, hi * hi)
    return (sympy.Integer(0) if lo <= 0 <= hi else sympy.Min(lo * lo, hi * hi), top)


def _hadamard_interval(factors: list[Node], ranges) -> Interval:
    """u ⊙ (1 - u) and u ⊙ u are bounded as wholes (σ' ≤ 1/4, u² ≥ 0), the other factors one by one."""
    rest, out = list(factors), (sympy.Integer(1), sympy.Integer(1))
    while rest:
        u = rest.pop(0)
        partner = next((f for f in rest if f == u or (f.op == "one_minus" and f.args[0] == u)), None)
        if partner is None and u.op == "one_minus":
            partner = next((f for f in rest if f == u.args[0]), None)
            u = u.args[0] if partner is not None else u
        if partner is None:
            out = _product(out, interval(u, ranges))
            continue
        rest.remove(partner)
        lo, hi = interval(u, ranges)
        out = _product(out, _square(lo, hi) if partner == u else _parabola(lo, hi))
    return out


def _convex_pair(node: Node) -> tuple[Node, Node, Node] | None:
    """(z, a, b) when node is (1 - z) ⊙ a + z ⊙ b, in any order of terms and factors."""
    left, right = node.args
    if left.op != "mul" or right.op != "mul":
        return None
    for one, other in ((left, right), (right, left)):
        for gate, value in (one.args, one.args[::-1]):
            if gate.op != "one_minus":
                continue
            for z, kept in (other.args, other.args[::-1]):
                if z == gate.args[0]:
                    return z, value, kept
    return None


def value_ranges(flow: Flow, widenings: int = 8) -> dict[tuple[str, int], Interval]:
    """Intervals of every named value at t and of each state at t-1, for a zero initial state.

    The states' ranges are widened step by step from s_0 = 0 until they hold still (an
    invariant: tanh(·) ⊂ [-1, 1]; a GRU's convex combination stays in [-1, 1]) or, after
    ``widenings`` steps, are declared unbounded (the LSTM's c_t = f ⊙ c_{t-1} + i ⊙ g).
    """

    def sweep(previous: dict) -> dict:
        ranges = dict(previous)
        for eq in flow.equations:
            ranges[(eq.lhs.name, 0)] = interval(eq.rhs, ranges)
        return ranges

    zero = (sympy.Integer(0), sympy.Integer(0))
    previous = {(s, -1): zero for s in flow.states}
    for _ in range(widenings):
        now = sweep(previous)
        widened = {(s, -1): _hull(previous[(s, -1)], now[(s, 0)]) for s in flow.states}
        if widened == previous:
            return now
        previous = widened
    return sweep(
        {(s, -1): UNBOUNDED if previous[(s, -1)] != sweep(previous)[(s, 0)] else previous[(s, -1)] for s in flow.states}
    )


def _hull(a: Interval, b: Interval) -> Interval:
    return (sympy.Min(a[0], b[0]), sympy.Max(a[1], b[1]))


def unbounded_factors(v: Node, ranges) -> list[Node]:
    """The factors that make v unbounded: c_{t-1} in c_{t-1} ⊙ f_t ⊙ (1 - f_t), terms of sums one by one."""
    if v.op in ("add", "sub"):
        return [u for a in v.args for u in unbounded_factors(a, ranges)]
    out = []
    for factor in multiplicands(v):
        if oo in [abs(x) for x in interval(factor, ranges)]:
            out += unbounded_factors(factor, ranges) if factor.op in ("add", "sub") else [factor]
    return out


@dataclass(frozen=True)
class PathBound:
    """‖path‖ ≤ gamma · Π ‖W‖ over ``weights``; gamma is ∞ when a factor is unbounded."""

    gamma: sympy.Expr
    weights: tuple[Node, ...]
    unbounded: tuple[Node, ...] = ()  # the unbounded factors on the path, such as c_{t-1}


def path_bound(path: Path, ranges) -> PathBound:
    gamma, unbounded = abs(path.coefficient), []
    for f in path.factors:
        if f.op == "diag":
            lo, hi = interval(f.args[0], ranges)
            sup = sympy.Max(abs(lo), abs(hi))
            if sup == oo:
                unbounded += unbounded_factors(f.args[0], ranges)
            gamma = gamma * sup
        elif f.batched:  # a per-example matrix such as p pᵀ: no bound from its entries
            gamma = oo
    return PathBound(sympy.simplify(gamma), path.weights, tuple(dict.fromkeys(unbounded)))


PASCANU_TEXT = (
    "Every path goes through a weight matrix and an activation derivative, so the bound is ‖W‖ · max|φ'| per "
    "path (max|tanh'| = 1, max|σ'| = 1/4; Pascanu et al. 2013, Sec. 2.1): if it is below 1 the gradient "
    "vanishes geometrically; above 1 is necessary for it to explode."
)
PASCANU_LATEX = (
    r"Every path goes through a weight matrix and an activation derivative, so the bound is "
    r"$\|W\| \cdot \max|\phi'|$ per path ($\max|\tanh'| = 1$, $\max|\sigma'| = 1/4$; Pascanu et al. 2013, "
    r"Sec.~2.1): if it is below 1 the gradient vanishes geometrically; above 1 is necessary for it to explode."
)


@dataclass
class Bound:
    """Per block (a, b): the bounds of its paths; and the carry paths of the diagonal blocks."""

    flow: Flow
    blocks: dict[tuple[str, str], tuple[PathBound, ...]]
    carries: list[tuple[str, Path, PathBound]]

    def finite(self, row: str, column: str) -> bool:
        return all(b.gamma != oo for b in self.blocks[(row, column)])

    @property
    def applies(self) -> bool:
        """True when every block has a finite bound of Pascanu's form."""
        return all(self.finite(a, b) for a, b in self.blocks)

    def value(self, params: dict, sizes: dict) -> float:
        """The bound on ‖∂s_t/∂s_{t-1}‖₂ for these parameters: √Σ (block bound)², ∞ where none applies.

        Args:
            params: parameter arrays as the generated code takes them.
            sizes: {ir.HIDDEN: …, ir.INPUT: …, ir.OUTPUT: …}.
        """
        from symrnn.gradient_flow.evaluate import flow_evaluator

        ev = flow_evaluator(params, {}, sizes)
        total = 0.0
        for paths in self.blocks.values():
            block = 0.0
            for b in paths:
                if b.gamma == oo:
                    block = np.inf
                    break
                block += float(b.gamma) * float(np.prod([np.linalg.norm(ev.value(w), 2) for w in b.weights]))
            total += block * block
        return float(np.sqrt(total))

    def expression(self, row: str, column: str, latex: bool) -> str:
        """Σ_paths gamma · Π ‖W‖ as text: ``‖W_hh‖``, ``1/4 ‖W_h‖``; ∞ if unbounded."""
        from symrnn.gradient_flow.printing import norm

        if not self.finite(row, column):
            return r"\infty" if latex else "∞"
        grouped: dict[tuple[Node, ...], sympy.Expr] = {}
        for b in self.blocks[(row, column)]:
            grouped[b.weights] = grouped.get(b.weights, sympy.Integer(0)) + b.gamma
        terms = []
        for weights, gamma in grouped.items():
            product = (r"\," if latex else " ").join(norm(w, latex) for w in weights)
            c = (sympy.latex(gamma) if latex else str(gamma)) if gamma != 1 or not weights else ""
            terms.append(f"{c} {product}".strip())
        return " + ".join(terms) or "0"

    def __repr__(self):  # the dataclass repr printed IR nodes the text printer has no rule for (diag)
        return f"<Bound of {self.flow.cell.name}: " + "; ".join(self.lines()) + ">"

    def __str__(self):
        return "\n".join(self.lines())

    def _repr_markdown_(self):
        return "\n".join(f"- {line}" for line in self.lines(latex=True)) + "\n"

    def lines(self, latex: bool = False) -> list[str]:
        """The bound and the carry terms as sentences (inline math in ``$…$`` for LaTeX)."""
        from symrnn.gradient_flow.printing import partial, sum_of_paths

        def m(s: str) -> str:
            return f"${s}$" if latex else s

        flow, out = self.flow, []
        for a in flow.states:
            for b in flow.states:
                if not flow.block(a, b):
                    continue
                lhs = r"\left\|" + partial(a, b, True) + r"\right\|" if latex else f"‖{partial(a, b, False)}‖"
                if self.finite(a, b):
                    le = r" \le " if latex else " ≤ "
                    out.append(m(lhs + le + self.expression(a, b, latex)))
                else:
                    which = _factor_list([pb for pb in self.blocks[(a, b)]], latex) or "per-example matrix"
                    lhs = m(lhs)
                    out.append(f"{lhs}: no bound of Pascanu's form, the paths carry the unbounded {which}")
        if self.applies and not self.carries:
            out.append(PASCANU_LATEX if latex else PASCANU_TEXT)
        for s, path, pb in self.carries:
            term = m(sum_of_paths([(path, "")], latex))
            block = m(partial(s, s, latex))
            if not path.factors:
                out.append(
                    f"The term {term} of {block} is the identity: the state is copied unchanged (the constant "
                    "error carousel), so this part of the gradient neither vanishes nor explodes."
                )
            else:
                if pb.gamma == oo:
                    size = "its size depends on the gates and on the unbounded " + _factor_list([pb], latex)
                else:
                    size = "its norm is the largest entry of the diagonal, at most " + m(
                        sympy.latex(pb.gamma) if latex else str(pb.gamma)
                    )
                    size += " and close to it when the gate is biased open"
                out.append(
                    f"The term {term} of {block} has no weight matrix: the state is copied through gates alone "
                    f"({size}), so the product over steps need not vanish. This is the path that keeps the gradient."
                )
        return out


def _factor_list(bounds: list[PathBound], latex: bool) -> str:
    """``c_{t-1}, W_hn h_{t-1}``: the unbounded factors of some paths, each once, as inline math."""
    from symrnn.printing.latex import latex as to_latex
    from symrnn.printing.text import text as to_text

    factors = dict.fromkeys(u for pb in bounds for u in pb.unbounded)
    return ", ".join(f"${to_latex(u)}$" if latex else to_text(u) for u in factors)


def bound(flow: Flow) -> Bound:
    """Pascanu et al.'s bound for every block of ``flow`` and its carry paths."""
    ranges = value_ranges(flow)
    blocks = {key: tuple(path_bound(p, ranges) for p in paths) for key, paths in flow.blocks.items()}
    carries = [(s, p, path_bound(p, ranges)) for s, p in flow.carries()]
    return Bound(flow=flow, blocks=blocks, carries=carries)

"""The matrix-path algebra of one-step Jacobians: differentials by forward-mode rules, paths, products.

Forward mode in differentials: each forward equation v_t = e gives dv_t as a sum
of *terms* c · F_1 F_2 ⋯ F_k · du, one per path from a leaf u of e to its root,
where u is a state at t-1 or a value named earlier in step t, c a rational and
each F_i a matrix: a shared one (W_hh), diag(v) for an element-wise factor, or a
block [0; I; 0] that places a vector inside a concatenation.  One rule per IR op
(:data:`DIFFERENTIAL`) builds these terms, as ``symrnn.rules`` has one VJP per
op.  Substituting the named values' own Jacobians, in equation order, gives
every block ∂a_t/∂b_{t-1} as a sum of paths through the cell: for the tanh RNN
diag(1 - h_t ⊙ h_t) W_hh, for the LSTM's c → c block diag(f_t).

Layout: numerator layout (row i of ∂a/∂b is ∂a_i), so BPTT reads
δs_{t-1} = (∂s_t/∂s_{t-1})ᵀ δs_t.  The matrix nodes ``diag``, ``embed`` and
``select`` live here, not in ``ir.OPS``: they exist only inside Jacobians, which
only this package prints and evaluates (:data:`MATRIX_RULES`, their rules on the one
evaluator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from symrnn import ir
from symrnn.ir import Node, derivative
from symrnn.simplify import simplify


class FlowError(ValueError):
    """An expression whose Jacobian this package cannot write in matrix form."""


# ---------------------------------------------------------------- matrix nodes


def diag(v: Node) -> Node:
    """diag(v): the n×n matrix with the column vector v on its diagonal."""
    return Node("diag", (v,), (), (v.shape[0], v.shape[0]), v.batched)


def embed(offset, rows, total) -> Node:
    """The block column [0; I; 0] (total × rows) that puts a vector at ``offset`` of a concatenation."""
    return Node("embed", (), (ir.size(offset), ir.size(total)), (ir.size(total), ir.size(rows)), False)


def select(offset, rows, total) -> Node:
    """The block row [0 I 0] (rows × total) that takes rows offset … offset+rows-1 of a vector."""
    return Node("select", (), (ir.size(offset), ir.size(total)), (ir.size(rows), ir.size(total)), False)


MATRIX_OPS = ("diag", "embed", "select")


def _block_value(ev, node: Node):
    """The value of ``embed`` (a block column [0; I; 0]) or ``select`` (its transpose) at concrete sizes."""
    offset, total = (ev.size(s) for s in node.attrs)
    width = ev.size(node.shape[1] if node.op == "embed" else node.shape[0])
    block = ev.arith.zeros((total, width))
    for i in range(width):
        block[offset + i, i] = ev.arith.number(1)
    return block if node.op == "embed" else block.T


# Their rules on the one evaluator (``symrnn.evaluate``): pass ``{**RULES, **MATRIX_RULES}``.
MATRIX_RULES: dict[str, Callable] = {
    "diag": lambda ev, node, v: v * ev.arith.array(np.eye(v.shape[-2])),  # (…, n, 1) → (…, n, n)
    "embed": _block_value,
    "select": _block_value,
}


@dataclass(frozen=True)
class Path:
    """c · F_1 F_2 ⋯ F_k, a scalar times a product of matrices read left to right; no factors is I."""

    coefficient: sympy.Expr
    factors: tuple[Node, ...] = ()

    @property
    def weights(self) -> tuple[Node, ...]:
        """The shared matrices (weights) on the path: what Pascanu's bound takes norms of."""
        return tuple(f for f in self.factors if f.op not in MATRIX_OPS and not f.batched)

    @property
    def is_carry(self) -> bool:
        """True when the path passes through no parameter at all: an additive, gated copy of the state."""
        return all(
            f.op == "diag" and not any(leaf.kind == ir.PARAM for leaf in ir.leaves(f.args[0])) for f in self.factors
        )


@dataclass(frozen=True)
class Term:
    """path · d(base): one path of a differential, ending at the leaf ``base``."""

    path: Path
    base: Node


IDENTITY = Path(sympy.Integer(1))
Form = tuple[Term, ...]  # a differential: the sum of its terms


def _times(factor: Node, form: Form) -> Form:
    """F · form: the factor prepended to every path."""
    return tuple(Term(Path(t.path.coefficient, (factor, *t.path.factors)), t.base) for t in form)


def _scaled(c, form: Form) -> Form:
    return tuple(Term(Path(t.path.coefficient * c, t.path.factors), t.base) for t in form)


def _needs_constant(node: Node, forms: tuple[Form, ...], what: str) -> None:
    if any(forms):
        raise FlowError(f"{what} that depends on the state has no matrix-form Jacobian here: {node!r}")


# ---------------------------------------------------------------- one rule per op

# A rule receives the node, a name for its value (``out``, as in ``symrnn.rules``) and
# the differentials of its operands, and returns the node's differential.
Rule = Callable[[Node, Node, tuple[Form, ...]], Form]


def _mul(node, out, forms):
    (a, b), (da, db) = node.args, forms
    if a.shape != b.shape:
        _needs_constant(node, forms, "an element-wise product of a scalar and a vector")
        return ()
    return _times(diag(b), da) + _times(diag(a), db)


def _div(node, out, forms):
    (a, b), (da, db) = node.args, forms
    if a.shape != b.shape:
        _needs_constant(node, forms, "an element-wise quotient of a scalar and a vector")
        return ()
    recip = ir.apply("reciprocal", b)
    return _times(diag(recip), da) + _scaled(-1, _times(diag(out * recip), db))


def _apply(node, out, forms):
    d = derivative(node.attrs[0], node.args[0], out)
    if d is None:
        return forms[0]
    if d.op == "zeros":
        return ()
    return _times(diag(d), forms[0])


def _matmul(node, out, forms):
    a, _ = node.args
    _needs_constant(node, forms[:1], "a matrix")
    return _times(a, forms[1])


def _concat(node, out, forms):
    total, offset, result = node.shape[0], sympy.Integer(0), ()
    for part, form in zip(node.args, forms, strict=True):
        if form:
            result += _times(embed(offset, part.shape[0], total), form)
        offset = offset + part.shape[0]
    return result


def _rows(node, out, forms):
    start, _ = node.attrs
    return _times(select(start, node.shape[0], node.args[0].shape[0]), forms[0])


def _softmax(node, out, forms):
    # J_softmax = diag(p) - p pᵀ with p = softmax(a)
    return _times(diag(out), forms[0]) + _scaled(-1, _times(ir.matmul(out, ir.transpose(out)), forms[0]))


def _constant_only(what: str) -> Rule:
    def rule(node, out, forms):
        _needs_constant(node, forms, what)
        return ()

    return rule


DIFFERENTIAL: dict[str, Rule] = {
    "var": lambda node, out, forms: (),  # tracked leaves are bases, handled by the walk
    "zeros": lambda node, out, forms: (),
    "matmul": _matmul,
    "add": lambda node, out, forms: forms[0] + forms[1],
    "sub": lambda node, out, forms: forms[0] + _scaled(-1, forms[1]),
    "mul": _mul,
    "div": _div,
    "scale": lambda node, out, forms: _scaled(node.attrs[0], forms[0]),
    "one_minus": lambda node, out, forms: _scaled(-1, forms[0]),
    "apply": _apply,
    "concat": _concat,
    "rows": _rows,
    "transpose": _constant_only("a transposed vector"),
    "broadcast": _constant_only("a broadcast value"),
    "batch_sum": _constant_only("a batch sum"),
    "softmax": _softmax,
}


def is_tracked(leaf: Node) -> bool:
    """A leaf whose differential is carried: a state at t-1 or a value named at step t."""
    return leaf.op == "var" and (
        (leaf.kind == ir.STATE and leaf.shift == -1) or (leaf.kind in (ir.STATE, ir.VALUE) and leaf.shift == 0)
    )


def differential(expr: Node, out: Node | None = None) -> Form:
    """d(expr) as a sum of paths to tracked leaves (params and inputs are constants).

    Args:
        expr: an equation's right-hand side.
        out: a name for its value (the left-hand side), used where φ' is written in φ's value.

    Returns:
        The terms, with like terms collected, in first-visit order.
    """
    forms: dict[Node, Form] = {}
    for node in ir.postorder(expr):
        if node.op == "var":
            forms[node] = (Term(IDENTITY, node),) if is_tracked(node) else ()
            continue
        operand_forms = tuple(forms[a] for a in node.args)
        if not any(operand_forms):
            forms[node] = ()
            continue
        name = out if (node is expr and out is not None) else node
        forms[node] = DIFFERENTIAL[node.op](node, name, operand_forms)
    normalised = ((normal(t.path), t.base) for t in forms[expr])
    return collect(tuple(Term(path, base) for path, base in normalised if path is not None))


# ---------------------------------------------------------------- algebra of paths


def normal(path: Path) -> Path | None:
    """Adjacent diagonals merged, diag(a) diag(b) = diag(a ⊙ b); [0 I 0][0; I; 0] = I or 0 (None)."""
    out: list[Node] = []
    for f in path.factors:
        prev = out[-1] if out else None
        if prev is not None and prev.op == "diag" and f.op == "diag":
            out[-1] = diag(hadamard(prev.args[0], f.args[0]))
        elif prev is not None and prev.op == "select" and f.op == "embed" and prev.attrs[1] == f.attrs[1]:
            (s, _), (e, _) = prev.attrs, f.attrs
            if s == e and prev.shape[0] == f.shape[1]:
                out.pop()  # [0 I 0][0; I; 0] = I: a split of the same block
            elif sympy.expand(s + prev.shape[0] - e).is_nonpositive or sympy.expand(e + f.shape[1] - s).is_nonpositive:
                return None  # disjoint blocks: the product is 0
            else:  # overlapping or undecidable blocks stay a product
                out.append(f)
        else:
            out.append(f)
    return Path(path.coefficient, tuple(out))


def multiplicands(v: Node) -> list[Node]:
    """The factors of a ⊙ b ⊙ ⋯, however the product is bracketed."""
    return (
        multiplicands(v.args[0]) + multiplicands(v.args[1])
        if v.op == "mul" and v.args[0].shape == v.args[1].shape
        else [v]
    )


def hadamard(a: Node, b: Node) -> Node:
    """a ⊙ b as one flat left-to-right product, so it prints o ⊙ tanh'(c) ⊙ f, not o ⊙ (tanh'(c) ⊙ f)."""
    out = a
    for factor in multiplicands(b):
        out = out * factor
    return out


def _signed_sum(parts: list[tuple[sympy.Expr, Node]]) -> Node:
    """Σ c_i v_i with the positive terms first: h̃ − h_{t-1}, not −h_{t-1} + h̃."""
    ordered = [p for p in parts if p[0] > 0] + [p for p in parts if not p[0] > 0]
    acc = None
    for c, v in ordered:
        if acc is None:
            acc = ir.scale(c, v)
        elif c > 0:
            acc = acc + ir.scale(c, v)
        else:
            acc = acc - ir.scale(-c, v)
    return acc


def collect(terms: tuple[Term, ...], merge_diagonals: bool = True) -> tuple[Term, ...]:
    """Like terms merged: c T du + c' T du = (c + c') T du, and diag(a) T du + diag(b) T du = diag(a + b) T du.

    The second merge writes a differential compactly (dh = diag(h̃ - h_{t-1}) dz + …); a block of the
    state Jacobian keeps one term per path through the cell instead (``merge_diagonals=False``).
    """
    groups: dict[tuple, list[Term]] = {}
    for t in terms:
        f = t.path.factors
        lead = merge_diagonals and bool(f) and f[0].op == "diag"
        groups.setdefault((t.base, f[1:] if lead else f, lead), []).append(t)
    out: list[Term] = []
    for (base, tail, lead), group in groups.items():
        if len(group) == 1:
            out.append(group[0])
        elif lead:
            v = simplify(_signed_sum([(t.path.coefficient, t.path.factors[0].args[0]) for t in group]))
            if v.op != "zeros":
                out.append(Term(Path(sympy.Integer(1), (diag(v), *tail)), base))
        else:
            c = sum((t.path.coefficient for t in group), sympy.Integer(0))
            if c != 0:
                out.append(Term(Path(c, tail), base))
    return tuple(out)


def compose(outer: Path, inner: Path) -> Path | None:
    """outer · inner, normalised (None when the product is zero)."""
    return normal(Path(outer.coefficient * inner.coefficient, outer.factors + inner.factors))

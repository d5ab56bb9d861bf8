"""Simplification of IR expressions, with SymPy doing the algebra.

Element-wise expressions over vectors of one shape (+, −, ⊙, ⊘, scalar
multiples, 1 − x) form a commutative ring, so each maximal element-wise subtree
is handed to SymPy as a polynomial in commuting symbols (one per non-element-wise
leaf such as ``W^T δ`` or ``h_{t-1}``), tidied by ``factor_terms`` (common
factors pulled out: δh ⊙ h̃ − δh ⊙ h_{t-1} → δh ⊙ (h̃ − h_{t-1})) and turned
back into IR.  Structural rules (x + 0, 0 ⊙ x, (xᵀ)ᵀ) run first.
"""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.ir import Node

ELEMENTWISE = {"add", "sub", "mul", "div", "scale", "one_minus"}


def simplify(node: Node) -> Node:
    """An equal, tidier expression."""
    memo: dict[Node, Node] = {}
    return _simplify(node, memo)


def _simplify(node: Node, memo: dict[Node, Node]) -> Node:
    if node in memo:
        return memo[node]
    if node.op in ELEMENTWISE:
        out = _ring(node, memo)
    else:
        args = tuple(_simplify(a, memo) for a in node.args)
        out = _structural(node, args)
    memo[node] = out
    return out


def _is_zero(n: Node) -> bool:
    return n.op == "zeros"


def _structural(node: Node, args: tuple[Node, ...]) -> Node:
    op = node.op
    if op == "matmul" and any(_is_zero(a) for a in args):
        return ir.zeros(node.shape, node.batched)
    if op in ("transpose", "broadcast", "batch_sum", "rows") and _is_zero(args[0]):
        return ir.zeros(node.shape, node.batched)
    if op == "rows" and args[0].op == "concat":
        # [a; b] split at a block boundary is the block itself
        offset = sympy.Integer(0)
        start, stop = node.attrs
        for part in args[0].args:
            if sympy.expand(offset - start) == 0 and sympy.expand(offset + part.shape[0] - stop) == 0:
                return part
            offset = offset + part.shape[0]
    return ir.rebuild(node, args)


# ---------------------------------------------------------------- ring <-> SymPy


class _Leaves:
    """Commuting SymPy symbols for the non-element-wise leaves, named so δ terms sort first."""

    def __init__(self):
        self.by_node: dict[Node, sympy.Symbol] = {}
        self.by_symbol: dict[sympy.Symbol, Node] = {}

    def symbol(self, node: Node) -> sympy.Symbol:
        if node not in self.by_node:
            from symrnn.printing.text import text

            rank = "a" if (node.op == "var" and node.kind == ir.GRAD) else "b"
            sym = sympy.Symbol(f"{rank}{len(text(node)):04d}{text(node)}#{len(self.by_node)}")
            self.by_node[node] = sym
            self.by_symbol[sym] = node
        return self.by_node[node]


def _to_sympy(node: Node, leaves: _Leaves, memo) -> sympy.Expr:
    op = node.op
    if op == "zeros":
        return sympy.Integer(0)
    if op not in ELEMENTWISE:
        return leaves.symbol(_simplify(node, memo))
    a = [_to_sympy(x, leaves, memo) for x in node.args]
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "div":
        return a[0] / a[1]
    if op == "scale":
        return node.attrs[0] * a[0]
    return 1 - a[0]  # one_minus


class _NotRepresentable(Exception):
    pass


def _from_sympy(expr: sympy.Expr, leaves: _Leaves, shape, batched) -> Node:
    if expr.is_Symbol:
        return leaves.by_symbol[expr]
    if expr == 0:
        return ir.zeros(shape, batched)
    if expr.is_Add:
        terms = expr.as_ordered_terms()
        constant = [t for t in terms if t.is_Number]
        rest = [t for t in terms if not t.is_Number]
        positive = [t for t in rest if not t.could_extract_minus_sign()]
        negative = [-t for t in rest if t.could_extract_minus_sign()]
        if constant:
            if constant != [1] or not negative:
                raise _NotRepresentable(expr)
            acc = _from_sympy(negative[0], leaves, shape, batched)
            for t in negative[1:]:
                acc = acc + _from_sympy(t, leaves, shape, batched)
            acc = ir.one_minus(acc)
            for t in reversed(positive):
                acc = _from_sympy(t, leaves, shape, batched) + acc
            return acc
        if not positive:
            return -_from_sympy(sympy.Add(*negative), leaves, shape, batched)
        acc = _from_sympy(positive[0], leaves, shape, batched)
        for t in positive[1:]:
            acc = acc + _from_sympy(t, leaves, shape, batched)
        for t in negative:
            acc = acc - _from_sympy(t, leaves, shape, batched)
        return acc
    if expr.is_Mul:
        coefficient, factors = expr.as_coeff_mul()
        numerator, denominator = [], []
        for f in sorted(factors, key=sympy.default_sort_key):
            base, exponent = f.as_base_exp()
            if not exponent.is_Integer:
                raise _NotRepresentable(expr)
            (numerator if exponent > 0 else denominator).extend([base] * abs(int(exponent)))
        if not numerator:
            raise _NotRepresentable(expr)
        acc = _from_sympy(numerator[0], leaves, shape, batched)
        for f in numerator[1:]:
            acc = acc * _from_sympy(f, leaves, shape, batched)
        for f in denominator:
            acc = acc / _from_sympy(f, leaves, shape, batched)
        return ir.scale(coefficient, acc) if coefficient != 1 else acc
    if expr.is_Pow:
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and exponent > 0:
            b = _from_sympy(base, leaves, shape, batched)
            acc = b
            for _ in range(int(exponent) - 1):
                acc = acc * b
            return acc
    raise _NotRepresentable(expr)


def _ring(node: Node, memo) -> Node:
    leaves = _Leaves()
    expr = _to_sympy(node, leaves, memo)
    tidy = sympy.factor_terms(expr)
    try:
        out = _from_sympy(tidy, leaves, node.shape, node.batched)
    except _NotRepresentable:
        try:
            out = _from_sympy(expr, leaves, node.shape, node.batched)
        except _NotRepresentable:
            out = None
    if out is None or out.shape != node.shape:  # a scalar factor can stand alone after factoring
        return ir.rebuild(node, tuple(_simplify(a, memo) for a in node.args))
    return out

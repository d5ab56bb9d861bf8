"""The evaluator: a rule per IR op (:data:`RULES`) and a memoised post-order walk (:class:`Evaluator`)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import numpy as np
import sympy

from symrnn import ir
from symrnn.evaluate.arithmetic import EXACT, Arithmetic, Unsupported
from symrnn.ir import Node


def _concat(ev: Evaluator, node: Node, *parts):
    return np.concatenate(parts, axis=-2)  # ir.concat broadcasts shared blocks of a batched stack


def _rows(ev: Evaluator, node: Node, a):
    start, stop = (ev.size(s) for s in node.attrs)
    return a[..., start:stop, :]


def _scale(ev: Evaluator, node: Node, a):
    c = node.attrs[0]
    if isinstance(c, sympy.Basic) and c.free_symbols:  # a constant written with the sizes, e.g. 1/hidden_size
        c = c.xreplace({s: ev.size(s) for s in c.free_symbols})
    return ev.arith.number(c) * a


# One rule per IR op: rule(evaluator, node, *values of node.args) -> the node's value.
RULES: dict[str, Callable] = {
    "var": lambda ev, node: ev.leaf_value(node),
    "zeros": lambda ev, node: ev.arith.zeros(ev.shape(node)),
    "matmul": lambda ev, node, a, b: np.matmul(a, b),
    "add": lambda ev, node, a, b: a + b,
    "sub": lambda ev, node, a, b: a - b,
    "mul": lambda ev, node, a, b: a * b,
    "div": lambda ev, node, a, b: a / b,
    "scale": _scale,
    "one_minus": lambda ev, node, a: 1 - a,
    "apply": lambda ev, node, a: ev.arith.function(node.attrs[0])(a),
    "concat": _concat,
    "rows": _rows,
    "transpose": lambda ev, node, a: np.swapaxes(a, -1, -2),
    "broadcast": lambda ev, node, a: np.broadcast_to(a, (ev.batch, *a.shape)),
    "batch_sum": lambda ev, node, a: a.sum(axis=0),
    "softmax": lambda ev, node, a: ev.arith.softmax(a),
}


def size_table(sizes: Mapping) -> dict[str, int]:
    """Concrete sizes by symbol name, from keys that are size symbols or their names."""
    table = {}
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"the size {key} must be an int, got {value!r}")
        table[str(key)] = int(value)
    return table


def concrete_size(expr, sizes: Mapping) -> int:
    """A size (an int, or an expression such as ``hidden_size + input_size``) at concrete sizes.

    Args:
        expr: the size.
        sizes: ints keyed by size symbol or its name.

    Raises:
        Unsupported: a symbol of ``expr`` has no size in ``sizes``.
    """
    if isinstance(expr, numbers.Integral):
        return int(expr)
    table = sizes if all(isinstance(k, str) for k in sizes) else size_table(sizes)
    missing = sorted(s.name for s in expr.free_symbols if s.name not in table)
    if missing:
        raise Unsupported(f"no size given for {', '.join(missing)} (sizes: {', '.join(sorted(table)) or 'none'})")
    return int(expr.xreplace({s: table[s.name] for s in expr.free_symbols}))


class Evaluator:
    """Values of IR expressions: a memoised post-order walk, one rule per op.

    Args:
        arith: the number system (:data:`FLOAT64`, :data:`MPMATH`, :data:`EXACT`, …).
        sizes: concrete int sizes keyed by size symbol or its name, e.g. ``{ir.HIDDEN: 3}``
            or ``{"hidden_size": 3}``; any symbol a shape uses must be there.
        leaf: the values of ``var`` leaves: a callable ``leaf(node) -> array`` or a mapping
            from nodes to arrays, in the layout ``(batch, rows, cols)`` (batched) or
            ``(rows, cols)`` (shared), arrays of ``arith``'s numbers.
        batch: the batch size of batched values.
        rules: the rule table (default :data:`RULES`); extend it for ops of your own.

    The memo lives as long as the evaluator: bind leaves that do not change while it is used.
    """

    def __init__(self, arith: Arithmetic, sizes: Mapping, leaf, *, batch: int = 1, rules: Mapping | None = None):
        self.arith, self.batch = arith, int(batch)
        self.sizes = size_table(sizes)
        self._leaf = leaf if callable(leaf) else _mapping_leaf(leaf)
        self.rules = RULES if rules is None else rules
        self.memo: dict[Node, np.ndarray] = {}
        self._size_cache: dict = {}

    def size(self, expr) -> int:
        """A size expression (``hidden_size + input_size``) as an int."""
        if isinstance(expr, numbers.Integral):
            return int(expr)
        if expr not in self._size_cache:
            self._size_cache[expr] = concrete_size(expr, self.sizes)
        return self._size_cache[expr]

    def shape(self, node: Node) -> tuple[int, ...]:
        """The array shape of ``node``'s value: (batch, rows, cols) or, shared, (rows, cols)."""
        rows, cols = self.size(node.shape[0]), self.size(node.shape[1])
        return (self.batch, rows, cols) if node.batched else (rows, cols)

    def leaf_value(self, node: Node) -> np.ndarray:
        """The bound value of a ``var`` leaf, its shape checked against the layout."""
        value = self._leaf(node)
        expected = self.shape(node)
        if np.shape(value) != expected:
            what = "batched (batch, rows, cols)" if node.batched else "shared (rows, cols)"
            raise ValueError(
                f"the value bound to {_leaf_name(node)} has shape {np.shape(value)}; expected {expected}, {what}"
            )
        return value

    def value(self, node: Node) -> np.ndarray:
        """The value of ``node`` (operands first, each subexpression once)."""
        memo = self.memo
        stack = [node]
        while stack:
            n = stack[-1]
            if n in memo:
                stack.pop()
                continue
            pending = [a for a in n.args if a not in memo]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            rule = self.rules.get(n.op)
            if rule is None:
                raise Unsupported(f"the evaluator has no rule for the op {n.op!r}")
            memo[n] = rule(self, n, *(memo[a] for a in n.args))
        return memo[node]


def example_value(node: Node, env: Mapping, sizes: Mapping, arith: Arithmetic | None = None) -> np.ndarray:
    """The value of ``node`` for one example, leaves given in the shapes of the math.

    Args:
        node: the expression.
        env: leaf node → its value as a (rows, cols) matrix (a SymPy matrix, array or nested list),
            batched leaves included: batch 1 is added and removed here.
        sizes: concrete sizes, keyed by size symbol or name.
        arith: the number system (default :data:`EXACT`).

    Returns:
        A (rows, cols) array of ``arith``'s numbers.
    """
    arith = EXACT if arith is None else arith
    bound = {leaf: arith.array(v)[None] if leaf.batched else arith.array(v) for leaf, v in env.items()}
    value = Evaluator(arith, sizes, bound).value(node)
    return value[0] if node.batched else value


def _mapping_leaf(mapping: Mapping):
    def leaf(node: Node):
        if node not in mapping:
            raise KeyError(f"no value bound for {_leaf_name(node)}")
        return mapping[node]

    return leaf


def _leaf_name(node: Node) -> str:
    if node.op != "var":
        return repr(node)
    time = "" if node.shift is None else ("_t" if node.shift == 0 else f"_(t{node.shift:+d})")
    return f"{'δ' if node.kind == ir.GRAD else ''}{node.name}{time} ({node.kind})"

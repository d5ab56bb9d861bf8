"""Evaluate IR over SymPy matrices: exact, symbolic or 50-digit arithmetic.

This is the reference semantics of the IR, independent of the NumPy code
generator: the oracle uses it to unroll a cell into a scalar loss, and to run a
derivation's recurrences at high precision.  One example at a time (batch 1);
``broadcast`` and ``batch_sum`` are identities there.
"""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.functions import function_spec
from symrnn.ir import Node


def _size(expr, sizes) -> int:
    return int(sympy.sympify(expr).subs(sizes))


def _elementwise(a: sympy.Matrix, b: sympy.Matrix, f) -> sympy.Matrix:
    if a.shape == (1, 1) and b.shape != (1, 1):
        return b.applyfunc(lambda v: f(a[0, 0], v))
    if b.shape == (1, 1) and a.shape != (1, 1):
        return a.applyfunc(lambda v: f(v, b[0, 0]))
    return sympy.Matrix(a.rows, a.cols, [f(x, y) for x, y in zip(a, b, strict=False)])


def _softmax(a: sympy.Matrix) -> sympy.Matrix:
    e = a.applyfunc(sympy.exp)
    total = sum(e)
    return e.applyfunc(lambda v: v / total)


def evaluate(node: Node, env: dict[Node, sympy.Matrix], sizes: dict, memo: dict | None = None) -> sympy.Matrix:
    """The value of ``node`` with leaves bound by ``env`` (matrices of the math's shapes)."""
    memo = {} if memo is None else memo
    if node in memo:
        return memo[node]
    op = node.op
    if op == "var":
        if node not in env:
            raise KeyError(f"no value for {node!r}")
        return env[node]
    if op == "zeros":
        return sympy.zeros(_size(node.shape[0], sizes), _size(node.shape[1], sizes))
    a = [evaluate(x, env, sizes, memo) for x in node.args]
    if op == "matmul":
        out = a[0] * a[1]
    elif op == "add":
        out = a[0] + a[1]
    elif op == "sub":
        out = a[0] - a[1]
    elif op == "mul":
        out = _elementwise(a[0], a[1], lambda x, y: x * y)
    elif op == "div":
        out = _elementwise(a[0], a[1], lambda x, y: x / y)
    elif op == "scale":
        out = a[0] * node.attrs[0]
    elif op == "one_minus":
        out = a[0].applyfunc(lambda v: 1 - v)
    elif op == "apply":
        fn = function_spec(node.attrs[0]).sympy_fn
        out = a[0].applyfunc(fn)
    elif op == "concat":
        out = sympy.Matrix.vstack(*a)
    elif op == "rows":
        start, stop = (_size(s, sizes) for s in node.attrs)
        out = a[0][start:stop, :]
    elif op == "transpose":
        out = a[0].T
    elif op in ("broadcast", "batch_sum"):
        out = a[0]
    elif op == "softmax":
        out = _softmax(a[0])
    else:  # pragma: no cover - the completeness test guards this
        raise KeyError(op)
    memo[node] = out
    return out


def leaf_at(node: Node, step: int) -> tuple[str, str, int | None]:
    """Key of a time-indexed leaf at absolute step ``step`` (t = step)."""
    return (node.name, node.kind, None if node.shift is None else step + node.shift)


def run_forward(d, params: dict, xs: list, ys: list | None, initial: dict, sizes: dict):
    """Forward over all steps; returns (J, values) with values[(name, step)] = matrix."""
    values: dict[tuple, sympy.Matrix] = {}
    for s, m in initial.items():
        values[(s, 0)] = m
    J = sympy.Integer(0)
    for step, x in enumerate(xs, start=1):
        env = {}
        for eq in d.forward:
            if eq.lhs.name == "L" and ys is None:
                continue
            for leaf in ir.leaves(eq.rhs):
                env[leaf] = _leaf_value(leaf, step, params, values, x, ys)
            value = evaluate(eq.rhs, env, sizes)
            values[(eq.lhs.name, step)] = value
        if ys is not None:
            J += values[("L", step)][0, 0]
    return J, values


def _leaf_value(leaf: Node, step: int, params, values, x, ys):
    if leaf.kind == ir.PARAM:
        return params[leaf.name]
    if leaf.kind == ir.INPUT_KIND:
        return x
    if leaf.kind == ir.TARGET:
        return ys[step - 1]
    return values[(leaf.name, step + leaf.shift)]


def run_derivation(d, params: dict, xs: list, ys: list, initial: dict, sizes: dict):
    """Loss and gradients by the derivation's own recurrences (no NumPy involved)."""
    J, values = run_forward(d, params, xs, ys, initial, sizes)
    T = len(xs)
    grads: dict[tuple, sympy.Matrix] = {}
    totals = {name: sympy.zeros(*m.shape) for name, m in params.items()}
    carry = {s: None for s in d.cell.states}

    def env_for(expr, step):
        env = {}
        for leaf in ir.leaves(expr):
            if leaf.kind == ir.GRAD and leaf.shift is not None:
                env[leaf] = grads[(leaf.name, step + leaf.shift)]
            else:
                env[leaf] = _leaf_value(leaf, step, params, values, xs[step - 1], ys)
        return env

    for step in range(T, 0, -1):
        for eq in d.backward:
            name = eq.lhs.name
            local = d.local_grads[name]
            value = evaluate(local, env_for(local, step), sizes)
            if name in carry and carry[name] is not None:
                value = value + carry[name]
            grads[(name, step)] = value
        for eq in d.param_grads:
            if eq.rhs.op != "zeros":
                totals[eq.lhs.name] += evaluate(eq.rhs, env_for(eq.rhs, step), sizes)
        for s in d.cell.states:
            c = d.carries[s]
            carry[s] = evaluate(c, env_for(c, step), sizes) if c.op != "zeros" else sympy.zeros(*initial[s].shape)
    for s in d.cell.states:
        totals[f"{s}_0"] = carry[s]
    return J, totals

"""Reverse-mode rules: one vector-Jacobian product (VJP) per IR op.

The contract, once: a rule receives

* ``node`` — the op applied (its ``args`` are the operands),
* ``out``  — an expression naming the node's forward value (the equation's
  left-hand variable when the node is a whole right-hand side, else the node),
* ``g``    — the cotangent ∂J/∂node, an IR node of the node's shape,

and returns one IR node per operand: that operand's share of ∂J (or ``None``
where no gradient flows).  Rules build IR, never numbers, so one derivation
feeds LaTeX, code and checks alike.  A rule may return a batched cotangent for
a shared operand (``W`` in ``W @ x``); the engine sums it over the batch, the
adjoint of the implicit broadcast.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from symrnn import ir
from symrnn.ir import Node, derivative

Rule = Callable[[Node, Node, Node], tuple["Node | None", ...]]


def _dot(a: Node, b: Node) -> Node:
    """Σ_i a_i b_i as a 1×1 node, for vectors of either orientation."""
    return ir.matmul(ir.transpose(a), b) if a.is_column else ir.matmul(b, ir.transpose(a))


def _mul(node: Node, out: Node, g: Node):
    a, b = node.args
    scalar = (ir.ONE, ir.ONE)
    da = _dot(b, g) if a.shape == scalar and b.shape != scalar else g * b
    db = _dot(a, g) if b.shape == scalar and a.shape != scalar else g * a
    return da, db


def _div(node: Node, out: Node, g: Node):
    a, b = node.args
    return g / b, -((g * out) / b)


def _apply(node: Node, out: Node, g: Node):
    (x,) = node.args
    d = derivative(node.attrs[0], x, out)
    if d is None:
        return (g,)
    if d.op == "zeros":
        return (None,)
    return (g * d,)


def _concat(node: Node, out: Node, g: Node):
    grads, offset = [], sympy.Integer(0)
    for part in node.args:
        grads.append(ir.rows(g, offset, offset + part.shape[0]))
        offset = offset + part.shape[0]
    return tuple(grads)


def _rows(node: Node, out: Node, g: Node):
    (a,) = node.args
    start, stop = node.attrs
    cols, total = a.shape[1], a.shape[0]
    blocks = []
    if start != 0:
        blocks.append(ir.zeros((start, cols), g.batched))
    blocks.append(g)
    if sympy.expand(total - stop) != 0:
        blocks.append(ir.zeros((sympy.expand(total - stop), cols), g.batched))
    return (ir.concat(*blocks) if len(blocks) > 1 else g,)


def _softmax(node: Node, out: Node, g: Node):
    # J_softmax = diag(p) - p pᵀ, symmetric: (diag(p) - p pᵀ) g = p ⊙ g - p (pᵀ g)
    return (out * g - out * ir.matmul(ir.transpose(out), g),)


VJP: dict[str, Rule] = {
    "var": lambda node, out, g: (),
    "zeros": lambda node, out, g: (),
    "matmul": lambda node, out, g: (
        ir.matmul(g, ir.transpose(node.args[1])),
        ir.matmul(ir.transpose(node.args[0]), g),
    ),
    "add": lambda node, out, g: (g, g),
    "sub": lambda node, out, g: (g, -g),
    "mul": _mul,
    "div": _div,
    "scale": lambda node, out, g: (ir.scale(node.attrs[0], g),),
    "one_minus": lambda node, out, g: (-g,),
    "apply": _apply,
    "concat": _concat,
    "rows": _rows,
    "transpose": lambda node, out, g: (ir.transpose(g),),
    "broadcast": lambda node, out, g: (ir.batch_sum(g),),
    "batch_sum": lambda node, out, g: (ir.broadcast(g),),
    "softmax": _softmax,
}


def vjp(expr: Node, cotangent: Node, out: Node | None = None) -> dict[Node, Node]:
    """∂J/∂leaf for every ``var`` leaf of ``expr``, given ∂J/∂expr.

    Args:
        expr: the expression (an equation's right-hand side).
        cotangent: ∂J/∂expr, same shape as ``expr``.
        out: a name for the value of ``expr`` (the equation's left-hand side),
            used by rules that write derivatives in forward values.

    Returns:
        An ordered dict from each leaf that receives gradient to its cotangent.
    """
    cotangents: dict[Node, list[Node]] = {expr: [cotangent]}
    result: dict[Node, Node] = {}
    for node in reversed(ir.postorder(expr)):
        parts = cotangents.pop(node, None)
        if not parts:
            continue
        g = parts[0]
        for p in parts[1:]:
            g = g + p
        if node.op == "var":
            result[node] = g
            continue
        name = out if (node is expr and out is not None) else node
        for arg, share in zip(node.args, VJP[node.op](node, name, g), strict=False):
            if share is None or share.op == "zeros":
                continue
            if share.batched and not arg.batched:
                share = ir.batch_sum(share)
            cotangents.setdefault(arg, []).append(share)
    # Leaves in first-visit (left-to-right) order, so output is reproducible.
    return {leaf: result[leaf] for leaf in ir.leaves(expr) if leaf in result}

"""A compact one-line text form of a tree, for tests and debugging.

``\\delta c^{(t)} = W_y^\\top (\\hat{y}^{(t)} - y^{(t)})`` shows as
``(= (delta c@t) (juxt (T W_y) (- y.hat@t y@t)))``.
"""

from __future__ import annotations

from .tree import (
    Add,
    Apply,
    Concat,
    Continued,
    Derivative,
    Differential,
    Dots,
    Equation,
    EquationList,
    Frac,
    Func,
    Matrix,
    Neg,
    Number,
    Power,
    Product,
    Sub,
    Sum,
    Symbol,
    Transpose,
    Tuple,
)


def show(node: object) -> str:
    """The s-expression of a tree (see module doc)."""
    match node:
        case Symbol():
            text = node.name
            if node.font:
                text = f"{node.font}:{text}"
            for accent in node.accents:
                text += f".{accent}"
            if node.sub:
                text += f"_{node.sub}"
            if node.sup:
                text += f"^{node.sup}"
            text += "'" * node.primes
            if node.time is not None:
                text += f"@{node.time}"
            return text
        case Number():
            return node.text
        case Dots():
            return "..."
        case Continued():
            return "<continued>"
        case Func():
            return node.name + "'" * node.primes
        case Apply():
            return f"({show(node.func)} {' '.join(show(a) for a in node.args)})"
        case Neg():
            return f"(neg {show(node.operand)})"
        case Add():
            return f"(+ {show(node.left)} {show(node.right)})"
        case Sub():
            return f"(- {show(node.left)} {show(node.right)})"
        case Product():
            return f"({node.op} {show(node.left)} {show(node.right)})"
        case Frac():
            return f"(frac {show(node.num)} {show(node.den)})"
        case Power():
            return f"(^ {show(node.base)} {show(node.exponent)})"
        case Transpose():
            return f"(T {show(node.operand)})"
        case Differential():
            return f"({node.kind} {show(node.operand)})"
        case Derivative():
            prefix = "D" if node.kind == "partial" else "dD"
            return f"({prefix} {show(node.of)} {show(node.wrt)})"
        case Sum():
            limits = " ".join(show(x) if x is not None else "_" for x in (node.index, node.lower, node.upper))
            return f"(sum {limits} {show(node.body)})"
        case Concat():
            return f"(concat{node.sep} {' '.join(show(i) for i in node.items)})"
        case Matrix():
            rows = " ".join("(" + " ".join(show(c) for c in row) + ")" for row in node.rows)
            return f"(matrix {rows})"
        case Tuple():
            return f"(tuple {' '.join(show(i) for i in node.items)})"
        case Equation():
            parts = [show(node.sides[0])]
            for op, side in zip(node.ops, node.sides[1:], strict=True):
                parts += [op, show(side)]
            return f"({' '.join(parts)})" if len(node.ops) > 1 else f"({node.ops[0]} {parts[0]} {parts[2]})"
        case EquationList():
            return f"(list {' '.join(show(e) for e in node.equations)})"
    raise TypeError(f"not a tree node: {node!r}")

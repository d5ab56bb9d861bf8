"""Shapes of a note's symbols, inferred from how its equations use them.

Every vector is a column.  Unknown sizes are SymPy symbols; each use adds an
equation between sizes (``W x`` needs cols(W) = rows(x); ``a + b`` needs equal
shapes) and each equation is solved at once, so an inconsistency is reported at
the equation that causes it.  At the end the states' size is ``hidden_size``,
the inputs' ``input_size`` and the readout's ``output_size``.
"""

from __future__ import annotations

import sympy

from .tree import Add, Apply, Concat, Matrix, Neg, Number, Product, Sub, Symbol, Transpose

ELEMENTWISE = ("*", "odot", "circ", "ast")
MATMUL = ("juxt", "cdot")
SCALAR = (sympy.Integer(1), sympy.Integer(1))


class ShapeMismatch(ValueError):
    """Two uses of sizes that cannot both hold; the message names both shapes."""


class ShapeUnknown(ShapeMismatch):
    """An expression whose shape these rules cannot tell (no claim of a mismatch: unchecked)."""


def fmt(shape) -> str:
    return f"{shape[0]} × {shape[1]}"


class Shapes:
    """Sizes as linear expressions in unknowns, with the substitution solved so far."""

    def __init__(self):
        self.solved: dict[sympy.Symbol, sympy.Expr] = {}
        self.count = 0
        self.scalars: set[int] = set()  # ids of shapes that are plain numbers (broadcast)

    def fresh(self, hint: str) -> sympy.Symbol:
        self.count += 1
        return sympy.Symbol(f"{hint}{self.count}", positive=True, integer=True)

    def resolve(self, expr) -> sympy.Expr:
        expr = sympy.Integer(expr) if isinstance(expr, int) else expr
        return sympy.expand(expr.xreplace(self.solved)) if self.solved else expr

    def shape(self, shape) -> tuple:
        return (self.resolve(shape[0]), self.resolve(shape[1]))

    def equal(self, a, b, what: str) -> None:
        diff = sympy.expand(self.resolve(a) - self.resolve(b))
        if diff == 0:
            return
        # Solve for a parameter's size first: the sizes of states and inputs stay the named unknowns.
        unknowns = sorted(diff.free_symbols, key=lambda s: (str(s)[0] in "hx", -int(str(s)[1:])))
        if not unknowns:
            raise ShapeMismatch(what)
        unknown = unknowns[0]
        value = sympy.solve(diff, unknown)
        if not value:
            raise ShapeMismatch(what)
        value = sympy.expand(value[0])
        if value.is_number and (value <= 0 or not value.is_integer):
            raise ShapeMismatch(what)
        self.solved = {k: sympy.expand(v.xreplace({unknown: value})) for k, v in self.solved.items()}
        self.solved[unknown] = value

    def same(self, a: tuple, b: tuple, what: str) -> tuple:
        try:
            self.equal(a[0], b[0], what)
            self.equal(a[1], b[1], what)
        except ShapeMismatch:
            raise ShapeMismatch(f"{what}: {fmt(self.shape(a))} and {fmt(self.shape(b))}") from None
        return self.shape(a)


def is_scalar(shape) -> bool:
    return shape is SCALAR


def infer(expr, lookup, shapes: Shapes) -> tuple:
    """The shape of a note expression; ``lookup(symbol)`` gives (or invents) a symbol's shape."""
    match expr:
        case Number():
            return SCALAR
        case Symbol():
            return lookup(expr)
        case Neg():
            return infer(expr.operand, lookup, shapes)
        case Apply():
            if len(expr.args) != 1:
                raise ShapeUnknown("a function of several arguments")
            return infer(expr.args[0], lookup, shapes)
        case Transpose():
            rows, cols = infer(expr.operand, lookup, shapes)
            return (cols, rows)
        case Add() | Sub():
            a, b = infer(expr.left, lookup, shapes), infer(expr.right, lookup, shapes)
            if is_scalar(a):
                return b
            if is_scalar(b):
                return a
            return shapes.same(a, b, "the terms of a sum have different shapes")
        case Product():
            a, b = infer(expr.left, lookup, shapes), infer(expr.right, lookup, shapes)
            if is_scalar(a):
                return b
            if is_scalar(b):
                return a
            if expr.op in ELEMENTWISE:
                return shapes.same(a, b, f"an element-wise product ({expr.op}) of different shapes")
            if expr.op in MATMUL:
                try:
                    shapes.equal(a[1], b[0], "")
                except ShapeMismatch:
                    raise ShapeMismatch(
                        f"a matrix product of {fmt(shapes.shape(a))} and {fmt(shapes.shape(b))}"
                    ) from None
                return shapes.shape((a[0], b[1]))
            raise ShapeUnknown(f"a product written {expr.op}")
        case Concat():
            items = [infer(i, lookup, shapes) for i in expr.items]
            return stack(items, vertical=stacks_vertically(expr, items, shapes), shapes=shapes)
        case Matrix():
            rows = [stack([infer(c, lookup, shapes) for c in row], vertical=False, shapes=shapes) for row in expr.rows]
            return stack(rows, vertical=True, shapes=shapes)
    raise ShapeUnknown(f"no shape for {type(expr).__name__}")


def stacks_vertically(expr: Concat, items, shapes: Shapes) -> bool:
    """[a; b] and [h_{t-1}, x_t] stack vectors; [A | B] and [A, B] of matrices sit side by side."""
    if expr.sep == "|":
        return False
    if expr.sep == ";":
        return True
    return any(shapes.resolve(cols) == 1 for _, cols in items)


def stack(items, *, vertical: bool, shapes: Shapes) -> tuple:
    items = [(sympy.Integer(1), sympy.Integer(1)) if is_scalar(i) else i for i in items]
    if len(items) == 1:
        return items[0]
    if vertical:
        for i in items[1:]:
            shapes.equal(items[0][1], i[1], "stacked blocks of different widths")
        return shapes.shape((sum((i[0] for i in items), sympy.Integer(0)), items[0][1]))
    for i in items[1:]:
        shapes.equal(items[0][0], i[0], "blocks side by side of different heights")
    return shapes.shape((items[0][0], sum((i[1] for i in items), sympy.Integer(0))))

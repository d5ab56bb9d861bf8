"""Stated shape lines: ``100 × 1 = σ((100 × 1100)(1100 × 1) + 100 × 1)`` beside an equation.

A shape line is checked twice: on its own (the products conform, the terms
agree) and against the equation it annotates — the last forward definition
before it — by laying one tree over the other: each ``a × b`` stands for the
part of the equation in the same place, whose shape in hidden/input/output
sizes then gives equations for those sizes.  The sizes found must agree with
every other shape line of the cell.
"""

from __future__ import annotations

import sympy

from symrnn import ir

from .shapes import SCALAR, ShapeMismatch, Shapes, infer, is_scalar
from .tree import Add, Apply, Neg, Number, Product, Sub, Symbol

SIZE_WORDS = {ir.HIDDEN: "hidden", ir.INPUT: "input", ir.OUTPUT: "output"}


class ShapeLineError(ValueError):
    pass


def _number(node) -> int:
    match node:
        case Number():
            return int(node.value)
        case Add():
            return _number(node.left) + _number(node.right)
        case Sub():
            return _number(node.left) - _number(node.right)
        case Product() if node.op in ("juxt", "*", "cdot"):
            return _number(node.left) * _number(node.right)
    raise ShapeLineError("a size that is not a number")


def stated_shape(node) -> tuple[int, int] | None:
    """``a × b`` as (a, b); None for anything else."""
    if isinstance(node, Product) and node.op == "times":
        return (_number(node.left), _number(node.right))
    return None


def own_shape(node) -> tuple:
    """The shape a shape expression stands for, checking that its parts fit."""
    shape = stated_shape(node)
    if shape is not None:
        return shape
    match node:
        case Number():
            return SCALAR
        case Apply():
            return own_shape(node.args[0])
        case Neg():
            return own_shape(node.operand)
        case Add() | Sub():
            a, b = own_shape(node.left), own_shape(node.right)
            if is_scalar(a) or is_scalar(b) or a == b:
                return b if is_scalar(a) else a
            raise ShapeLineError(f"{a[0]} × {a[1]} plus {b[0]} × {b[1]}")
        case Product():
            a, b = own_shape(node.left), own_shape(node.right)
            if a[1] != b[0]:
                raise ShapeLineError(f"({a[0]} × {a[1]})({b[0]} × {b[1]}): {a[1]} columns against {b[0]} rows")
            return (a[0], b[1])
    raise ShapeLineError("not a shape expression")


def pairs(shape_node, eq_node) -> list[tuple[object, tuple[int, int]]]:
    """(part of the equation, stated shape) for every ``a × b`` laid over the equation."""
    stated = stated_shape(shape_node)
    if stated is not None:
        return [(eq_node, stated)]
    match shape_node, eq_node:
        case Apply(), Apply():
            return pairs(shape_node.args[0], eq_node.args[0])
        case (Add(), Add()) | (Sub(), Sub()):
            return pairs(shape_node.left, eq_node.left) + pairs(shape_node.right, eq_node.right)
        case Product(), Product():
            return pairs(shape_node.left, eq_node.left) + pairs(shape_node.right, eq_node.right)
        case Number(), _:
            return []
    raise ShapeLineError("the shape line does not follow the equation before it")


def sizes_from(shape_tree, equation, lookup) -> dict:
    """Hidden/input/output sizes that make ``shape_tree`` the shapes of ``equation``'s parts."""
    found: dict = {}
    matched = pairs(shape_tree.lhs, equation.lhs) + pairs(shape_tree.rhs, equation.rhs)
    shapes = Shapes()
    for part, (rows, cols) in matched:
        shape = infer(part, lookup, shapes)
        if is_scalar(shape):
            continue
        for dim, stated in zip(shape, (rows, cols), strict=True):
            dim = sympy.expand(dim.xreplace(found))
            if dim.is_number:
                if dim != stated:
                    raise ShapeMismatch(f"{_show(part)} has {dim} where the shape line says {stated}")
                continue
            unknowns = sorted(dim.free_symbols & set(ir.DIMS), key=str)
            if len(unknowns) != 1:
                continue
            value = sympy.solve(sympy.Eq(dim, stated), unknowns[0])
            if not value or value[0] <= 0:
                raise ShapeMismatch(f"{_show(part)} cannot have {stated} there")
            found[unknowns[0]] = value[0]
    # A second pass: parts with two unknowns are decided once the first pass fixed one.
    for part, (rows, cols) in matched:
        shape = infer(part, lookup, shapes)
        if is_scalar(shape):
            continue
        for dim, stated in zip(shape, (rows, cols), strict=True):
            dim = sympy.expand(dim.xreplace(found))
            if dim.is_number and dim != stated:
                raise ShapeMismatch(f"{_show(part)} has {dim} where the shape line says {stated}")
    return found


def describe(sizes: dict) -> str:
    return ", ".join(f"{SIZE_WORDS[d]} {sizes[d]}" for d in ir.DIMS if d in sizes)


def _show(node) -> str:
    from .show import show

    return show(node) if not isinstance(node, Symbol) else node.name + (f"_{node.sub}" if node.sub else "")

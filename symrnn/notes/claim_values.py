"""The values of a claim's terms: matrices and Jacobians, and how two of them combine or compare.

A term of a claim is a matrix (a value or a gradient in the shape of its variable) or a
:class:`Jacobian` (∂a/∂b, rows over a's entries); products chain Jacobians, sums add values
of one shape, and :func:`compare_values` decides equality up to the arithmetic's rounding.
Operands that do not fit raise :class:`ShapeClash`; two sides of different shapes raise
:class:`SidesClash` (often the reading's fault, never a WRONG on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numbers import Unsupported


class ShapeClash(Unsupported):
    """The two operands of an operation do not fit (the claim is written with wrong shapes)."""


class SidesClash(ShapeClash):
    """Each side evaluated, but to values of different shapes (e.g. a Jacobian and a vector)."""


@dataclass
class Jacobian:
    """∂a/∂b as a matrix (rows: entries of a, columns: entries of b) and the two shapes."""

    matrix: np.ndarray
    of_shape: tuple[int, int]
    wrt_shape: tuple[int, int]

    @property
    def T(self) -> Jacobian:
        return Jacobian(self.matrix.T, self.wrt_shape, self.of_shape)


def fmt(a) -> str:
    return " × ".join(str(n) for n in np.shape(a))


def scale(c, a):
    if isinstance(a, Jacobian):
        return Jacobian(a.matrix * c, a.of_shape, a.wrt_shape)
    return a * c


def plus(a, b):
    if a.shape != b.shape:
        if a.shape == b.T.shape and 1 in a.shape:
            return a + b.T
        raise ShapeClash(f"a sum of a {fmt(a)} and a {fmt(b)} value")
    return a + b


def elementwise(a, b, f):
    if a.shape != b.shape:
        if a.shape == (1, 1) or b.shape == (1, 1):
            return f(a, b)
        if a.shape == b.T.shape and 1 in a.shape:
            return f(a, b.T)
        raise ShapeClash(f"an element-wise operation on a {fmt(a)} and a {fmt(b)} value")
    return f(a, b)


def matmul(a, b):
    if a.shape[1] == b.shape[0]:
        return a @ b
    # No vector is turned round to make a product fit: a missing transpose is an error of the note.
    raise ShapeClash(f"a product of a {fmt(a)} and a {fmt(b)} value")


def as_matrix(a):
    if isinstance(a, Jacobian):
        return a.matrix
    return a


def chain(a, b):
    """A product with a Jacobian factor: the chain rule, with vectors in either orientation."""
    if isinstance(a, Jacobian) and isinstance(b, Jacobian):
        if a.matrix.shape[1] == b.matrix.shape[0]:
            return Jacobian(a.matrix @ b.matrix, a.of_shape, b.wrt_shape)
        raise ShapeClash(f"a product of Jacobians of {fmt(a.matrix)} and {fmt(b.matrix)}")
    if isinstance(b, Jacobian):
        flat = a.reshape(-1) if a.size == b.matrix.shape[0] else None
        if flat is not None and (1 in a.shape):
            out = flat @ b.matrix
            return out.reshape(b.wrt_shape)
        if a.shape[1] == b.matrix.shape[0]:
            return a @ b.matrix
        raise ShapeClash(f"a product of a {fmt(a)} value and a Jacobian of {fmt(b.matrix)}")
    flat = b.reshape(-1) if b.size == a.matrix.shape[1] else None
    if flat is not None and (1 in b.shape):
        out = a.matrix @ flat
        return out.reshape(a.of_shape)
    if a.matrix.shape[1] == b.shape[0]:
        return a.matrix @ b
    raise ShapeClash(f"a product of a Jacobian of {fmt(a.matrix)} and a {fmt(b)} value")


def compare_values(a, b, arith) -> tuple[bool, float]:
    """Equal up to rounding, vectors in either orientation; Jacobians as matrices."""
    a, b = as_matrix(a), as_matrix(b)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        if a.size == b.size and (1 in a.shape or a.size == 1) and (1 in b.shape):
            b = b.reshape(a.shape)
        elif b.shape == (1, 1) and b[0, 0] == 0:
            b = a * 0  # "= 0": zero of the other side's shape
        elif a.shape == (1, 1) and a[0, 0] == 0:
            a = b * 0
        else:
            raise SidesClash(f"the left side is {fmt(a)}, the right side {fmt(b)}")
    return arith.close(a, b)

"""The value of a note expression over letters given numbers: identities of free letters, loss formulas.

A claim such as ``[A, B][C; D] = AC + BD`` or ``σ'(x) = σ(x)(1 − σ(x))`` is about letters
the note never defines; a loss formula ``-Σ y log ŷ`` is recognised by its values at a few
points.  Each letter gets a number or a matrix (``env``) and the tree is evaluated in a
:class:`~symrnn.notes.numbers.NoteArithmetic` (float64, or 40 digits).  Claims about the
note's own model are evaluated on its unrolled program instead (claims.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import reading
from .note_cell import FUNCTION_NAMES, NoteCell
from .numbers import NoteArithmetic, Unsupported
from .tree import (
    Add,
    Apply,
    Concat,
    Derivative,
    Differential,
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
)

# Words written \mathrm{step}(·), \mathrm{relu}(·) that read as functions applied.
FUNCTION_WORDS = frozenset({"step", "relu", "ReLU", "softplus"})


class _Zero:
    """A term that names step T+1: it vanishes from the sum it stands in."""

    def __repr__(self):
        return "ZERO"


ZERO = _Zero()


class ShapeClash(ValueError):
    """The claim combines values whose shapes do not fit (a definite error of the claim)."""


@dataclass
class Jacobian:
    """∂a/∂b as a matrix: rows over a's entries, columns over b's (row-major), b's shape kept."""

    matrix: np.ndarray
    wrt_shape: tuple


def time_step(symbol: Symbol, bound: dict[str, int]) -> int | None:
    """The absolute step of a symbol (None when it has no time index)."""
    time = symbol.time
    if time is None:
        return None
    if time.var is None:
        return time.offset
    if time.var == "T":
        return bound["T"] + time.offset
    if time.var not in bound:
        raise Unsupported(f"the step {time.var} is not bound")
    return bound[time.var] + time.offset


class FreeEvaluator:
    """Evaluates note trees whose letters are given numbers.

    Args:
        note: the note's cell (its notation names letters, its aliases and functions), or None.
        arith: the arithmetic.
        env: letter (IR name) → array.
    """

    def __init__(self, note: NoteCell | None, arith: NoteArithmetic, env: dict):
        self.note, self.arith, self.env = note, arith, env
        self.chain = 0

    # ------------------------------------------------------------ names
    def _name(self, symbol: Symbol) -> str:
        return self.note.notation.ir_name(symbol) if self.note is not None else symbol.name

    def _step(self, symbol: Symbol, bound) -> int:
        step = time_step(symbol, bound)
        if step is None:
            if "t" not in bound:
                raise Unsupported(f"{symbol.name} has no step and no step t is bound")
            step = bound["t"]
        return step

    def symbol(self, symbol: Symbol, bound: dict) -> object:
        name = self._name(symbol)
        if name in self.env:
            return self.env[name]
        if self.note is not None and name in self.note.aliases:
            return self.value(self.note.aliases[name], bound)
        raise Unsupported(f"{_show(symbol)} has no value here")

    # ------------------------------------------------------------ expressions
    def integer(self, node, bound) -> int:
        match node:
            case Number():
                return int(node.value)
            case Symbol() if node.name == "T" and node.time is None:
                return bound["T"]
            case Symbol() if node.name in bound and node.time is None:
                return bound[node.name]
            case Add():
                return self.integer(node.left, bound) + self.integer(node.right, bound)
            case Sub():
                return self.integer(node.left, bound) - self.integer(node.right, bound)
        raise Unsupported("a sum whose limits are not steps")

    def value(self, node, bound: dict) -> object:
        match node:
            case Number():
                return self.arith.number(node.value)
            case Symbol():
                return self.symbol(node, bound)
            case Neg():
                return _scale(-1, self.value(node.operand, bound))
            case Add():
                return _add(self.value(node.left, bound), self.value(node.right, bound), +1)
            case Sub():
                return _add(self.value(node.left, bound), self.value(node.right, bound), -1)
            case Product():
                return self._product(node, bound)
            case Frac():
                num, den = self.value(node.num, bound), self.value(node.den, bound)
                return ZERO if num is ZERO else num / den
            case Power():
                base = self.value(node.base, bound)
                return ZERO if base is ZERO else base ** self.value(node.exponent, bound)
            case Transpose():
                a = self.value(node.operand, bound)
                if isinstance(a, Jacobian):
                    return Jacobian(a.matrix.T, (a.matrix.shape[0], 1))
                return a if a is ZERO or np.ndim(a) == 0 else a.T
            case Apply() if len(node.args) == 1 and (isinstance(node.func, Func) or node.func.name in FUNCTION_WORDS):
                arg = self.value(node.args[0], bound)
                if arg is ZERO:
                    return ZERO
                name = FUNCTION_NAMES.get(node.func.name, node.func.name)
                if self.note is not None:
                    name = self.note.functions.get(name, name)
                if name == "softmax":
                    return self.arith.softmax(arg)
                return self.arith.apply(name + "'" * getattr(node.func, "primes", 0), arg)
            case Apply() if reading.is_loss_symbol(node):
                raise Unsupported("a loss term as a value")
            case Differential() | Derivative():
                raise Unsupported("a gradient among letters the note never defines")
            case Sum():
                return self._sum(node, bound)
            case Concat():
                items = [self.value(i, bound) for i in node.items]
                if any(i is ZERO or isinstance(i, Jacobian) for i in items):
                    raise Unsupported("a stack with a vanishing or Jacobian block")
                vertical = node.sep == ";" or (node.sep == "," and all(np.shape(i)[1] == 1 for i in items))
                return _stack(items, vertical)
            case Matrix():
                rows = [_stack([self.value(c, bound) for c in row], False) for row in node.rows]
                return _stack(rows, True)
        raise Unsupported(f"cannot evaluate {type(node).__name__}")

    def _sum(self, node: Sum, bound: dict) -> object:
        index = node.index.name if node.index is not None else "t"
        lower = self.integer(node.lower, bound) if node.lower is not None else 1
        upper = self.integer(node.upper, bound) if node.upper is not None else bound["T"]
        total: object = ZERO
        for step in range(lower, upper + 1):
            total = _add(total, self.value(node.body, {**bound, index: step}), +1)
        return total

    def _product(self, node: Product, bound: dict) -> object:
        self.chain += 1
        try:
            a, b = self.value(node.left, bound), self.value(node.right, bound)
        finally:
            self.chain -= 1
        if a is ZERO or b is ZERO:
            return ZERO
        jacobian = isinstance(a, Jacobian) or isinstance(b, Jacobian)
        if not jacobian and (np.ndim(a) == 0 or np.ndim(b) == 0 or _is_scalar(a) or _is_scalar(b)):
            return a * b
        if node.op in ("*", "odot", "circ", "ast"):
            if np.shape(a) != np.shape(b):
                raise ShapeClash(f"an element-wise product of {_fmt(a)} and {_fmt(b)}")
            return a * b
        if jacobian:
            left = a.matrix if isinstance(a, Jacobian) else np.asarray(a).reshape(1, -1)
            right = b.matrix if isinstance(b, Jacobian) else np.asarray(b).reshape(-1, 1)
            if left.shape[1] != right.shape[0]:
                raise ShapeClash(f"a chain of Jacobians of {left.shape} and {right.shape}")
            wrt = b.wrt_shape if isinstance(b, Jacobian) else (right.shape[1], 1)
            return Jacobian(left @ right, wrt)
        if np.shape(a)[1] == np.shape(b)[0]:
            return a @ b
        if np.shape(a) == np.shape(b) and np.shape(a)[1] == 1:
            return a * b  # y log ŷ of two vectors: element-wise, as notes write it for one output
        raise ShapeClash(f"a matrix product of {_fmt(a)} and {_fmt(b)}")


def _is_scalar(a) -> bool:
    return isinstance(a, np.ndarray) and a.shape == (1, 1)


def _fmt(a) -> str:
    shape = np.shape(a.matrix if isinstance(a, Jacobian) else a)
    return " × ".join(str(n) for n in shape) if shape else "a number"


def _scale(c, a):
    if a is ZERO:
        return ZERO
    if isinstance(a, Jacobian):
        return Jacobian(c * a.matrix, a.wrt_shape)
    return c * a


def _add(a, b, sign: int):
    if b is ZERO:
        return a
    if a is ZERO:
        return _scale(sign, b)
    if isinstance(a, Jacobian) and isinstance(b, Jacobian):
        if a.matrix.shape != b.matrix.shape:
            raise ShapeClash(f"a sum of Jacobians of shapes {a.matrix.shape} and {b.matrix.shape}")
        return Jacobian(a.matrix + sign * b.matrix, a.wrt_shape)
    if isinstance(a, Jacobian) or isinstance(b, Jacobian):
        a, b = as_array(a, b), as_array(b, a)
    if np.ndim(a) and np.ndim(b) and np.shape(a) != np.shape(b) and not (_is_scalar(a) or _is_scalar(b)):
        raise ShapeClash(f"a sum of {_fmt(a)} and {_fmt(b)}")
    return a + b if sign > 0 else a - b


def as_array(value, like):
    """A one-row Jacobian of a scalar (∂E/∂W as a chain) in the shape of the gradient it equals."""
    if isinstance(value, Jacobian):
        if value.matrix.shape[0] != 1:
            raise ShapeClash(f"a Jacobian of {value.matrix.shape} where a gradient is expected")
        shape = np.shape(like) if like is not None and not isinstance(like, Jacobian | _Zero) else value.wrt_shape
        if np.prod(shape) != value.matrix.size:
            raise ShapeClash(f"a gradient of {value.matrix.size} entries against {_fmt(like)}")
        return value.matrix.reshape(shape)
    return value


def _stack(items, vertical: bool):
    items = [np.asarray(i).reshape(1, 1) if np.ndim(i) == 0 else i for i in items]
    try:
        return np.concatenate(items, axis=0 if vertical else 1)
    except ValueError:
        raise ShapeClash("blocks that do not fit together") from None


def _show(symbol: Symbol) -> str:
    from .show import show

    return show(symbol)

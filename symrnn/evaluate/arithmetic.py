"""Number systems of the evaluator: float64, 40-digit mpmath and exact SymPy (:class:`Arithmetic`).

An arithmetic says how numbers and arrays are made, the element-wise functions by name (from
the function table, :mod:`symrnn.functions`), softmax and how "equal" is decided.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from symrnn.functions import function_spec

DIGITS = 40  # the precision of MPMATH: enough to tell a wrong formula from rounding at any size used


class Unsupported(ValueError):
    """Something the evaluator has no numeric meaning for (a generic f in float64, an unknown op)."""


@dataclass(frozen=True)
class Arithmetic:
    """A number system for the evaluator.

    Attributes:
        name: ``"float64"``, ``"mpmath40"``, ``"exact"``, …
        number: a Python/NumPy/SymPy/mpmath number → a number of this system.
        forms: φ by name → an element-wise callable on arrays of this system, or None if unknown.
        rtol: :meth:`close`'s tolerance relative to the larger magnitude.
        dtype: the NumPy dtype of its arrays (``float`` or ``object``).
    """

    name: str
    number: Callable[[object], object]
    forms: Callable[[str], Callable | None]
    rtol: float
    dtype: type = object
    exp: Callable | None = None  # element-wise exp for softmax (float64 uses a max-shifted np.exp)

    @property
    def precise(self) -> bool:
        """True for arithmetic beyond float64 (object arrays)."""
        return self.dtype is object

    def array(self, values) -> np.ndarray:
        """An array of this system from numbers, nested lists, arrays or a SymPy matrix."""
        if isinstance(values, sympy.MatrixBase):
            values = values.tolist()
        if self.dtype is float:
            if isinstance(values, np.ndarray) and values.dtype == object:
                return np.vectorize(self.number, otypes=[float])(values)
            return np.array(values, dtype=float)
        out = np.empty(np.shape(values), dtype=object)
        source = np.asarray(values, dtype=object)
        for index, v in np.ndenumerate(source):
            out[index] = self.number(v)
        return out

    def zeros(self, shape) -> np.ndarray:
        """An array of zeros of this system."""
        if self.dtype is float:
            return np.zeros(shape)
        out = np.empty(shape, dtype=object)
        out.fill(self.number(0))
        return out

    def has_function(self, name: str) -> bool:
        """Whether φ = ``name`` has a meaning in this system."""
        return self.forms(name) is not None

    def function(self, name: str) -> Callable[[np.ndarray], np.ndarray]:
        """φ by name, element-wise on arrays of this system.

        Raises:
            Unsupported: the function has no meaning in this system (a generic f in float64).
        """
        form = self.forms(name)
        if form is None:
            raise Unsupported(f"no {self.name} meaning for the element-wise function {name!r}")
        return form

    def softmax(self, a: np.ndarray) -> np.ndarray:
        """softmax over the rows of each column (axis -2)."""
        if self.dtype is float:
            e = np.exp(a - a.max(axis=-2, keepdims=True))
        else:
            e = np.vectorize(self.exp, otypes=[object])(a) if a.size else a
        return e / e.sum(axis=-2, keepdims=True)

    def close(self, a, b) -> tuple[bool, float]:
        """(equal, relative difference): max|a − b| ≤ rtol · max(|a|, |b|, 10⁻³).

        Exact arithmetic compares at 60 digits, and by expansion where entries stay symbolic.
        """
        a, b = np.asarray(a, dtype=self.dtype), np.asarray(b, dtype=self.dtype)
        if a.shape != b.shape:
            raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
        if not a.size:
            return True, 0.0
        if self.name == "exact":
            return _exact_close(a, b, self.rtol)
        diff = float(np.max(np.abs(a - b)))
        scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-3)
        return diff <= self.rtol * scale, diff / scale


def _exact_close(a, b, rtol) -> tuple[bool, float]:
    worst, scale = 0.0, 1e-3
    for x, y in zip(a.flat, b.flat, strict=True):
        d = sympy.sympify(x - y)
        if d.free_symbols or sympy.sympify(x).free_symbols or sympy.sympify(y).free_symbols:
            if d != 0 and sympy.expand(d) != 0 and sympy.simplify(d) != 0:
                return False, float("inf")
            continue
        worst = max(worst, float(abs(sympy.N(d, 60))))
        scale = max(scale, float(abs(sympy.N(x, 30))), float(abs(sympy.N(y, 30))))
    return worst <= rtol * scale, worst / scale


def _float64_sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows: |a| ≥ 50 gives 1 or a tiny positive number
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# Numeric forms of the function table's functions (and of sin, cos, softplus, which notes
# substitute for an unnamed f).  When the table carries numeric columns these maps go, and
# only the ``forms`` lookups below change.
_FLOAT64_FORMS = {
    "sigmoid": _float64_sigmoid,
    "tanh": np.tanh,
    "identity": lambda a: a,
    "relu": lambda a: np.maximum(a, 0.0),
    "step": lambda a: (a > 0).astype(float),
    "exp": np.exp,
    "log": np.log,
    "reciprocal": lambda a: 1.0 / a,
    "sin": np.sin,
    "cos": np.cos,
    "softplus": lambda a: np.logaddexp(0.0, a),
}


def _mpmath_forms(ctx) -> dict[str, Callable]:
    scalar = {
        "sigmoid": lambda v: 1 / (1 + ctx.exp(-v)),
        "tanh": ctx.tanh,
        "identity": lambda v: v,
        "relu": lambda v: v if v > 0 else ctx.zero,
        "step": lambda v: ctx.one if v > 0 else ctx.zero,
        "exp": ctx.exp,
        "log": ctx.log,
        "reciprocal": lambda v: 1 / v,
        "sin": ctx.sin,
        "cos": ctx.cos,
        "softplus": lambda v: ctx.log1p(ctx.exp(v)) if v < 0 else v + ctx.log1p(ctx.exp(-v)),
    }
    return {name: _elementwise(f) for name, f in scalar.items()}


def _elementwise(f: Callable) -> Callable[[np.ndarray], np.ndarray]:
    vectorised = np.vectorize(f, otypes=[object])
    return lambda a: vectorised(a) if np.size(a) else np.asarray(a, dtype=object)


_EXACT_EXTRA = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
}


def _exact_form(name: str) -> Callable | None:
    if name in _EXACT_EXTRA:
        return _elementwise(_EXACT_EXTRA[name])
    try:
        return _elementwise(function_spec(name).sympy_fn)  # generic f stays symbolic: f(x)
    except KeyError:
        return None


def _float64_number(v) -> float:
    if isinstance(v, sympy.Basic) and v.free_symbols:
        raise Unsupported(f"float64 arithmetic has no value for the symbolic {v}")
    return float(v)


def _exact_number(v):
    if isinstance(v, sympy.Basic):
        return v
    if isinstance(v, bool | np.bool_):
        return sympy.Integer(int(v))
    if isinstance(v, numbers.Integral):
        return sympy.Integer(int(v))
    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, float | np.floating):
        return sympy.Rational(float(v))  # the binary value itself, exactly
    if hasattr(v, "_mpf_"):  # an mpf of any mpmath context, at its own precision
        prec = getattr(getattr(v, "context", None), "prec", mpmath.mp.prec)
        return sympy.Float._new(v._mpf_, prec)
    raise TypeError(f"not a number: {v!r}")


def mpmath_arithmetic(digits: int) -> Arithmetic:
    """mpmath numbers at ``digits`` significant digits, in a context of their own (no global state)."""
    ctx = mpmath.MPContext()
    ctx.dps = digits

    def number(v):
        if isinstance(v, sympy.Rational):
            return ctx.mpf(int(v.p)) / int(v.q)
        if isinstance(v, sympy.Float):
            return ctx.convert(v)
        if isinstance(v, sympy.Basic):
            if v.free_symbols:
                raise Unsupported(f"mpmath arithmetic has no value for the symbolic {v}")
            return ctx.convert(v.evalf(digits + 10))
        if isinstance(v, Fraction):
            return ctx.mpf(v.numerator) / v.denominator
        if isinstance(v, np.floating | np.integer):
            return ctx.mpf(v.item())
        return ctx.convert(v)

    forms = _mpmath_forms(ctx)
    return Arithmetic(f"mpmath{digits}", number, forms.get, 10.0 ** (15 - digits), object, ctx.exp)


FLOAT64 = Arithmetic("float64", _float64_number, _FLOAT64_FORMS.get, 1e-7, float)
MPMATH = mpmath_arithmetic(DIGITS)
EXACT = Arithmetic("exact", _exact_number, _exact_form, 1e-45, object, sympy.exp)
ARITHMETICS = (FLOAT64, MPMATH, EXACT)

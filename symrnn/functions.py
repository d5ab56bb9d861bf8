"""Element-wise functions: the one table, a row per function with everything about it.

A row carries how the function is written (LaTeX, plain text, the names notes use for
it), what it means (SymPy, float64 NumPy, 40-digit mpmath), how generated code spells it
(NumPy, torch, JAX), its derivative and the range it takes (for gradient bounds).  Every
consumer reads the row; ``tests/test_functions.py`` fails when a row lacks a column some
consumer needs, so adding a function is one row here plus one test row there.

The derivative is data, not code: a small formula over ``x`` (the argument) and ``y``
(the forward value φ(x)), written where a textbook writes it in forward values
(σ' = y ⊙ (1 − y), tanh' = 1 − y ⊙ y).  ``symrnn.ir.derivative`` turns it into IR; the
numeric columns evaluate it directly (``numeric("sigmoid'", "float64")``).  So this
module imports nothing of symrnn and sits at the bottom of the layers, below the IR.

Names that are a single letter (``f``, ``g``) or ``phi``/``varphi``/``psi``, with optional
primes, are *generic* functions: their derivative stays symbolic as ``f'``.  A concrete
name with primes (``sigmoid'``, ``tanh''``) is that function's derivative of that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

# A derivative formula: "x", "y", "zero", "one", ("mul", a, b), ("add", a, b), ("sub", a, b),
# ("one_minus", a), ("neg", a), ("apply", function, a); None means φ' = 1.
Formula = str | tuple | None

SYSTEMS = ("float64", "mpmath", "sympy")


@dataclass(frozen=True)
class FunctionSpec:
    """One element-wise function φ.

    Attributes:
        name: the IR name (``ir.apply(name, x)``).
        latex: the operator's LaTeX spelling (``\\sigma``).
        text: its plain-text spelling (``σ``).
        sympy_fn: φ on a SymPy expression (the exact meaning).
        float64: φ on a float64 NumPy array, overflow-free where φ is bounded.
        mpmath: φ on one mpmath number.
        derivative: φ' as a :data:`Formula` in x and y = φ(x).
        derivative_latex: the identity φ'(x) = … as documents state it.
        numpy, torch, jax: generated code, a format string over the argument ``{0}``.
        value_range: the closure of φ's range given the argument's interval (lo, hi) of
            SymPy numbers (``-oo``/``oo`` allowed); used by gradient bounds.
        note_names: how hand-written notes spell it (LaTeX commands and bare words).
        complement: φ(−x) = 1 − φ(x) (σ): two cells may differ by a gate and its complement.
        generic: an unnamed function (f, g): no numeric or code form.
        exp_scale: κ where the optimised code computes φ in place through one exp of κ·a:
            σ(a) = 1 / (1 + e^{-a}) (κ = −1), tanh(a) = 2 / (1 + e^{-2a}) − 1 (κ = −2); None
            where it calls ``numpy`` instead. Gates with one are stacked in table order.
        fast_numpy: the optimised code's own call over ``{0}`` (a fast-runtime helper), if any.
    """

    name: str
    latex: str
    text: str
    sympy_fn: Callable
    float64: Callable | None
    mpmath: Callable | None
    derivative: Formula
    derivative_latex: str | None
    numpy: str | None
    torch: str | None
    jax: str | None
    value_range: Callable | None
    note_names: tuple[str, ...] = ()
    complement: bool = False
    generic: bool = False
    exp_scale: int | None = None
    fast_numpy: str | None = None


def _mp():
    import mpmath  # a SymPy dependency; imported when a 40-digit number is first needed

    return mpmath


def _sigmoid_float64(a):
    e = np.exp(-np.abs(a))  # never overflows: the exponent is ≤ 0
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _interval(lo, hi):
    return lambda _lo, _hi: (sympy.sympify(lo), sympy.sympify(hi))


_ZERO_ONE = _interval(0, 1)
_UNBOUNDED = _interval(-sympy.oo, sympy.oo)


def _positive(v) -> bool:
    """v > 0 decided, False where SymPy cannot tell (a symbolic end)."""
    return bool(sympy.sympify(v).is_positive)


def _reciprocal_range(lo, hi):
    if _positive(lo) or _positive(-sympy.sympify(hi)):
        ends = (1 / lo, 1 / hi)
        return (sympy.Min(*ends), sympy.Max(*ends))
    return (-sympy.oo, sympy.oo)


def _row(
    name, latex, text, sympy_fn, float64, mpmath, derivative, derivative_latex, numpy, torch, jax, value_range, **kw
):
    return FunctionSpec(
        name, latex, text, sympy_fn, float64, mpmath, derivative, derivative_latex, numpy, torch, jax, value_range, **kw
    )


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        _row(
            "sigmoid",
            r"\sigma",
            "σ",
            lambda x: 1 / (1 + sympy.exp(-x)),
            _sigmoid_float64,
            lambda v: 1 / (1 + _mp().exp(-v)),
            ("mul", "y", ("one_minus", "y")),
            r"\sigma'(x) = \sigma(x)\,\left(1 - \sigma(x)\right)",
            "_sigmoid({0})",
            "torch.sigmoid({0})",
            "jax.nn.sigmoid({0})",
            _ZERO_ONE,
            note_names=(r"\sigma", r"\mathrm{sigmoid}", r"\operatorname{sigmoid}", "sigmoid", r"\mathrm{sigm}", "sigm"),
            complement=True,
            exp_scale=-1,
            fast_numpy="_sigmoid_fast({0})",
        ),
        _row(
            "tanh",
            r"\tanh",
            "tanh",
            sympy.tanh,
            np.tanh,
            lambda v: _mp().tanh(v),
            ("one_minus", ("mul", "y", "y")),
            r"\tanh'(x) = 1 - \tanh^2(x)",
            "np.tanh({0})",
            "torch.tanh({0})",
            "jnp.tanh({0})",
            _interval(-1, 1),
            note_names=(r"\tanh", r"\mathrm{tanh}", r"\operatorname{tanh}", "tanh"),
            exp_scale=-2,
            fast_numpy="_tanh_fast({0})",
        ),
        _row(
            "identity",
            r"\mathrm{id}",
            "id",
            lambda x: x,
            lambda a: a,
            lambda v: v,
            None,
            r"\mathrm{id}'(x) = 1",
            "{0}",
            "{0}",
            "{0}",
            lambda lo, hi: (lo, hi),
            note_names=(r"\mathrm{id}", r"\operatorname{id}"),
        ),
        _row(
            "relu",
            r"\mathrm{relu}",
            "relu",
            lambda x: sympy.Max(x, 0),
            lambda a: np.maximum(a, 0),
            lambda v: v if v > 0 else v * 0,
            ("apply", "step", "y"),
            r"\mathrm{relu}'(x) = \mathrm{step}(x)",
            "np.maximum({0}, 0)",
            "torch.relu({0})",
            "jax.nn.relu({0})",
            lambda lo, hi: (sympy.Max(lo, 0), sympy.Max(hi, 0)),
            note_names=(
                r"\mathrm{relu}",
                r"\mathrm{ReLU}",
                r"\operatorname{ReLU}",
                r"\operatorname{relu}",
                "ReLU",
                "relu",
            ),
        ),
        _row(
            "step",
            r"\mathrm{step}",
            "step",
            lambda x: sympy.Heaviside(x, 0),  # step(0) = 0 as in the NumPy code; SymPy's default is 1/2
            lambda a: (a > 0).astype(a.dtype),
            lambda v: v * 0 + (1 if v > 0 else 0),
            "zero",
            r"\mathrm{step}'(x) = 0",
            "({0} > 0).astype({0}.dtype)",
            "({0} > 0).to({0}.dtype)",
            "({0} > 0).astype({0}.dtype)",
            _ZERO_ONE,
            note_names=(r"\mathrm{step}", r"\operatorname{step}", r"\mathbb{1}", "step"),
        ),
        _row(
            "exp",
            r"\exp",
            "exp",
            sympy.exp,
            np.exp,
            lambda v: _mp().exp(v),
            "y",
            r"\exp'(x) = \exp(x)",
            "np.exp({0})",
            "torch.exp({0})",
            "jnp.exp({0})",
            lambda lo, hi: (sympy.Integer(0), sympy.exp(hi)),
            note_names=(r"\exp", "exp"),
        ),
        _row(
            "log",
            r"\log",
            "log",
            sympy.log,
            np.log,
            lambda v: _mp().log(v),
            ("apply", "reciprocal", "x"),
            r"\log'(x) = 1/x",
            "np.log({0})",
            "torch.log({0})",
            "jnp.log({0})",
            lambda lo, hi: (
                sympy.log(lo) if _positive(lo) else -sympy.oo,
                sympy.log(hi) if _positive(hi) else -sympy.oo,
            ),
            note_names=(r"\log", r"\ln", "log"),
        ),
        _row(
            "reciprocal",
            r"\mathrm{recip}",
            "1/",
            lambda x: 1 / x,
            np.reciprocal,
            lambda v: 1 / v,
            ("neg", ("mul", "y", "y")),
            r"\mathrm{recip}'(x) = -1/x^2",
            "np.reciprocal({0})",
            "torch.reciprocal({0})",
            "jnp.reciprocal({0})",
            _reciprocal_range,
        ),
        _row(
            "softplus",
            r"\mathrm{softplus}",
            "softplus",
            lambda x: sympy.log(1 + sympy.exp(x)),
            lambda a: np.logaddexp(0, a),
            lambda v: _mp().log(1 + _mp().exp(v)),
            ("apply", "sigmoid", "x"),
            r"\mathrm{softplus}'(x) = \sigma(x)",
            "np.logaddexp(0, {0})",
            "torch.nn.functional.softplus({0})",
            "jax.nn.softplus({0})",
            lambda lo, hi: (sympy.log(1 + sympy.exp(lo)), sympy.log(1 + sympy.exp(hi))),
            note_names=(r"\mathrm{softplus}", r"\operatorname{softplus}", "softplus"),
        ),
        _row(
            "sin",
            r"\sin",
            "sin",
            sympy.sin,
            np.sin,
            lambda v: _mp().sin(v),
            ("apply", "cos", "x"),
            r"\sin'(x) = \cos(x)",
            "np.sin({0})",
            "torch.sin({0})",
            "jnp.sin({0})",
            _interval(-1, 1),
            note_names=(r"\sin",),
        ),
        _row(
            "cos",
            r"\cos",
            "cos",
            sympy.cos,
            np.cos,
            lambda v: _mp().cos(v),
            ("neg", ("apply", "sin", "x")),
            r"\cos'(x) = -\sin(x)",
            "np.cos({0})",
            "torch.cos({0})",
            "jnp.cos({0})",
            _interval(-1, 1),
            note_names=(r"\cos",),
        ),
    )
}

_GENERIC = re.compile(r"^(?:[a-zA-Z]|phi|varphi|psi)'*$")
_GENERIC_LATEX = {"phi": r"\phi", "varphi": r"\varphi", "psi": r"\psi"}
_DERIVED = re.compile(r"^([a-z]{2,})('+)$")


def function_spec(name: str) -> FunctionSpec:
    """The row for ``name``.

    Generic names (``f``, ``g'``, ``phi``) get a symbolic row; a concrete name with
    primes (``sigmoid'``) gets the row of that derivative, evaluated from the formula.

    Raises:
        KeyError: an unknown name; the message lists the known ones.
    """
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    if _GENERIC.match(name):
        return _generic_row(name)
    derived = _DERIVED.match(name)
    if derived and derived.group(1) in FUNCTIONS:
        return _derived_row(FUNCTIONS[derived.group(1)], len(derived.group(2)))
    raise KeyError(
        f"unknown element-wise function {name!r}; known: {', '.join(FUNCTIONS)}, "
        "or a single letter such as f for a generic function"
    )


def _generic_row(name: str) -> FunctionSpec:
    base = name.rstrip("'")
    primes = len(name) - len(base)

    def meaning(x):
        if not primes:
            return sympy.Function(name)(x)
        u = sympy.Dummy("u")
        return sympy.Derivative(sympy.Function(base)(u), (u, primes)).subs(u, x)

    return FunctionSpec(
        name,
        _GENERIC_LATEX.get(base, base) + "'" * primes,
        name,
        meaning,
        None,
        None,
        ("apply", name + "'", "x"),
        None,
        None,
        None,
        None,
        None,
        generic=True,
    )


def _derived_row(spec: FunctionSpec, order: int) -> FunctionSpec:
    """φ^(order) of a concrete φ: its numbers come from the derivative formula, differentiated."""
    name = spec.name + "'" * order
    value = "one" if spec.derivative is None else spec.derivative
    for _ in range(order - 1):
        value = differentiate(value, spec)

    def numbers(system):
        return lambda v: evaluate_formula(value, v, spec.name, system)

    u = sympy.Dummy("u")
    meaning = sympy.Lambda(u, sympy.diff(spec.sympy_fn(u), u, order))
    return FunctionSpec(
        name,
        spec.latex + "'" * order,
        spec.text + "′" * order,
        meaning,
        numbers("float64"),
        numbers("mpmath"),
        ("apply", name + "'", "x"),
        None,
        None,
        None,
        None,
        None,
    )


def differentiate(formula: Formula, spec: FunctionSpec) -> Formula:
    """d/dx of a formula in x and y = φ(x), with dy/dx = φ'(x) from ``spec``."""
    if formula in ("x",):
        return "one"
    if formula in ("zero", "one"):
        return "zero"
    if formula == "y":
        return "one" if spec.derivative is None else spec.derivative
    op, *args = formula
    if op == "apply":
        return ("mul", ("apply", args[0] + "'", args[1]), differentiate(args[1], spec))
    if op == "mul":
        a, b = args
        return ("add", ("mul", differentiate(a, spec), b), ("mul", a, differentiate(b, spec)))
    if op in ("add", "sub"):
        return (op, differentiate(args[0], spec), differentiate(args[1], spec))
    if op in ("one_minus", "neg"):
        return ("neg", differentiate(args[0], spec))
    raise ValueError(f"unknown formula op {op!r}")


def numeric(name: str, system: str) -> Callable:
    """φ as a callable in one number system: ``"float64"`` (arrays), ``"mpmath"`` or ``"sympy"``.

    Raises:
        KeyError: an unknown function.
        ValueError: a generic function (f, g) has no numbers: substitute one first.
    """
    spec = function_spec(name)
    fn = {"float64": spec.float64, "mpmath": spec.mpmath, "sympy": spec.sympy_fn}[system]
    if fn is None or (spec.generic and system != "sympy"):
        raise ValueError(f"the generic function {name} has no {system} value; substitute a concrete function")
    return fn


def evaluate_formula(formula: Formula, x, function: str, system: str | None = None, *, apply=None):
    """A derivative formula's value at x (y = φ(x) computed in the same system).

    Args:
        formula: a row's derivative formula (or None: the derivative is 1).
        x: the argument, in any number system with +, -, * and numbers.
        function: the row's name (what "y" applies).
        system: "float64", "mpmath" or "sympy", for :func:`numeric`; or None when ``apply`` is given.
        apply: ``apply(name, value)``, the caller's own way to apply a function by name.

    Raises:
        ValueError: an op the formula language lacks.
    """
    if apply is None:
        apply = lambda name, value: numeric(name, system)(value)  # noqa: E731
    if formula is None or formula == "one":
        return x * 0 + 1
    if formula == "x":
        return x
    if formula == "y":
        return apply(function, x)
    if formula == "zero":
        return x * 0
    op, *args = formula
    if op == "apply":
        return apply(args[0], evaluate_formula(args[1], x, function, apply=apply))
    values = [evaluate_formula(a, x, function, apply=apply) for a in args]
    if op == "mul":
        return values[0] * values[1]
    if op == "add":
        return values[0] + values[1]
    if op == "sub":
        return values[0] - values[1]
    if op == "one_minus":
        return 1 - values[0]
    if op == "neg":
        return -values[0]
    raise ValueError(f"unknown formula op {op!r}")


def note_names() -> dict[str, str]:
    """Every spelling notes use for a function, mapped to its IR name."""
    return {spelling: spec.name for spec in FUNCTIONS.values() for spelling in spec.note_names}

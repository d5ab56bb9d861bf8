"""Element-wise functions: one row each, with spelling, SymPy meaning and derivative.

A row's ``derivative(x, y)`` gives φ'(x) as an IR node written, where a textbook
does, in the forward value y = φ(x) (σ' = y ⊙ (1 − y), tanh' = 1 − y ⊙ y), or
``None`` when φ' = 1.  ``tests/test_functions.py`` checks every row against
SymPy's own derivative of ``sympy_fn``.

Names that are a single letter (``f``, ``g``) or ``phi``/``psi``, with optional
primes, are *generic* functions: their derivative stays symbolic as ``f'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy

from symrnn import ir


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    latex: str  # the operator's LaTeX spelling
    text: str  # its plain-text spelling
    numpy: str | None  # a format string over the argument, or None for generic functions
    sympy_fn: Callable[[sympy.Expr], sympy.Expr]
    derivative: Callable[[ir.Node, ir.Node], ir.Node | None]
    generic: bool = False


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("sigmoid", r"\sigma", "σ", "_sigmoid({0})", _sigmoid, lambda x, y: y * (1 - y)),
        FunctionSpec("tanh", r"\tanh", "tanh", "np.tanh({0})", sympy.tanh, lambda x, y: 1 - y * y),
        FunctionSpec("identity", r"\mathrm{id}", "id", "{0}", lambda x: x, lambda x, y: None),
        FunctionSpec(
            "relu",
            r"\mathrm{relu}",
            "relu",
            "np.maximum({0}, 0)",
            lambda x: sympy.Max(x, 0),
            lambda x, y: ir.apply("step", y),
        ),
        FunctionSpec(
            "step",
            r"\mathrm{step}",
            "step",
            "({0} > 0).astype({0}.dtype)",
            lambda x: sympy.Heaviside(x, 0),  # step(0) = 0 as in the NumPy code; SymPy's default is 1/2
            lambda x, y: ir.zeros(x.shape, x.batched),
        ),
        FunctionSpec("exp", r"\exp", "exp", "np.exp({0})", sympy.exp, lambda x, y: y),
        FunctionSpec("log", r"\log", "log", "np.log({0})", sympy.log, lambda x, y: ir.apply("reciprocal", x)),
        FunctionSpec(
            "reciprocal",
            r"\mathrm{recip}",
            "1/",
            "np.reciprocal({0})",
            lambda x: 1 / x,
            lambda x, y: -(y * y),
        ),
    )
}

_GENERIC = re.compile(r"^(?:[a-zA-Z]|phi|varphi|psi)'*$")


def function_spec(name: str) -> FunctionSpec:
    """The row for ``name``; generic single-letter names get a symbolic row."""
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    if _GENERIC.match(name):
        base = name.rstrip("'")
        primes = len(name) - len(base)
        latex_base = {"phi": r"\phi", "varphi": r"\varphi", "psi": r"\psi"}.get(base, base)
        return FunctionSpec(
            name,
            latex_base + "'" * primes,
            name,
            None,
            lambda x, _n=name: sympy.Function(_n)(x) if not primes else _generic_derivative(base, primes, x),
            lambda x, y, _n=name: ir.apply(_n + "'", x),
            generic=True,
        )
    raise KeyError(
        f"unknown element-wise function {name!r}; known: {', '.join(FUNCTIONS)}, "
        "or a single letter such as f for a generic function"
    )


def _generic_derivative(base: str, order: int, x: sympy.Expr) -> sympy.Expr:
    u = sympy.Dummy("u")
    return sympy.Derivative(sympy.Function(base)(u), (u, order)).subs(u, x)


def derivative(function: str, x: ir.Node, y: ir.Node) -> ir.Node | None:
    """φ'(x) as an IR node in terms of x and y = φ(x); None when it is 1."""
    return function_spec(function).derivative(x, y)

"""The checker's numbers, on the one evaluator (``symrnn.evaluate``): float64, or 40 digits to confirm.

A claim is evaluated in float64 and a difference is recomputed at 40 digits before it is
called wrong.  Both are ``symrnn.evaluate``'s arithmetics (:data:`~symrnn.evaluate.FLOAT64`,
:data:`~symrnn.evaluate.MPMATH`) and IR is evaluated by its :class:`~symrnn.evaluate.Evaluator`;
what the notes add is the substitution of unnamed functions (a note's f, g become sin,
sigmoid, …, with f' the substitute's derivative) and derivatives of any order of a named
function (σ', tanh''), evaluated from the function table's formulas in the same arithmetic
(so the 40-digit confirmation is 40 digits through φ' too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from symrnn import evaluate as one
from symrnn.evaluate import Unsupported
from symrnn.functions import FUNCTIONS, differentiate, evaluate_formula
from symrnn.ir import Node

DIGITS = one.DIGITS


class NoteArithmetic:
    """float64 (``precise=False``) or 40-digit mpmath, with the note's unnamed functions substituted.

    Args:
        precise: 40 digits (NumPy object arrays of mpmath numbers) instead of float64.
        functions: generic letter → the concrete function standing for it (f → "sin").
    """

    def __init__(self, precise: bool = False, functions: dict | None = None):
        self.precise = precise
        self.functions = dict(functions or {})
        self.base = one.MPMATH if precise else one.FLOAT64
        self._forms: dict[str, Callable | None] = {}
        # The evaluator's arithmetic: the base system, its functions looked up through ours.
        self.ir = dataclasses.replace(self.base, forms=self.form)

    def concrete(self, name: str) -> str:
        """An unnamed f (or f', f'') as the function substituted for it (with the same primes)."""
        base = name.rstrip("'")
        if base in self.functions:
            return self.functions[base] + name[len(base) :]
        return name

    def form(self, name: str) -> Callable | None:
        """φ by name (primes allowed) element-wise in this arithmetic, or None if it has none."""
        if name not in self._forms:
            self._forms[name] = self._make_form(self.concrete(name))
        return self._forms[name]

    def _make_form(self, name: str) -> Callable | None:
        base = name.rstrip("'")
        order = len(name) - len(base)
        if order == 0:
            return self.base.forms(base)
        spec = FUNCTIONS.get(base)
        if spec is None:
            return None
        formula = "one" if spec.derivative is None else spec.derivative
        for _ in range(order - 1):
            formula = differentiate(formula, spec)
        return lambda a: self._formula(formula, a, base)

    def _formula(self, formula, x, function: str):
        """A derivative formula of the function table at x, in this arithmetic."""
        try:
            return evaluate_formula(formula, x, function, apply=self.apply)
        except ValueError as error:
            if isinstance(error, Unsupported) or not str(error).startswith("unknown formula op"):
                raise
            raise Unsupported(f"unknown derivative formula: {error}") from error

    # ------------------------------------------------------------ arrays
    def array(self, values) -> np.ndarray:
        return self.base.array(values)

    def number(self, value):
        return self.base.number(value)

    def zeros(self, shape) -> np.ndarray:
        return self.base.zeros(shape)

    def apply(self, name: str, a: np.ndarray) -> np.ndarray:
        """φ(a) element-wise (Unsupported when φ has no numbers, e.g. an unsubstituted f)."""
        form = self.form(name)
        if form is None:
            raise Unsupported(f"no numeric meaning for the function {name}")
        return form(a)

    def softmax(self, a: np.ndarray) -> np.ndarray:
        """softmax of each column."""
        return self.base.softmax(a)

    def close(self, a, b) -> tuple[bool, float]:
        """Equal up to rounding, relative to the larger magnitude (1e-7 in float64, 1e-25 at 40 digits).

        Values of different shapes broadcast (a number beside a vector), as the notes write them.
        """
        a, b = np.asarray(a), np.asarray(b)
        diff = float(np.max(np.abs(a - b))) if a.size and b.size else 0.0
        scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0, 1e-3)
        return diff <= self.base.rtol * scale, diff / scale


def evaluate(node: Node, leaf, arith: NoteArithmetic, memo: dict | None = None) -> np.ndarray:
    """The value of an IR expression whose leaves are shared ``(rows, cols)`` values.

    Args:
        node: the expression (concrete int shapes).
        leaf: ``leaf(var) -> array`` for its ``var`` leaves.
        arith: the arithmetic.
        memo: values already computed (shared between calls on one set of leaves).
    """
    evaluator = one.Evaluator(arith.ir, {}, leaf)
    if memo is not None:
        evaluator.memo = memo
    return evaluator.value(node)


__all__ = ["DIGITS", "NoteArithmetic", "Unsupported", "evaluate"]

"""The one evaluator of the IR: a rule per op, pluggable arithmetic, one value layout, one BPTT driver.

**Layout.**  A batched value (an input, a state, a gate) is an array ``(batch, rows, cols)``;
a shared value (a parameter) keeps the shape of the math, ``(rows, cols)``.  Batch 1 is the
math of one example.  ``np.matmul`` broadcasts a shared matrix over the batch and works on
NumPy object arrays, so float64, 40-digit mpmath and exact SymPy numbers share one code path.

**Arithmetic.**  An :class:`Arithmetic` is a number system: how numbers and arrays are made,
the element-wise functions by name (:meth:`Arithmetic.function`, the one place they are looked
up), softmax, and how "equal" is decided.  :data:`FLOAT64`, :data:`MPMATH` (40 digits) and
:data:`EXACT` (SymPy) are the three; :func:`mpmath_arithmetic` gives other precisions.

**Rules.**  :data:`RULES` maps each op of ``symrnn.ir.OPS`` to one short rule
``rule(evaluator, node, *operand_values) -> value``.  An :class:`Evaluator` walks an expression
in post-order, memoised, and calls the rule of each node; a client with nodes of its own (the
gradient flow's ``diag``/``embed``/``select``) passes ``rules={**RULES, **its_rules}``.

**BPTT.**  :func:`run_forward` runs a derivation's forward equations over a :class:`Problem`
and returns a :class:`Tape`; :func:`run_backward` runs its δ recurrences over the tape, with
options for which steps' losses are differentiated, extra seeds on chosen values (rows of a
Jacobian) and upstream gradients given instead of a loss.

The package: ``arithmetic.py`` (the number systems), ``evaluator.py`` (the rules and the walk),
``driver.py`` (BPTT and the generated code's layout); every name is importable from here.
"""

from symrnn.evaluate.arithmetic import (
    ARITHMETICS,
    DIGITS,
    EXACT,
    FLOAT64,
    MPMATH,
    Arithmetic,
    Unsupported,
    mpmath_arithmetic,
)
from symrnn.evaluate.driver import (
    Gradients,
    Problem,
    Tape,
    grads_to_code,
    problem_from_code,
    run_backward,
    run_forward,
    stack_steps,
)
from symrnn.evaluate.evaluator import RULES, Evaluator, concrete_size, example_value, size_table

__all__ = [
    "ARITHMETICS",
    "DIGITS",
    "EXACT",
    "FLOAT64",
    "MPMATH",
    "RULES",
    "Arithmetic",
    "Evaluator",
    "Gradients",
    "Problem",
    "Tape",
    "Unsupported",
    "concrete_size",
    "example_value",
    "grads_to_code",
    "mpmath_arithmetic",
    "problem_from_code",
    "run_backward",
    "run_forward",
    "size_table",
    "stack_steps",
]
